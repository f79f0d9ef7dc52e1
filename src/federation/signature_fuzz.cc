// Fuzz target: signed provenance, what a partner's objects go through on
// arrival. Contracts: Verify answers for any bytes (never a crash); an object
// Sign accepts verifies under the signing key and not under another one;
// base64 round-trips any bytes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "federation/signature.h"

using namespace cordon;

namespace {

void Check(bool ok, const char* what, std::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "contract broken: %s\ninput: %.*s\n", what, int(input.size()), input.data());
  std::abort();
}

// Integers of 20+ digits: simdjson's DOM refuses those beyond 2^64, so a
// canonical form holding one cannot be read back (the known limit jcs_fuzz
// documents); Sign may still write it.
bool HasLongInteger(std::string_view s) {
  size_t run = 0;
  for (char c : s) {
    run = c >= '0' && c <= '9' ? run + 1 : 0;
    if (run >= 20) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const federation::KeyPair key = federation::GenerateKeyPair();
  static const federation::KeyPair other = federation::GenerateKeyPair();
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  (void)federation::Verify(input, key.public_key);
  (void)federation::Verify(input, std::string_view(input.data(), input.size() / 2));  // a key from the input

  auto signed_object = federation::Sign(input, key, "identity--8c6af861-7b20-41ef-9b59-6344fd872a8c");
  if (signed_object.ok() && !HasLongInteger(*signed_object)) {
    Check(federation::Verify(*signed_object, key.public_key).ok(), "a signed object does not verify", input);
    Check(!federation::Verify(*signed_object, other.public_key).ok(), "a signed object verifies under another key",
          input);
  }

  auto decoded = federation::FromBase64(federation::Base64(input));
  Check(decoded.ok() && *decoded == input, "base64 does not round-trip", input);
  return 0;
}
