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

uint64_t ObservedFieldBit(std::string_view type, std::string_view property) {
  ObservedField f = ObservedField::kOther;
  if (property == "value") {
    if (type == "domain-name") f = ObservedField::kDomainNameValue;
    else if (type == "url") f = ObservedField::kUrlValue;
    else if (type == "email-addr") f = ObservedField::kEmailAddrValue;
    else if (type == "ipv4-addr") f = ObservedField::kIpv4AddrValue;
    else if (type == "ipv6-addr") f = ObservedField::kIpv6AddrValue;
    else if (type == "x-ja3") f = ObservedField::kJa3Value;
    else if (type == "x-ja3s") f = ObservedField::kJa3sValue;
  } else if (type == "file") {
    if (property == "hashes") f = ObservedField::kFileHashes;
  } else if (type == "x509-certificate") {
    if (property == "hashes") f = ObservedField::kX509Hashes;
    else if (property == "serial_number") f = ObservedField::kX509SerialNumber;
  } else if (type == "network-traffic") {
    if (property == "src_ref") f = ObservedField::kTrafficSrcRef;
    else if (property == "dst_ref") f = ObservedField::kTrafficDstRef;
    else if (property == "src_port") f = ObservedField::kTrafficSrcPort;
    else if (property == "dst_port") f = ObservedField::kTrafficDstPort;
    else if (property == "protocols") f = ObservedField::kTrafficProtocols;
  }
  return Bit(f);
}

}  // namespace cordon::match
