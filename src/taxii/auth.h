// Authentication of TAXII requests: HTTP Basic (Argon2id password hashes,
// libsodium crypto_pwhash_str) and bearer API tokens (stored as BLAKE2b hashes).
//
// Thread-safe. Argon2 is deliberately slow (~0.1 s, 64 MiB), so a successful
// Basic credential is remembered (by a hash of the header, never the password)
// for kCredentialCacheSeconds; the user's permissions are re-read from the store
// on every request, so revoking access takes effect at once.
//
// Failed Basic logins are throttled per client (an IPv4 address or an IPv6
// /64; a token bucket of kFailedLoginBurst, one more every
// kFailedLoginRefillSeconds): beyond it a Basic attempt from that client is
// refused with ResourceExhausted (HTTP 429) before any Argon2 work, which bounds password guessing and the CPU a client
// can make the server burn. Bearer tokens (256 random bits) are not throttled.
// An unknown user costs one Argon2 verification like a wrong password, so the
// answer's timing does not tell which user names exist.
#pragma once

#include <memory>
#include <mutex>
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
  static constexpr int kFailedLoginBurst = 10;
  static constexpr int kFailedLoginRefillSeconds = 6;

  explicit Authenticator(store::Store& store);
  ~Authenticator();

  // The user an Authorization header value ("Basic ..." or "Bearer ...")
  // proves, for a request from `client` (its address; "" if unknown).
  // Unauthenticated (with the reason) when it is missing, malformed or wrong;
  // ResourceExhausted when `client` has used up its failed Basic logins (the
  // message says when to retry); other errors come from the store.
  Result<store::User> Authenticate(std::string_view authorization, std::string_view client = "");

 private:
  struct Cache;
  store::Store& store_;
  std::unique_ptr<Cache> cache_;
  const std::string& DummyHash();

  std::once_flag dummy_once_;
  std::string dummy_hash_;  // Argon2 hash nobody's password matches
};

}  // namespace cordon::taxii
