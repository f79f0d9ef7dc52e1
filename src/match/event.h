// The contract between event decoders (src/events) and the matcher (src/match):
// a decoded log record offers typed, already normalised lookup keys, and can
// build its full STIX observed-data on demand for patterns the index cannot
// decide alone.
//
// Keys are normalised exactly as indicator values are when the index is built
// (src/normalize), so matching is a byte comparison: domains lowercase A-labels
// without the trailing dot, URLs normalised, hashes lowercase hex, IPs as 16
// bytes (IPv4 as IPv4-mapped IPv6, ::ffff:a.b.c.d).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "normalize/normalize.h"
#include "pattern/evaluator.h"

namespace cordon::match {

// The STIX property each key stands for. The comment names the object path an
// indicator compares to match it.
enum class KeyType : uint8_t {
  kDomain,       // domain-name:value (also the host of a URL, a TLS SNI, an HTTP Host)
  kIp,           // ipv4-addr:value / ipv6-addr:value (also network-traffic src/dst refs)
  kUrl,          // url:value
  kEmail,        // email-addr:value
  kMd5,          // file:hashes.MD5
  kSha1,         // file:hashes.'SHA-1'
  kSha256,       // file:hashes.'SHA-256'
  kSha512,       // file:hashes.'SHA-512'
  kJa3,          // ja3 fingerprint, lowercase hex (x-ja3:value, or any path ending in .ja3)
  kJa3s,         // ja3s fingerprint
  kX509Sha1,     // x509-certificate:hashes.'SHA-1'
  kX509Serial,   // x509-certificate:serial_number (ASCII-lowercased as written, e.g. "0a:ff")
  kPort,         // network-traffic:dst_port / src_port (number in `number`)
  kCount,        // number of key types
};

// Lowercase name for logs and alerts ("domain", "ip", "url", ...).
std::string_view KeyTypeName(KeyType t);

// 16 bytes, network order; IPv4 as ::ffff:a.b.c.d (normalize::Ip builds it).
using IpAddress = normalize::IpAddress;

struct Key {
  KeyType type = KeyType::kDomain;
  std::string_view text;  // normalised value (not for kIp / kPort); points into the decoder's buffers
  IpAddress ip;           // kIp
  uint32_t number = 0;    // kPort
  // Where the value came from in the record, for alerts ("query", "id.resp_h", "tls.sni").
  std::string_view field;
};

// The (SCO type, top-level property) pairs a log record's observed data can
// hold, as bits of a mask (ObservedFieldBit), and one bit for every other pair.
enum class ObservedField : uint8_t {
  kDomainNameValue, kUrlValue, kEmailAddrValue, kIpv4AddrValue, kIpv6AddrValue, kFileHashes, kX509Hashes,
  kX509SerialNumber, kTrafficSrcRef, kTrafficDstRef, kTrafficSrcPort, kTrafficDstPort, kTrafficProtocols,
  kJa3Value, kJa3sValue, kOther
};
inline constexpr uint64_t Bit(ObservedField f) { return uint64_t(1) << int(f); }
inline constexpr uint64_t kAnyObservedField = ~uint64_t(0);
// ("domain-name", "value") -> Bit(kDomainNameValue), ...; any other pair -> Bit(kOther).
uint64_t ObservedFieldBit(std::string_view type, std::string_view property);

// Builds the STIX observed data of one record (pattern::ObservationSet) only
// when a candidate pattern needs full evaluation. Valid only while the Event
// that points to it is.
class ObservedBuilder {
 public:
  virtual ~ObservedBuilder() = default;
  virtual Result<pattern::ObservationSet> BuildObserved(pattern::Version version) const = 0;
  // At least the bits of every (SCO type, top-level property) that
  // BuildObserved would render, for much less: a pattern that needs none
  // of them is not evaluated (a comparison is false without an object of its
  // type holding its property). Default: all bits.
  virtual uint64_t ObservedFields() const { return kAnyObservedField; }
};

// One decoded record. Decoders reuse one Event (clear keys, keep capacity), so
// the hot path allocates nothing per record.
struct Event {
  Timestamp time;                // the record's own time (ts / timestamp)
  std::vector<Key> keys;
  const ObservedBuilder* observed = nullptr;  // may be null: then only index-decidable patterns match
  std::string_view source;       // file name (or "-")
  uint64_t line = 0;             // 1-based line number in `source`
};

}  // namespace cordon::match
