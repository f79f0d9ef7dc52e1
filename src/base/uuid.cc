#include "base/uuid.h"

#include <openssl/evp.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>

namespace cordon {

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

int UuidVersion(std::string_view s) {
  char c = s[14];
  return c >= '0' && c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

namespace {

std::string Format(const uint8_t* b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 0xF];
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return (c | 0x20) - 'a' + 10;
}

}  // namespace

std::string NewUuid5(std::string_view namespace_uuid, std::string_view name) {
  uint8_t ns[16] = {};
  for (size_t i = 0, k = 0; i + 1 < namespace_uuid.size() && k < 16; ++i) {
    if (namespace_uuid[i] == '-') continue;
    ns[k++] = static_cast<uint8_t>(HexValue(namespace_uuid[i]) << 4 | HexValue(namespace_uuid[i + 1]));
    ++i;
  }
  // SHA-1 fetched once and a context per thread: OpenSSL 3's one-shot SHA1()
  // fetches the algorithm on every call, which costs more than hashing a
  // name (bulk imports make a million of these).
  static EVP_MD* const sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  thread_local const std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!sha1 || !ctx || !EVP_DigestInit_ex2(ctx.get(), sha1, nullptr) ||
      !EVP_DigestUpdate(ctx.get(), ns, sizeof ns) || !EVP_DigestUpdate(ctx.get(), name.data(), name.size()) ||
      !EVP_DigestFinal_ex(ctx.get(), digest, &size)) {
    std::abort();  // no SHA-1 in this OpenSSL: ids cannot be derived at all
  }
  digest[6] = (digest[6] & 0x0F) | 0x50;
  digest[8] = (digest[8] & 0x3F) | 0x80;
  return Format(digest);
}

std::string NewUuid4() {
  thread_local std::random_device rd;  // reads the OS CSPRNG
  uint8_t b[16];
  for (int i = 0; i < 16; i += 4) {
    uint32_t r = rd();
    for (int j = 0; j < 4; ++j) b[i + j] = static_cast<uint8_t>(r >> (8 * j));
  }
  b[6] = (b[6] & 0x0F) | 0x40;
  b[8] = (b[8] & 0x3F) | 0x80;
  return Format(b);
}

}  // namespace cordon
