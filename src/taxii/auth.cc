#include "taxii/auth.h"

#include <arpa/inet.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <mutex>
#include <optional>

#include "absl/container/flat_hash_map.h"

namespace cordon::taxii {
namespace {

void EnsureSodium() {
  static const int rc = sodium_init();
  (void)rc;  // < 0 only if the OS has no entropy source: randombytes would abort anyway
}

std::string Hex(const unsigned char* data, size_t n) {
  std::string out(n * 2, '\0');
  sodium_bin2hex(out.data(), out.size() + 1, data, n);
  return out;
}

std::string HashKey(std::string_view s) {
  unsigned char h[crypto_generichash_BYTES];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(s.data()), s.size(),
                     nullptr, 0);
  return Hex(h, sizeof h);
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if ((s[i] | 0x20) != (prefix[i] | 0x20)) return false;
  }
  return true;
}

Status Unauthenticated(const std::string& why) { return absl::UnauthenticatedError(why); }

// The unit a failed-login allowance belongs to: an IPv4 address, or the /64
// of an IPv6 address (one host usually holds a whole /64, so a per-address
// key would give it 2^64 allowances).
std::string ClientKey(std::string_view client) {
  std::string text(client);
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1 || IN6_IS_ADDR_V4MAPPED(&v6)) return text;
  std::memset(v6.s6_addr + 8, 0, 8);
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, &v6, buf, sizeof buf);
  return std::string(buf) + "/64";
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  EnsureSodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return absl::ResourceExhaustedError("out of memory while hashing the password");
  }
  return std::string(out);
}

std::string NewApiToken() {
  EnsureSodium();
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return std::string("cordon_") + b64;
}

std::string TokenHash(std::string_view token) {
  EnsureSodium();
  return HashKey(token);
}

struct Authenticator::Cache {
  using Clock = std::chrono::steady_clock;
  struct Bucket {
    double tokens = kFailedLoginBurst;
    Clock::time_point updated;
  };

  std::mutex mu;
  // hash of the Authorization header -> (user name, expiry)
  absl::flat_hash_map<std::string, std::pair<std::string, Clock::time_point>> verified;
  // client address -> failed Basic logins it may still make
  absl::flat_hash_map<std::string, Bucket> failures;

  static void Refill(Bucket& b, Clock::time_point now) {
    double seconds = std::chrono::duration<double>(now - b.updated).count();
    b.tokens = std::min<double>(kFailedLoginBurst, b.tokens + seconds / kFailedLoginRefillSeconds);
    b.updated = now;
  }

  // The bucket of `client`, refilled up to `now`. Requires mu.
  Bucket& Refilled(std::string_view client, Clock::time_point now) {
    if (failures.size() >= kMaxTrackedClients) {
      // Bound memory: a full bucket is the same as none, so those go first;
      // only if every tracked client is still throttled is the table reset.
      absl::erase_if(failures, [now](auto& entry) {
        Refill(entry.second, now);
        return entry.second.tokens >= kFailedLoginBurst;
      });
      if (failures.size() >= kMaxTrackedClients) failures.clear();
    }
    auto [it, inserted] = failures.try_emplace(ClientKey(client));
    Bucket& b = it->second;
    if (inserted) b.updated = now;
    Refill(b, now);
    return b;
  }

  static constexpr size_t kMaxTrackedClients = 100000;
};


Authenticator::Authenticator(store::Store& store) : store_(store), cache_(std::make_unique<Cache>()) {
  EnsureSodium();
}
Authenticator::~Authenticator() = default;

// What an unknown user's password is checked against (see the header); made
// on first use, not at start-up (it costs one Argon2 hash).
const std::string& Authenticator::DummyHash() {
  std::call_once(dummy_once_, [this] {
    auto dummy = HashPassword("cordon: no such user");
    if (dummy.ok()) dummy_hash_ = *std::move(dummy);
  });
  return dummy_hash_;
}

Result<store::User> Authenticator::Authenticate(std::string_view authorization, std::string_view client) {
  if (authorization.empty()) return Unauthenticated("authentication required (HTTP Basic or Bearer token)");
  const auto now = std::chrono::steady_clock::now();
  const std::string key = HashKey(authorization);
  std::optional<std::string> cached_name;
  {
    std::lock_guard lock(cache_->mu);
    auto it = cache_->verified.find(key);
    if (it != cache_->verified.end()) {
      if (it->second.second > now) {
        cached_name = it->second.first;
      } else {
        cache_->verified.erase(it);
      }
    }
  }
  if (cached_name) {
    // The user is re-read on every request (outside the lock: the io threads
    // must not queue behind one another's store reads), so a changed
    // permission or a removed user takes effect at once.
    auto user = store_.GetUser(*cached_name);
    if (user.ok()) return user;
    if (!absl::IsNotFound(user.status())) return user.status();
    std::lock_guard lock(cache_->mu);
    cache_->verified.erase(key);
  }

  std::string user_name;
  if (StartsWithNoCase(authorization, "Bearer ")) {
    std::string_view token = authorization.substr(7);
    auto t = store_.GetTokenByHash(TokenHash(token));
    if (!t.ok()) {
      if (absl::IsNotFound(t.status())) return Unauthenticated("unknown API token");
      return t.status();
    }
    user_name = t->user;
  } else if (StartsWithNoCase(authorization, "Basic ")) {
    std::string_view b64 = authorization.substr(6);
    std::string decoded(b64.size(), '\0');
    size_t len = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(decoded.data()), decoded.size(),
                          b64.data(), b64.size(), nullptr, &len, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
      return Unauthenticated("malformed Basic credentials (not base64)");
    }
    decoded.resize(len);
    size_t colon = decoded.find(':');
    if (colon == std::string::npos) return Unauthenticated("malformed Basic credentials (no ':')");
    user_name = decoded.substr(0, colon);
    std::string password = decoded.substr(colon + 1);
    {
      std::lock_guard lock(cache_->mu);
      const Cache::Bucket& b = cache_->Refilled(client, now);
      if (b.tokens < 1) {
        int wait = static_cast<int>(std::ceil((1 - b.tokens) * kFailedLoginRefillSeconds));
        return absl::ResourceExhaustedError("too many failed logins from this address; retry in " +
                                            std::to_string(std::max(wait, 1)) + " s");
      }
    }
    auto user = store_.GetUser(user_name);
    if (!user.ok() && !absl::IsNotFound(user.status())) return user.status();
    // An unknown user, or one without a password (tokens only), is checked
    // against a dummy hash: the same cost, and the same message, as a wrong
    // password.
    const bool has_password = user.ok() && !user->password_hash.empty();
    const std::string& hash = has_password ? user->password_hash : DummyHash();
    const bool matches = crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
    if (!has_password || !matches) {
      std::lock_guard lock(cache_->mu);
      Cache::Bucket& b = cache_->Refilled(client, Cache::Clock::now());
      b.tokens = std::max(0.0, b.tokens - 1);
      return Unauthenticated("wrong user name or password");
    }
  } else {
    return Unauthenticated("unsupported authorization scheme (use Basic or Bearer)");
  }

  auto user = store_.GetUser(user_name);
  if (!user.ok()) {
    if (absl::IsNotFound(user.status())) return Unauthenticated("the token's user no longer exists");
    return user.status();
  }
  std::lock_guard lock(cache_->mu);
  if (cache_->verified.size() > 100000) cache_->verified.clear();  // bound memory
  cache_->verified[key] = {user_name, now + std::chrono::seconds(kCredentialCacheSeconds)};
  return user;
}

}  // namespace cordon::taxii
