// Fuzz target: TAXII request parsing (request target: path segments, query
// and percent-decoding; the objects filters; Accept and Content-Type media
// types), what an unauthenticated client controls before anything else runs.
// Contract under test: parsed or an InvalidArgument, never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "taxii/request.h"

using namespace cordon;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)taxii::AcceptsTaxii(input);
  (void)taxii::IsTaxiiContentType(input);
  auto target = taxii::ParseTarget(input);
  if (!target.ok()) return 0;
  (void)taxii::ParseFilters(target->query, taxii::AllowedFilters{});
  (void)taxii::ParseFilters(target->query, taxii::AllowedFilters{.id = false, .version = false});
  return 0;
}
