#include "match/event.h"

namespace cordon::match {

std::string_view KeyTypeName(KeyType t) {
  switch (t) {
    case KeyType::kDomain: return "domain";
    case KeyType::kIp: return "ip";
    case KeyType::kUrl: return "url";
    case KeyType::kEmail: return "email";
    case KeyType::kMd5: return "md5";
    case KeyType::kSha1: return "sha1";
    case KeyType::kSha256: return "sha256";
    case KeyType::kSha512: return "sha512";
    case KeyType::kJa3: return "ja3";
    case KeyType::kJa3s: return "ja3s";
    case KeyType::kX509Sha1: return "x509-sha1";
    case KeyType::kX509Serial: return "x509-serial";
    case KeyType::kPort: return "port";
    case KeyType::kCount: break;
  }
  return "unknown";
}

}  // namespace cordon::match
