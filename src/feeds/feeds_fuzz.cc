// Fuzz target: the feed parsers (plain lists, hosts files, netsets, CSV with
// a column mapping, MISP event JSON). Input for CSV: a first line with the
// --columns mapping, then the CSV text. Contract under test: parsed items and
// rejections, or an error; never a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "feeds/misp.h"
#include "feeds/parsers.h"

using namespace cordon;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)feeds::ParsePlain(input);
  (void)feeds::ParseHosts(input);
  (void)feeds::ParseNetset(input);
  (void)feeds::ParseMispEvents(input, feeds::MispOptions{});
  (void)feeds::ParseMispEvents(input, feeds::MispOptions{.include_restricted = true});
  size_t nl = input.find('\n');
  if (nl == std::string_view::npos) return 0;
  feeds::CsvOptions options;
  options.columns = std::string(input.substr(0, nl));
  std::string_view text = input.substr(nl + 1);
  (void)feeds::ParseCsv(text, options);
  options.header = true;
  options.delimiter = '\t';
  (void)feeds::ParseCsv(text, options);
  return 0;
}
