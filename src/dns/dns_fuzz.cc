// Fuzz target: what the zone-transfer server reads from the network (one DNS
// message, over UDP or TCP, from a peer allowed to transfer or not) and the
// zone text it is given. The first byte picks: 0 parses the rest as a zone;
// otherwise bit 0 = TCP, bit 1 = the peer is loopback (allowed to transfer).
// The server serves a small zone published twice, so IXFR has a journal.
// Contracts: never a crash; every answer is a DNS response (QR set, the
// query's ID, at least a header) and fits its transport (UDP: 512 bytes,
// TCP: 65,535).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "dns/xfr_server.h"
#include "dns/zone.h"

using namespace cordon;

namespace {

dns::XfrServer& Server() {
  static dns::XfrServer* server = [] {
    auto started = dns::XfrServer::Start({.origin = "rpz.local", .listen = "127.0.0.1:0"});
    if (!started.ok()) {
      std::fprintf(stderr, "cannot start the server: %s\n", std::string(started.status().message()).c_str());
      std::abort();
    }
    dns::Zone zone;
    zone.soa.serial = 100;
    zone.records = {{"", dns::kTypeNs, "localhost."}, {"bad.example", dns::kTypeCname, "."},
                    {"*.bad.example", dns::kTypeCname, "."}};
    if (!(*started)->Publish(zone).ok()) std::abort();
    zone.soa.serial = 101;
    zone.records.push_back({"32.4.3.2.1.rpz-ip", dns::kTypeCname, "*."});
    zone.records.erase(zone.records.begin() + 1);
    if (!(*started)->Publish(zone).ok()) std::abort();
    return started->release();
  }();
  return *server;
}

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "contract broken: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] == 0) {
    (void)dns::ParseZoneText(rest);
    return 0;
  }
  const bool tcp = data[0] & 1;
  const std::string_view peer = (data[0] & 2) ? "127.0.0.1" : "192.0.2.7";
  for (const std::string& m : Server().Answer(rest, tcp, peer)) {
    Check(m.size() >= 12, "an answer shorter than a header");
    Check(m.size() <= (tcp ? 65535u : 512u), "an answer too long for its transport");
    Check(static_cast<uint8_t>(m[2]) & 0x80, "an answer without QR");
    Check(rest.size() >= 2 && m[0] == rest[0] && m[1] == rest[1], "an answer with another ID");
  }
  return 0;
}
