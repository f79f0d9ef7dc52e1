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

uint64_t ObjectTypeBit(std::string_view t) {
  if (t == "domain-name") return Bit(ObjectType::kDomainName);
  if (t == "url") return Bit(ObjectType::kUrl);
  if (t == "email-addr") return Bit(ObjectType::kEmailAddr);
  if (t == "ipv4-addr") return Bit(ObjectType::kIpv4Addr);
  if (t == "ipv6-addr") return Bit(ObjectType::kIpv6Addr);
  if (t == "file") return Bit(ObjectType::kFile);
  if (t == "x509-certificate") return Bit(ObjectType::kX509Certificate);
  if (t == "network-traffic") return Bit(ObjectType::kNetworkTraffic);
  return Bit(ObjectType::kOther);
}

}  // namespace cordon::match
