// Serves one zone to DNS secondaries (Unbound, BIND, Knot, PowerDNS) by zone
// transfer: SOA queries over UDP and TCP, AXFR (RFC 5936) and IXFR (RFC 1995)
// over TCP, and NOTIFY (RFC 1996) to the secondaries after each change.
//
// Why: a resolver that reloads a 1,000,000-entry RPZ file re-reads all of it
// (a minute for Unbound); over IXFR it applies only the records that changed,
// so one new decision costs a few records, not a reload.
//
// Each Publish keeps the difference from the zone served before (the
// journal); a secondary that asks IXFR from a serial the journal covers gets
// the differences, one older than that the whole zone. The journal holds at
// most as many records as the zone (beyond that a full transfer is cheaper) and
// lives in memory: after a restart secondaries get one full transfer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "dns/zone.h"

namespace cordon::dns {

struct XfrOptions {
  std::string origin;  // the zone's name, e.g. "rpz.local"
  // "ADDRESS:PORT" ("[::1]:5300" for IPv6); port 0 picks a free one (see port()).
  std::string listen = "127.0.0.1:5300";
  // Secondaries sent a NOTIFY after each Publish ("ADDRESS:PORT"); their
  // addresses may also transfer the zone.
  std::vector<std::string> notify;
  // Further addresses allowed to transfer the zone. Loopback always is; others
  // get REFUSED (the zone names every blocked value). SOA queries are answered
  // for anyone.
  std::vector<std::string> allow;
  // A TCP connection waiting this long for a query, or for its reader to take
  // one message, is closed (RFC 7766 asks servers to bound idle connections).
  std::chrono::milliseconds idle_timeout{30'000};
  // Where failures of NOTIFY or of a transfer connection are reported (may be empty).
  std::function<void(const std::string&)> log;
};

class XfrServer {
 public:
  // Binds UDP and TCP on options.listen and starts serving (no zone yet:
  // queries get SERVFAIL until the first Publish).
  static Result<std::unique_ptr<XfrServer>> Start(XfrOptions options);
  ~XfrServer();

  // Serves `zone` from now on and records its difference from the zone served
  // until now; then sends NOTIFY to the secondaries (without waiting for their
  // answers). An error (nothing changes) when the serial does not move forward
  // or a name is too long under the origin. Thread-safe.
  Status Publish(Zone zone);

  bool has_zone() const;
  uint32_t serial() const;  // of the zone served; 0 before the first Publish
  uint16_t port() const;

  // The response messages to one query message (without TCP's length prefix),
  // as the transport sends them; empty = no answer (not a query). `tcp`: the
  // query came over TCP (AXFR and a multi-message IXFR need it); `peer_address`
  // decides whether a transfer is allowed.
  std::vector<std::string> Answer(std::string_view query, bool tcp, std::string_view peer_address) const;

 struct State;  // defined in xfr_server.cc

 private:
  explicit XfrServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace cordon::dns
