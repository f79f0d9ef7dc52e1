// Fuzz target: the STIX pattern parser (2.0 and 2.1 grammars), and the
// evaluator on observed data. Input: a pattern, optionally followed by a line
// break and observed data as JSON (pattern::LoadObserved's input).
// Contract under test: any text gives a Pattern or an error; never a crash,
// a hang, or an error while evaluating a pattern the parser accepted that is
// not one of Evaluate's documented error kinds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pattern/evaluator.h"
#include "pattern/pattern.h"

using namespace cordon;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nl = input.find('\n');
  std::string_view text = input.substr(0, nl);
  std::string_view observed = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  for (pattern::Version v : {pattern::Version::k21, pattern::Version::k20}) {
    auto parsed = pattern::Parse(text, v);
    if (!parsed.ok()) continue;
    (void)pattern::ValidateSemantics(*parsed);
    if (observed.empty()) continue;
    auto set = pattern::LoadObserved(observed, v);
    if (set.ok()) (void)pattern::Evaluate(*parsed, *set);
  }
  return 0;
}
