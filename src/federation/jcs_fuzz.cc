// Fuzz target: RFC 8785 canonicalization, the bytes every signature between
// partners covers. Contract under test: any input is canonicalized or refused
// with an error, never a crash; canonicalizing a canonical form changes
// nothing (else a signature made here would not verify there); numbers print
// as ECMAScript does and read back to the same double.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "federation/jcs.h"

using namespace cordon;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto once = federation::Canonicalize(input);
  // Known limit, not checked: simdjson's DOM refuses integers beyond 2^64 written
  // without an exponent, and ECMAScript prints doubles below 1e21 that way
  // (1.5e20 -> "150000000000000000000"), so such a canonical form cannot be read
  // back here (tests/fuzz/jcs_fuzz/big-integer-form documents it).
  auto has_long_integer = [](std::string_view s) {
    size_t run = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      run = s[i] >= '0' && s[i] <= '9' ? run + 1 : 0;
      if (run >= 20) return true;
    }
    return false;
  };
  if (once.ok() && !has_long_integer(*once)) {
    auto twice = federation::Canonicalize(*once);
    if (!twice.ok() || *twice != *once) {
      std::fprintf(stderr, "not stable:\n  once:  %s\n  twice: %s\n", once->c_str(),
                   twice.ok() ? twice->c_str() : std::string(twice.status().message()).c_str());
      std::abort();
    }
  }
  bool had = false;
  (void)federation::CanonicalizeWithout(input, "extension-definition--x", &had);
  if (size == sizeof(double)) {
    double d;
    std::memcpy(&d, data, sizeof d);
    if (d == d && d - d == 0) {  // finite
      std::string text = federation::FormatEs6Number(d);
      if (std::strtod(text.c_str(), nullptr) != d) {
        std::fprintf(stderr, "%s does not read back as %.17g\n", text.c_str(), d);
        std::abort();
      }
    }
  }
  return 0;
}
