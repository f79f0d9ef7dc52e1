#include "dns/xfr_server.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <numeric>

namespace cordon::dns {
namespace {

constexpr char kZone[] = R"(; cordon RPZ export
$TTL 60
@ IN SOA localhost. hostmaster.localhost. 100 3600 600 86400 60
@ IN NS localhost.
bad.example CNAME . ; indicator--1 decision 1
*.bad.example CNAME . ; indicator--1 decision 1
32.4.3.2.1.rpz-ip CNAME *. ; indicator--2 decision 2
)";

TEST(ParseZoneText, ReadsTheRpzExportForm) {
  auto zone = ParseZoneText(kZone);
  ASSERT_TRUE(zone.ok()) << zone.status();
  EXPECT_EQ(zone->ttl, 60u);
  EXPECT_EQ(zone->soa.serial, 100u);
  EXPECT_EQ(zone->soa.rname, "hostmaster.localhost.");
  ASSERT_EQ(zone->records.size(), 4u);
  EXPECT_EQ(zone->records[0], (Record{"", kTypeNs, "localhost."}));
  EXPECT_EQ(zone->records[2], (Record{"*.bad.example", kTypeCname, "."}));
  EXPECT_EQ(zone->records[3], (Record{"32.4.3.2.1.rpz-ip", kTypeCname, "*."}));
}

TEST(ParseZoneText, ErrorsNameTheLine) {
  struct Case {
    std::string text, message;
  };
  const std::string soa = "@ IN SOA localhost. hostmaster.localhost. 1 2 3 4 5\n";
  for (const Case& c : std::vector<Case>{
           {soa + "a.example A 192.0.2.1\n", "zone line 2: unsupported record type 'A'"},
           {soa + "a.example CNAME walled.example\n", "zone line 2: 'walled.example' is not absolute"},
           {soa + "a..example CNAME .\n", "zone line 2: 'a..example' has a label of 0 bytes"},
           {soa + std::string(64, 'x') + " CNAME .\n", "has a label of 64 bytes"},
           {soa + "a.example. CNAME .\n", "must be relative"},
           {soa + soa, "zone line 2: a second SOA"},
           {"@ IN SOA localhost. hostmaster.localhost. 1 2 3 x 5\n", "SOA field 'x' is no number"},
           {"a.example CNAME .\n", "zone has no SOA record"},
           {"$INCLUDE other\n" + soa, "zone line 1: unsupported directive $INCLUDE"},
       }) {
    auto zone = ParseZoneText(c.text);
    ASSERT_FALSE(zone.ok()) << c.text;
    EXPECT_NE(zone.status().message().find(c.message), std::string::npos) << zone.status().message();
  }
}

// A query as a resolver sends it (built here byte by byte, not by the server's code).
std::string Query(std::string_view name, uint16_t type, std::optional<uint32_t> ixfr_serial = {}, uint16_t id = 0x1234) {
  std::string q = {static_cast<char>(id >> 8), static_cast<char>(id & 0xff), 0, 0, 0, 1, 0, 0,
                   0, static_cast<char>(ixfr_serial ? 1 : 0), 0, 0};
  size_t start = 0;
  std::string n(name);
  for (size_t i = 0; i <= n.size(); ++i) {
    if (i == n.size() || n[i] == '.') {
      q += static_cast<char>(i - start);
      q += n.substr(start, i - start);
      start = i + 1;
    }
  }
  q += '\0';
  q += {static_cast<char>(type >> 8), static_cast<char>(type & 0xff), 0, 1};
  if (ixfr_serial) {
    // Authority: <pointer to the question name> SOA IN ttl rdlength "." "." serial 0 0 0 0
    q += {static_cast<char>(0xc0), 12, 0, 6, 0, 1, 0, 0, 0, 0, 0, 22, 0, 0};
    uint32_t s = *ixfr_serial;
    q += {static_cast<char>(s >> 24), static_cast<char>(s >> 16), static_cast<char>(s >> 8), static_cast<char>(s)};
    q += std::string(16, '\0');
  }
  return q;
}

uint16_t Field(const std::string& m, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(m[at]) << 8 | static_cast<uint8_t>(m[at + 1]));
}
int Rcode(const std::string& m) { return Field(m, 2) & 0xf; }
size_t Answers(const std::vector<std::string>& messages) {
  return std::accumulate(messages.begin(), messages.end(), size_t{0},
                         [](size_t n, const std::string& m) { return n + Field(m, 6); });
}

Zone ZoneWith(uint32_t serial, int first, int count) {
  Zone z;
  z.soa.serial = serial;
  z.records.push_back({"", kTypeNs, "localhost."});
  for (int i = first; i < first + count; ++i) z.records.push_back({"d" + std::to_string(i) + ".example", kTypeCname, "."});
  return z;
}

class XfrServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = XfrServer::Start({.origin = "RPZ.local.", .listen = "127.0.0.1:0", .allow = {"192.0.2.53"}});
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    EXPECT_NE(server_->port(), 0);
  }
  std::vector<std::string> Ask(const std::string& query, bool tcp = true, std::string_view peer = "127.0.0.1") {
    return server_->Answer(query, tcp, peer);
  }
  std::unique_ptr<XfrServer> server_;
};

TEST_F(XfrServerTest, ServfailUntilAZoneIsPublished) {
  EXPECT_FALSE(server_->has_zone());
  auto r = Ask(Query("rpz.local", kTypeSoa), false);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(Rcode(r[0]), 2);
  EXPECT_EQ(Field(r[0], 0), 0x1234);  // the query's id
}

TEST_F(XfrServerTest, AnswersSoaAndRefusesOtherZones) {
  ASSERT_TRUE(server_->Publish(ZoneWith(7, 0, 3)).ok());
  auto soa = Ask(Query("rpz.LOCAL", kTypeSoa), false, "203.0.113.9");  // anyone may ask the SOA
  ASSERT_EQ(soa.size(), 1u);
  EXPECT_EQ(Rcode(soa[0]), 0);
  EXPECT_EQ(Field(soa[0], 2) & 0x8400, 0x8400);  // QR and AA
  EXPECT_EQ(Field(soa[0], 6), 1);
  // The serial is the answer's last 20 bytes' first four.
  const std::string& m = soa[0];
  EXPECT_EQ(uint32_t{Field(m, m.size() - 20)} << 16 | Field(m, m.size() - 18), 7u);
  EXPECT_EQ(Rcode(Ask(Query("other.zone", kTypeSoa), false)[0]), 5);
  EXPECT_TRUE(Ask(Query("rpz.local", kTypeSoa).substr(0, 5)).empty());  // not even a header: no answer
  std::string truncated = Query("rpz.local", kTypeSoa);
  truncated.resize(truncated.size() - 3);
  EXPECT_EQ(Rcode(Ask(truncated)[0]), 1);  // FORMERR
}

TEST_F(XfrServerTest, TransfersOnlyToAllowedAddressesAndOverTcp) {
  ASSERT_TRUE(server_->Publish(ZoneWith(7, 0, 3)).ok());
  EXPECT_EQ(Rcode(Ask(Query("rpz.local", kTypeAxfr), true, "203.0.113.9")[0]), 5);
  EXPECT_EQ(Rcode(Ask(Query("rpz.local", kTypeAxfr), false)[0]), 1);
  auto axfr = Ask(Query("rpz.local", kTypeAxfr), true, "192.0.2.53");
  EXPECT_EQ(Rcode(axfr[0]), 0);
  EXPECT_EQ(Answers(axfr), 4u + 2u);  // SOA, NS, 3 CNAMEs, SOA
  EXPECT_EQ(Answers(Ask(Query("rpz.local", kTypeAxfr), true, "::ffff:127.0.0.1")), 6u);
}

TEST_F(XfrServerTest, IxfrSendsTheDifferencesTheJournalCovers) {
  ASSERT_TRUE(server_->Publish(ZoneWith(10, 0, 100)).ok());
  ASSERT_TRUE(server_->Publish(ZoneWith(11, 1, 100)).ok());  // d0 removed, d100 added
  ASSERT_TRUE(server_->Publish(ZoneWith(12, 1, 101)).ok());  // d101 added
  // Current serial: the SOA alone.
  EXPECT_EQ(Answers(Ask(Query("rpz.local", kTypeIxfr, 12))), 1u);
  // From 11: SOA 12, SOA 11, (nothing removed), SOA 12, d101, SOA 12.
  EXPECT_EQ(Answers(Ask(Query("rpz.local", kTypeIxfr, 11))), 5u);
  // From 10: SOA, [SOA 10, d0, SOA 11, d100], [SOA 11, SOA 12, d101], SOA.
  EXPECT_EQ(Answers(Ask(Query("rpz.local", kTypeIxfr, 10))), 1u + 4u + 3u + 1u);
  // A serial the journal never saw: the whole zone, AXFR-style.
  EXPECT_EQ(Answers(Ask(Query("rpz.local", kTypeIxfr, 3))), 102u + 2u);
  // Over UDP an outdated secondary gets the SOA alone and retries over TCP.
  EXPECT_EQ(Answers(Ask(Query("rpz.local", kTypeIxfr, 10), false)), 1u);
}

TEST_F(XfrServerTest, JournalHoldsNoMoreThanAFullTransfer) {
  ASSERT_TRUE(server_->Publish(ZoneWith(1, 0, 10)).ok());
  ASSERT_TRUE(server_->Publish(ZoneWith(2, 10, 10)).ok());  // 20 changed records > 11 in the zone
  EXPECT_EQ(Answers(Ask(Query("rpz.local", kTypeIxfr, 1))), 11u + 2u);  // dropped: full zone
}

