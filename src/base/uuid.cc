#include "base/uuid.h"

#include <openssl/sha.h>

#include <cstdint>
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
  std::string input;
  input.reserve(16 + name.size());
  for (size_t i = 0; i < namespace_uuid.size(); ++i) {
    if (namespace_uuid[i] == '-') continue;
    input += static_cast<char>(HexValue(namespace_uuid[i]) << 4 | HexValue(namespace_uuid[i + 1]));
    ++i;
  }
  input.append(name);
  uint8_t digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const uint8_t*>(input.data()), input.size(), digest);
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
