// Fuzz target: the log decoders (Zeek TSV and JSON, Suricata EVE, plain
// lines) and the observed data they build for full pattern evaluation. Input:
// a first byte choosing the format, then log lines. Contract under test
// (events/decoder.h): every line is an event, skipped or malformed, never a
// crash or a read outside the line and its padding; an event's observed data
// builds, and a pattern following its refs evaluates on it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "events/decoder.h"
#include "pattern/evaluator.h"
#include "pattern/pattern.h"

using namespace cordon;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const events::Format formats[] = {events::Format::kZeek, events::Format::kEve, events::Format::kLines};
  auto decoder = events::Decoder::Create(formats[data[0] % 3]);
  decoder->BeginSource("fuzz");
  // Like LineReader: the lines sit in one buffer with zeroed padding after the
  // last byte (a decoder may read kJsonPadding bytes past a line's end).
  std::vector<char> buf(data + 1, data + size);
  const size_t n = buf.size();
  buf.resize(n + events::kJsonPadding, 0);
  std::string_view rest(buf.data(), n);
  match::Event event;
  static const pattern::Pattern kPattern = *pattern::Parse(
      "[network-traffic:dst_ref.value = '192.0.2.1' OR network-traffic:src_ref.value ISSUBSET '10.0.0.0/8' OR "
      "file:hashes.MD5 = 'x' OR x509-certificate:serial_number LIKE '0%' OR domain-name:value = 'a']",
      pattern::Version::k21);
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    if (decoder->Decode(line, &event) != events::LineKind::kEvent || event.observed == nullptr) continue;
    auto set = event.observed->BuildObserved(pattern::Version::k21);
    auto result = set.ok() ? pattern::Evaluate(kPattern, *set) : Result<pattern::MatchResult>(set.status());
    if (result.ok()) continue;
    std::fprintf(stderr, "observed data of line '%.*s' does not evaluate: %s\n", int(line.size()), line.data(),
                 std::string(result.status().message()).c_str());
    std::abort();
  }
  return 0;
}