TEST_F(XfrServerTest, PublishKeepsSerialsMoving) {
  ASSERT_TRUE(server_->Publish(ZoneWith(5, 0, 2)).ok());
  auto stale = server_->Publish(ZoneWith(5, 0, 3));
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Answers(Ask(Query("rpz.local", kTypeAxfr))), 3u + 2u);  // nothing changed
  Zone too_long = ZoneWith(6, 0, 1);
  too_long.records.push_back({std::string(60, 'a') + "." + std::string(60, 'b') + "." + std::string(60, 'c') + "." +
                                  std::string(60, 'd') + ".e",
                              kTypeCname, "."});
  EXPECT_EQ(server_->Publish(std::move(too_long)).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(XfrServerTest, ARepeatedRecordIsNotDeletedWhileACopyRemains) {
  Zone first = ZoneWith(1, 0, 3);  // NS d0 d1 d2
  first.records.push_back(first.records[1]);  // ... d0 again at the end
  ASSERT_TRUE(server_->Publish(first).ok());
  Zone second = ZoneWith(2, 1, 2);  // NS d1 d2
  second.records.push_back(first.records[1]);  // d0, now only at the end
  ASSERT_TRUE(server_->Publish(second).ok());
  // Nothing removed, nothing added: SOA 2, SOA 1, SOA 2, SOA 2.
  EXPECT_EQ(Answers(Ask(Query("rpz.local", kTypeIxfr, 1))), 4u);
  Zone third = ZoneWith(3, 1, 2);  // d0 gone for good
  ASSERT_TRUE(server_->Publish(third).ok());
  EXPECT_EQ(Answers(Ask(Query("rpz.local", kTypeIxfr, 2))), 5u);  // SOA 3, SOA 2, d0, SOA 3, SOA 3
}

TEST_F(XfrServerTest, ChangesInTheMiddleOfALargeZoneAreFound) {
  Zone before = ZoneWith(1, 0, 1000);
  Zone after = ZoneWith(2, 0, 1000);
  after.records[500] = {"new.example", kTypeCname, "*."};  // d499 replaced
  after.records.insert(after.records.begin() + 10, Record{"other.example", kTypeCname, "."});
  ASSERT_TRUE(server_->Publish(before).ok());
  ASSERT_TRUE(server_->Publish(after).ok());
  // SOA 2, SOA 1, d499, SOA 2, other + new, SOA 2
  EXPECT_EQ(Answers(Ask(Query("rpz.local", kTypeIxfr, 1))), 1u + 2u + 3u + 1u);
}

TEST_F(XfrServerTest, LargeTransfersSpanMessagesUnder64KiB) {
  ASSERT_TRUE(server_->Publish(ZoneWith(1, 0, 20000)).ok());
  auto axfr = Ask(Query("rpz.local", kTypeAxfr));
  EXPECT_GT(axfr.size(), 5u);
  for (const auto& m : axfr) {
    EXPECT_LE(m.size(), 65535u);
    EXPECT_EQ(Field(m, 4), 1);  // every message repeats the question
  }
  EXPECT_EQ(Answers(axfr), 20001u + 2u);
}

// Over a real TCP connection: a query answered with its length prefix, then
// the idle connection closed by the server.
TEST(XfrServerTransport, AnswersOverTcpAndClosesIdleConnections) {
  auto server = XfrServer::Start({.origin = "rpz.local", .listen = "127.0.0.1:0",
                                  .idle_timeout = std::chrono::milliseconds(200)});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Publish(ZoneWith(9, 0, 2)).ok());
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((*server)->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string q = Query("rpz.local", kTypeAxfr);
  std::string framed = {static_cast<char>(q.size() >> 8), static_cast<char>(q.size() & 0xff)};
  framed += q;
  ASSERT_EQ(::send(fd, framed.data(), framed.size(), 0), static_cast<ssize_t>(framed.size()));
  auto read_some = [&](std::string& into) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 3000) != 1) return -1;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) into.append(buf, static_cast<size_t>(n));
    return static_cast<int>(n);
  };
  std::string reply;
  while (reply.size() < 2 || reply.size() < 2u + Field(reply, 0)) ASSERT_GT(read_some(reply), 0);
  std::string message = reply.substr(2);
  EXPECT_EQ(Field(message, 0), 0x1234);
  EXPECT_EQ(Rcode(message), 0);
  EXPECT_EQ(Field(message, 6), 3u + 2u);  // SOA, NS, 2 CNAMEs, SOA
  // Nothing more is sent: the server closes the connection after the idle timeout.
  std::string rest;
  EXPECT_EQ(read_some(rest), 0);
  ::close(fd);
}

}  // namespace
}  // namespace cordon::dns
