// Internal to src/events: what every decoder shares — turning field values into
// normalised keys of one Event (with buffers reused across records), the
// record's observed-data (rendered from those keys on demand), and log time
// formats.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "base/time.h"
#include "match/event.h"

namespace cordon::events {

enum class Side : uint8_t { kNone, kSrc, kDst };

// Collects the keys of one record into an Event. Normalised texts live in
// slots whose capacity is kept from record to record (a deque, so views into
// earlier slots survive adding later ones).
class RecordBuilder final : public match::ObservedBuilder {
 public:
  // Clears the event's keys and points its `observed` at this builder.
  void Begin(match::Event* event);

  // A DNS name (query, SNI, Host header without port). Invalid names give no key.
  void AddDomain(std::string_view text, std::string_view field);
  // An address; kSrc/kDst also make it the network-traffic's src_ref/dst_ref.
  void AddIp(std::string_view text, std::string_view field, Side side = Side::kNone);
  // A value that is either an address or a name (DNS answers, HTTP Host,
  // plain lines): "[v6]" brackets and a ":port" suffix on names and v4 are dropped.
  void AddHost(std::string_view text, std::string_view field);
  void AddPort(uint64_t port, std::string_view field, Side side);
  // The transport protocol for network-traffic ("tcp", "udp", "icmp"; any case).
  void SetProtocol(std::string_view proto);
  // An HTTP request: `target` is the URI as sent (origin form "/path?q" or an
  // absolute URL), `host` the Host header (may carry a port; it is what the
  // client used, so the connection's port is not added).
  void AddHttpUrl(std::string_view host, std::string_view target, std::string_view field);
  // A full URL as written.
  void AddUrl(std::string_view text, std::string_view field);
  // An e-mail address, bare ("a@b.example", "<a@b.example>") or as a header
  // writes it ("Name" <a@b.example>): the address between the last angle
  // brackets. Invalid addresses give no key.
  void AddEmail(std::string_view text, std::string_view field);
  // A hex digest: separators ':' and ' ' dropped, lowercased; wrong length or
  // a non-hex digit gives no key. For kX509Serial any even or odd length.
  void AddHex(match::KeyType type, std::string_view text, std::string_view field);

  // match::ObservedBuilder: one observed-data (first = last = the record's
  // time, number_observed 1) referencing one SCO per key.
  Result<pattern::ObservationSet> BuildObserved(pattern::Version version) const override;
  uint64_t ObservedFields() const override;

 private:
  std::string& NextSlot();
  void AddKey(match::KeyType type, std::string_view text, std::string_view field);

  match::Event* event_ = nullptr;
  std::deque<std::string> slots_;
  size_t used_ = 0;
  int src_key_ = -1, dst_key_ = -1;
  uint32_t src_port_ = 0, dst_port_ = 0;
  char proto_[8] = {};
  std::string scratch_;
};

// Zeek "ts": epoch seconds with an optional fraction ("1521911720.865716").
// Also used for certificate dates in older Zeek JSON.
std::optional<Timestamp> ParseEpochSeconds(std::string_view text);
// ISO 8601 / RFC 3339 with "Z" or a numeric offset ("+0200", "+02:00"), as in
// EVE "timestamp" and Zeek JSON with ISO timestamps.
std::optional<Timestamp> ParseIsoTime(std::string_view text);

}  // namespace cordon::events
