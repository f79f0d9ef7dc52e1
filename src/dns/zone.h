// A DNS zone as cordon hands it to secondaries by zone transfer: the SOA and
// records whose data is one domain name (NS, CNAME) — everything an RPZ zone
// holds. Parsed from the restricted master-file form the RPZ export writes, so
// the file and the transferred zone are the same zone by construction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cordon::dns {

inline constexpr uint16_t kTypeNs = 2;
inline constexpr uint16_t kTypeCname = 5;
inline constexpr uint16_t kTypeSoa = 6;
inline constexpr uint16_t kTypeIxfr = 251;
inline constexpr uint16_t kTypeAxfr = 252;

struct Soa {
  std::string mname = "localhost.";  // absolute names, with the trailing dot
  std::string rname = "hostmaster.localhost.";
  uint32_t serial = 0;
  uint32_t refresh = 3600, retry = 600, expire = 86400, minimum = 60;
};

// A record whose RDATA is one domain name.
struct Record {
  std::string owner;  // relative to the zone's origin; "" is the apex
  uint16_t type = kTypeCname;
  std::string target;  // absolute, with the trailing dot ("." is the root)
  bool operator==(const Record&) const = default;
};

struct Zone {
  uint32_t ttl = 60;  // of every record, the SOA included
  Soa soa;
  std::vector<Record> records;  // the apex NS included, the SOA not
};

// Parses the master-file subset the RPZ export writes: blank lines, comments
// (';' to the end of the line), "$TTL n", and "owner [IN] TYPE data" with
// TYPE one of SOA (apex only: mname rname serial refresh retry expire minimum),
// NS or CNAME (data: an absolute name). Owners are relative ("@" is the apex);
// labels are 1-63 bytes. Exactly one SOA. An error names the line and why.
Result<Zone> ParseZoneText(std::string_view text);

}  // namespace cordon::dns
