// Fuzz target: bundle/envelope splitting and object validation, the first
// code every byte a client POSTs reaches. Contract under test: any input is
// split or rejected with an error, and every split object validates or gets
// problems; never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "stix/bundle.h"
#include "stix/object.h"

using namespace cordon;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)stix::ValidateObject(input);
  (void)stix::ValidateObject(input, stix::DefaultVersion::k20);
  auto list = stix::SplitObjects(input);
  if (list.ok())
    for (std::string_view object : list->objects) (void)stix::ValidateObject(object);
  return 0;
}
