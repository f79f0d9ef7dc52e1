// Authentication of TAXII requests: HTTP Basic (Argon2id password hashes,
// libsodium crypto_pwhash_str) and bearer API tokens (stored as BLAKE2b hashes).
//
// Thread-safe. Argon2 is deliberately slow (~0.1 s, 64 MiB), so a successful
// Basic credential is remembered (by a hash of the header, never the password)
// for kCredentialCacheSeconds; the user's permissions are re-read from the store
// on every request, so revoking access takes effect at once.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "store/store.h"

namespace cordon::taxii {

// Argon2id hash (libsodium's crypto_pwhash_str format) of `password`.
Result<std::string> HashPassword(std::string_view password);

// A new random API token ("cordon_" + 43 base64url characters, 256 bits).
std::string NewApiToken();

// The hex BLAKE2b-256 hash under which a token is stored.
std::string TokenHash(std::string_view token);

class Authenticator {
 public:
  static constexpr int kCredentialCacheSeconds = 300;

  explicit Authenticator(store::Store& store);
  ~Authenticator();

  // The user an Authorization header value ("Basic ..." or "Bearer ...")
  // proves. Unauthenticated (with the reason) when it is missing, malformed or
  // wrong; other errors come from the store.
  Result<store::User> Authenticate(std::string_view authorization);

 private:
  struct Cache;
  store::Store& store_;
  std::unique_ptr<Cache> cache_;
};

}  // namespace cordon::taxii
