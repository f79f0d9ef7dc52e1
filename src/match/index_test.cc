#include "match/index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <sstream>
#include <set>
#include <thread>

#include "absl/strings/str_format.h"
#include "base/strings.h"
#include "normalize/normalize.h"
#include "testutil/testutil.h"

namespace cordon::match {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::string Id(int n) { return absl::StrFormat("indicator--00000000-0000-4000-8000-%012d", n); }

IndicatorSpec Spec(int n, std::string pattern) {
  IndicatorSpec s;
  s.id = Id(n);
  s.pattern = std::move(pattern);
  return s;
}

std::shared_ptr<const Index> BuildOk(std::vector<IndicatorSpec> specs) {
  auto r = Index::Build(std::move(specs));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : Index::Empty();
}

Timestamp T(std::string_view s) { return *ParseTimestamp(s); }

// An event built from raw values, normalised as a decoder would.
class TestEvent {
 public:
  TestEvent& Domain(std::string_view v) { return Text(KeyType::kDomain, *normalize::Domain(v)); }
  TestEvent& Url(std::string_view v) { return Text(KeyType::kUrl, *normalize::Url(v)); }
  TestEvent& Ip(std::string_view v) {
    Key k;
    k.type = KeyType::kIp;
    k.ip = *normalize::Ip(v);
    event_.keys.push_back(k);
    return *this;
  }
  TestEvent& Port(uint32_t p) {
    Key k;
    k.type = KeyType::kPort;
    k.number = p;
    event_.keys.push_back(k);
    return *this;
  }
  TestEvent& Text(KeyType t, std::string v) {
    texts_.push_back(std::make_unique<std::string>(std::move(v)));
    Key k;
    k.type = t;
    k.text = *texts_.back();
    event_.keys.push_back(k);
    return *this;
  }
  TestEvent& At(std::string_view ts) {
    event_.time = T(ts);
    return *this;
  }
  TestEvent& Observed(std::string json, uint64_t fields = kAnyObservedField) {
    builder_.json = std::move(json);
    builder_.fields = fields;
    event_.observed = &builder_;
    return *this;
  }
  const Event& event() const { return event_; }

 private:
  struct Builder : ObservedBuilder {
    std::string json;
    uint64_t fields = kAnyObservedField;
    Result<pattern::ObservationSet> BuildObserved(pattern::Version v) const override {
      return pattern::LoadObserved(json, v);
    }
    uint64_t ObservedFields() const override { return fields; }
  };
  Event event_ = MakeEvent();
  static Event MakeEvent() {
    Event e;
    e.time = T("2025-01-01T00:00:00Z");
    return e;
  }
  std::vector<std::unique_ptr<std::string>> texts_;
  Builder builder_;
};

struct Collect : HitSink {
  std::vector<std::string> hits;  // "id kind key-text evaluated?"
  void OnHit(const Event&, const Hit& h) override {
    std::string key = !h.key ? "-" : h.key->type == KeyType::kIp ? normalize::FormatIp(h.key->ip)
                                   : h.key->type == KeyType::kPort ? std::to_string(h.key->number)
                                                                   : std::string(h.key->text);
    const std::string_view id = h.indicator_id();
    hits.push_back(absl::StrFormat("%s %s %s%s", id.substr(id.size() - 3),
                                   AtomKindName(h.kind), key, h.evaluated ? " evaluated" : ""));
  }
};

std::vector<std::string> Hits(const std::shared_ptr<const Index>& index, const TestEvent& e) {
  Matcher m(index);
  Collect sink;
  m.Match(e.event(), sink);
  return sink.hits;
}

TEST(Index, ExactDomainsUrlsHashesPorts) {
  auto index = BuildOk({
      Spec(1, "[domain-name:value = 'Evil.Example.COM']"),
      Spec(2, "[domain-name:value = 'bücher.example.']"),
      Spec(3, "[url:value = 'http://evil.example.com:80/gate.php?a=%7e']"),
      Spec(4, "[file:hashes.'SHA-256' = '" + std::string(64, 'A') + "']"),
      Spec(5, "[network-traffic:dst_port = 4444]"),
      Spec(6, "[email-addr:value = 'bad@evil.example.com']"),
  });
  EXPECT_EQ(index->report().compiled, 6u);
  EXPECT_EQ(index->report().decided, 5u);  // not the port: which side it was on is evaluated
  EXPECT_THAT(Hits(index, TestEvent().Domain("evil.example.com.")), ElementsAre("001 exact evil.example.com"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("EVIL.example.com")), ElementsAre("001 exact evil.example.com"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("www.evil.example.com")), IsEmpty());
  EXPECT_THAT(Hits(index, TestEvent().Domain("xn--bcher-kva.example")), ElementsAre("002 exact xn--bcher-kva.example"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("BÜCHER.example")), ElementsAre("002 exact xn--bcher-kva.example"));
  EXPECT_THAT(Hits(index, TestEvent().Url("HTTP://Evil.Example.com/gate.php?a=~")),
              ElementsAre("003 exact http://evil.example.com/gate.php?a=~"));
  EXPECT_THAT(Hits(index, TestEvent().Url("http://evil.example.com/gate.php?a=~b")), IsEmpty());
  EXPECT_THAT(Hits(index, TestEvent().Text(KeyType::kSha256, std::string(64, 'a'))),
              ElementsAre("004 exact " + std::string(64, 'a')));
  EXPECT_THAT(Hits(index, TestEvent().Text(KeyType::kSha1, std::string(64, 'a'))), IsEmpty());  // other type
  const std::string dst4444 = R"([{"type":"network-traffic","id":"network-traffic--1","dst_port":4444,"protocols":["tcp"]}])";
  const std::string src4444 = R"([{"type":"network-traffic","id":"network-traffic--1","src_port":4444,"protocols":["tcp"]}])";
  EXPECT_THAT(Hits(index, TestEvent().Port(4444).Observed(dst4444)), ElementsAre("005 exact 4444 evaluated"));
  EXPECT_THAT(Hits(index, TestEvent().Port(4444).Observed(src4444)), IsEmpty());  // the source port
  EXPECT_THAT(Hits(index, TestEvent().Port(4445)), IsEmpty());
  EXPECT_THAT(Hits(index, TestEvent().Text(KeyType::kEmail, "bad@evil.example.com")),
              ElementsAre("006 exact bad@evil.example.com"));
  // One event, several keys: every indicator once.
  EXPECT_THAT(Hits(index, TestEvent().Domain("evil.example.com").Port(4444).Domain("evil.example.com").Observed(dst4444)),
              UnorderedElementsAre("001 exact evil.example.com", "005 exact 4444 evaluated"));
}

TEST(Index, HitsCarryTheIndicatorsOwnIds) {
  // Random UUIDs: every hex digit, letters included, at every position.
  std::mt19937_64 rng(7);
  std::vector<IndicatorSpec> specs;
  for (int i = 0; i < 200; ++i) {
    std::string id = absl::StrFormat("indicator--%08x-%04x-4%03x-%04x-%012x", uint32_t(rng()), uint32_t(rng() & 0xffff),
                                     uint32_t(rng() & 0xfff), uint32_t(0x8000 | (rng() & 0x3fff)),
                                     rng() & 0xffffffffffffull);
    specs.push_back(Spec(0, absl::StrFormat("[domain-name:value = 'd%d.example']", i)));
    specs.back().id = id;
  }
  auto index = BuildOk(specs);
  ASSERT_EQ(index->size(), specs.size());
  Matcher m(index);
  std::set<std::string> want, got;
  for (size_t i = 0; i < specs.size(); ++i) {
    want.insert(specs[i].id);
    got.insert(index->IndicatorId(uint32_t(i)));
  }
  EXPECT_EQ(got, want);
  struct Ids : HitSink {
    std::vector<std::string> ids;
    void OnHit(const Event&, const Hit& h) override { ids.emplace_back(h.indicator_id()); }
  } sink;
  for (size_t i = 0; i < specs.size(); ++i) {
    TestEvent e;
    e.Domain(absl::StrFormat("d%d.example", i));
    ASSERT_EQ(m.Match(e.event(), sink), 1u);
    EXPECT_EQ(sink.ids.back(), specs[i].id);
  }
  // The id is written on demand: a sink that skips it for some hits, and asks
  // twice for others, still gets each hit's own id, in batches of 8-key events.
  struct SomeIds : HitSink {
    const Index* index = nullptr;
    size_t asked = 0, wrong = 0;
    void OnHit(const Event&, const Hit& h) override {
      if (h.indicator % 3 == 0) return;
      ++asked;
      const std::string first(h.indicator_id());
      if (first != index->IndicatorId(h.indicator) || h.indicator_id() != first) ++wrong;
    }
  } some;
  some.index = index.get();
  std::vector<TestEvent> batch(25);
  for (size_t i = 0; i < specs.size(); ++i) batch[i / 8].Domain(absl::StrFormat("d%d.example", i));
  std::vector<Event> events;
  for (TestEvent& e : batch) events.push_back(e.event());
  EXPECT_EQ(m.MatchBatch(events, some), specs.size());
  EXPECT_EQ(some.asked, specs.size() - (specs.size() + 2) / 3);
  EXPECT_EQ(some.wrong, 0u);
}

TEST(Index, SharedKeysPostings) {
  auto index = BuildOk({Spec(1, "[domain-name:value = 'a.example']"), Spec(2, "[domain-name:value = 'A.example.']"),
                        Spec(3, "[domain-name:value IN ('a.example', 'b.example')]")});
  EXPECT_THAT(Hits(index, TestEvent().Domain("a.example")),
              UnorderedElementsAre("001 exact a.example", "002 exact a.example", "003 exact a.example"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("b.example")), ElementsAre("003 exact b.example"));
}

TEST(Index, DomainSuffix) {
  auto index = BuildOk({Spec(1, "[domain-name:value LIKE '%.example.com']"),
                        Spec(2, "[domain-name:value = 'example.com']")});
  EXPECT_EQ(index->report().atoms_by_kind[int(AtomKind::kDomainSuffix)], 1u);
  EXPECT_THAT(Hits(index, TestEvent().Domain("a.example.com")), ElementsAre("001 suffix a.example.com"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("x.y.Example.COM.")), ElementsAre("001 suffix x.y.example.com"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("example.com")), ElementsAre("002 exact example.com"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("badexample.com")), IsEmpty());
  EXPECT_THAT(Hits(index, TestEvent().Domain("example.com.evil")), IsEmpty());
  EXPECT_THAT(Hits(index, TestEvent().Domain("com")), IsEmpty());
  // Dots on both sides of 16-byte boundaries, and many labels.
  std::string deep = "example.com";
  for (int i = 0; i < 40; ++i) deep = absl::StrFormat("l%d.", i) + deep;
  EXPECT_THAT(Hits(index, TestEvent().Domain(deep)), ElementsAre("001 suffix " + deep));
  EXPECT_THAT(Hits(index, TestEvent().Domain("sixteen-bytes-ab.example.com")),
              ElementsAre("001 suffix sixteen-bytes-ab.example.com"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("fifteen-bytes-a.example.com")),
              ElementsAre("001 suffix fifteen-bytes-a.example.com"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("sixteen-bytes-ab.example.co")), IsEmpty());

  // Several listed parents of one key: reported from the longest.
  auto nested = BuildOk({Spec(5, "[domain-name:value LIKE '%.example.com']"),
                         Spec(6, "[domain-name:value LIKE '%.b.example.com']"),
                         Spec(7, "[domain-name:value LIKE '%.a.b.example.com']")});
  EXPECT_THAT(Hits(nested, TestEvent().Domain("x.a.b.example.com")),
              ElementsAre("007 suffix x.a.b.example.com", "006 suffix x.a.b.example.com",
                          "005 suffix x.a.b.example.com"));
  EXPECT_THAT(Hits(nested, TestEvent().Domain(deep.substr(4))), ElementsAre("005 suffix " + deep.substr(4)));

  // A suffix of 70 labels (bit 63 of the label counts stands for 63 or more):
  // its parents must be walked to the longest, not to 63 labels.
  std::string long_suffix = "example";
  for (int i = 0; i < 69; ++i) long_suffix = "s." + long_suffix;
  auto long_index = BuildOk({Spec(4, "[domain-name:value LIKE '%." + long_suffix + "']")});
  EXPECT_THAT(Hits(long_index, TestEvent().Domain("a.b." + long_suffix)), ElementsAre("004 suffix a.b." + long_suffix));
  EXPECT_THAT(Hits(long_index, TestEvent().Domain("a." + long_suffix.substr(2))), IsEmpty());

  auto idn = BuildOk({Spec(3, "[domain-name:value LIKE '%.Bücher.example.']")});
  EXPECT_THAT(Hits(idn, TestEvent().Domain("www.bücher.example")), ElementsAre("003 suffix www.xn--bcher-kva.example"));
  EXPECT_THAT(Hits(idn, TestEvent().Domain("a.b.XN--BCHER-KVA.example.")),
              ElementsAre("003 suffix a.b.xn--bcher-kva.example"));
  EXPECT_THAT(Hits(idn, TestEvent().Domain("bücher.example")), IsEmpty());
  EXPECT_THAT(Hits(idn, TestEvent().Domain("www.xbücher.example")), IsEmpty());
}

TEST(Index, IpAndCidr) {
  auto index = BuildOk({
      Spec(1, "[ipv4-addr:value = '198.51.100.7']"),
      Spec(2, "[ipv4-addr:value ISSUBSET '10.0.0.0/8']"),
      Spec(3, "[ipv4-addr:value = '0.0.0.0/0']"),
      Spec(4, "[ipv6-addr:value = '2001:db8::1']"),
      Spec(5, "[ipv6-addr:value ISSUBSET '2001:db8::/32']"),
      Spec(6, "[ipv4-addr:value = '203.0.113.9/32']"),
      Spec(7, "[ipv6-addr:value ISSUBSET '::ffff:192.0.2.0/120']"),
  });
  EXPECT_THAT(Hits(index, TestEvent().Ip("198.51.100.7")),
              UnorderedElementsAre("001 exact 198.51.100.7", "003 cidr 198.51.100.7"));
  EXPECT_THAT(Hits(index, TestEvent().Ip("::ffff:198.51.100.7")),
              UnorderedElementsAre("001 exact 198.51.100.7", "003 cidr 198.51.100.7"));
  EXPECT_THAT(Hits(index, TestEvent().Ip("10.20.30.40")),
              UnorderedElementsAre("002 cidr 10.20.30.40", "003 cidr 10.20.30.40"));
  EXPECT_THAT(Hits(index, TestEvent().Ip("203.0.113.9")),
              UnorderedElementsAre("006 exact 203.0.113.9", "003 cidr 203.0.113.9"));
  EXPECT_THAT(Hits(index, TestEvent().Ip("203.0.113.10")), ElementsAre("003 cidr 203.0.113.10"));
  EXPECT_THAT(Hits(index, TestEvent().Ip("192.0.2.200")),
              UnorderedElementsAre("007 cidr 192.0.2.200", "003 cidr 192.0.2.200"));
  // IPv4 /0 holds no IPv6 address.
  EXPECT_THAT(Hits(index, TestEvent().Ip("2001:db8::1")),
              UnorderedElementsAre("004 exact 2001:db8::1", "005 cidr 2001:db8::1"));
  EXPECT_THAT(Hits(index, TestEvent().Ip("2001:db8:ffff::2")), ElementsAre("005 cidr 2001:db8:ffff::2"));
  EXPECT_THAT(Hits(index, TestEvent().Ip("2001:db9::1")), IsEmpty());

  auto all6 = BuildOk({Spec(1, "[ipv6-addr:value ISSUBSET '::/0']"), Spec(2, "[ipv6-addr:value = '::1/128']")});
  EXPECT_THAT(Hits(all6, TestEvent().Ip("1.2.3.4")), ElementsAre("001 cidr 1.2.3.4"));  // ::/0 holds mapped IPv4
  EXPECT_THAT(Hits(all6, TestEvent().Ip("::1")), UnorderedElementsAre("001 cidr ::1", "002 exact ::1"));
}

TEST(Index, ValidityAndRevoked) {
  std::vector<IndicatorSpec> specs;
  specs.push_back(Spec(1, "[domain-name:value = 'a.example']"));
  specs.back().valid_from = T("2025-01-01T00:00:00Z");
  specs.back().valid_until = T("2025-02-01T00:00:00Z");
  specs.push_back(Spec(2, "[domain-name:value = 'a.example']"));
  specs.back().revoked = true;
  specs.push_back(Spec(3, "[domain-name:value = 'a.example']"));
  specs.back().valid_from = T("2025-01-15T00:00:00Z");
  auto index = BuildOk(std::move(specs));
  EXPECT_EQ(index->report().revoked, 1u);
  EXPECT_EQ(index->size(), 2u);
  EXPECT_THAT(Hits(index, TestEvent().Domain("a.example").At("2024-12-31T23:59:59.999Z")), IsEmpty());
  EXPECT_THAT(Hits(index, TestEvent().Domain("a.example").At("2025-01-01T00:00:00Z")),
              ElementsAre("001 exact a.example"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("a.example").At("2025-01-20T00:00:00Z")),
              UnorderedElementsAre("001 exact a.example", "003 exact a.example"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("a.example").At("2025-02-01T00:00:00Z")),  // valid_until exclusive
              ElementsAre("003 exact a.example"));
}

TEST(Index, HitsCarryTheIndicatorsTlp) {
  std::vector<IndicatorSpec> specs;
  specs.push_back(Spec(1, "[domain-name:value = 'a.example']"));
  specs.back().tlp = stix::Tlp::kAmber;
  specs.push_back(Spec(2, "[domain-name:value = 'a.example']"));  // same window, no TLP
  specs.push_back(Spec(3, "[ipv4-addr:value = '10.0.0.0/8']"));
  specs.back().tlp = stix::Tlp::kRed;
  auto index = BuildOk(std::move(specs));
  struct Tlps : HitSink {
    std::set<std::pair<std::string, stix::Tlp>> got;
    void OnHit(const Event&, const Hit& h) override {
      const std::string_view id = h.indicator_id();
      got.emplace(std::string(id.substr(id.size() - 3)), h.tlp);
    }
  } sink;
  Matcher m(index);
  m.Match(TestEvent().Domain("a.example").Ip("10.1.2.3").event(), sink);
  EXPECT_THAT(sink.got, UnorderedElementsAre(std::pair<std::string, stix::Tlp>("001", stix::Tlp::kAmber),
                                             std::pair<std::string, stix::Tlp>("002", stix::Tlp::kNone),
                                             std::pair<std::string, stix::Tlp>("003", stix::Tlp::kRed)));
}

TEST(Index, Rejected) {
  std::vector<IndicatorSpec> specs;
  specs.push_back(Spec(1, "[domain-name:value = 'a.example'"));
  IndicatorSpec bad_id = Spec(2, "[domain-name:value = 'a.example']");
  bad_id.id = "indicator--nope";
  specs.push_back(bad_id);
  specs.push_back(Spec(3, "[domain-name:value = 'a.example']"));
  specs.back().valid_from = T("2025-02-01T00:00:00Z");
  specs.back().valid_until = T("2025-01-01T00:00:00Z");
  auto index = BuildOk(std::move(specs));
  ASSERT_EQ(index->report().rejected.size(), 3u);
  EXPECT_THAT(index->report().rejected[0].reason, ::testing::StartsWith("pattern: column"));
  EXPECT_EQ(index->report().rejected[1].reason, "id is not indicator--<uuid>");
  EXPECT_THAT(index->report().rejected[2].reason, ::testing::HasSubstr("not after valid_from"));
  EXPECT_EQ(index->size(), 0u);
}

TEST(Index, HyperscanLike) {
  auto index = BuildOk({
      Spec(1, "[url:value LIKE 'http://evil.example/%.exe']"),
      Spec(2, "[domain-name:value LIKE 'ev_l.example']"),
      Spec(3, "[domain-name:value MATCHES '^c2-[0-9]+\\\\.']"),
      Spec(4, "[domain-name:value LIKE '%bad%']"),
  });
  EXPECT_EQ(index->report().atoms_by_kind[int(AtomKind::kRegex)], 4u);
  EXPECT_THAT(Hits(index, TestEvent().Url("http://evil.example/a/b.exe")),
              ElementsAre("001 regex http://evil.example/a/b.exe"));
  EXPECT_THAT(Hits(index, TestEvent().Url("http://evil.example/.exe")), ElementsAre("001 regex http://evil.example/.exe"));
  EXPECT_THAT(Hits(index, TestEvent().Url("http://evil.example/a.exe.txt")), IsEmpty());
  EXPECT_THAT(Hits(index, TestEvent().Url("http://xevil.example/a.exe")), IsEmpty());
  EXPECT_THAT(Hits(index, TestEvent().Domain("evil.example")), ElementsAre("002 regex evil.example"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("eval.example")), ElementsAre("002 regex eval.example"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("evl.example")), IsEmpty());      // _ is exactly one character
  EXPECT_THAT(Hits(index, TestEvent().Domain("eviil.example")), IsEmpty());
  EXPECT_THAT(Hits(index, TestEvent().Domain("c2-17.example")), ElementsAre("003 regex c2-17.example"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("x.c2-17.example")), IsEmpty());
  EXPECT_THAT(Hits(index, TestEvent().Domain("verybad.example")), ElementsAre("004 regex verybad.example"));
}

// Every domain LIKE here ends in a literal (the shortest "b.net"), so a tail
// filter sits in front of Hyperscan; it must only skip keys that cannot
// match: a key shorter than the tail cannot end with it. A domain LIKE value
// compares in the keys' normalised (lowercase) form, as = does: 'x%.Bad.ORG'
// is x*.bad.org.
TEST(Index, LikeTailFilterSkipsOnlyKeysThatCannotMatch) {
  auto index = BuildOk({
      Spec(1, "[domain-name:value LIKE 'c2-__.evil.example']"),
      Spec(2, "[domain-name:value LIKE '%x_b.net']"),
      Spec(3, "[domain-name:value LIKE 'x%.Bad.ORG']"),
  });
  EXPECT_EQ(index->report().atoms_by_kind[int(AtomKind::kRegex)], 3u);
  EXPECT_THAT(Hits(index, TestEvent().Domain("c2-ab.evil.example")), ElementsAre("001 regex c2-ab.evil.example"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("c2-ab.evil.examples")), IsEmpty());
  EXPECT_THAT(Hits(index, TestEvent().Domain("mx-b.net")), ElementsAre("002 regex mx-b.net"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("xyb.net")), ElementsAre("002 regex xyb.net"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("b.net")), IsEmpty());
  EXPECT_EQ(index->report().decided, 3u);
  EXPECT_THAT(Hits(index, TestEvent().Domain("xa.bad.org")), ElementsAre("003 regex xa.bad.org"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("ya.bad.org")), IsEmpty());
  EXPECT_THAT(Hits(index, TestEvent().Domain("net")), IsEmpty());
}

// MatchBatch reports what Match reports on each event, in the same order,
// whatever the mix of key types and the batch's size.
TEST(Index, MatchBatchEqualsMatchOneByOne) {
  auto index = BuildOk({
      Spec(1, "[domain-name:value = 'evil.example']"),
      Spec(2, "[domain-name:value LIKE '%.evil.example']"),
      Spec(3, "[ipv4-addr:value = '198.51.100.7']"),
      Spec(4, "[ipv4-addr:value ISSUBSET '203.0.113.0/24']"),
      Spec(5, "[ipv6-addr:value = '2001:db8::1']"),
      Spec(6, "[url:value = 'http://evil.example/x']"),
      Spec(7, "[domain-name:value LIKE 'ev_l.example']"),
      Spec(8, "[network-traffic:dst_port = 4444]"),
      Spec(9, "[domain-name:value = 'evil.example'] AND [ipv4-addr:value = '198.51.100.7']"),
      Spec(10, "[ipv4-addr:value = '203.0.113.9']"),  // an exact and a block hit on one key
  });
  std::vector<TestEvent> events(40);
  for (size_t i = 0; i < events.size(); ++i) {
    TestEvent& e = events[i];
    if (i % 2 == 0) e.Domain("evil.example");
    if (i % 3 == 0) e.Domain("a.b.evil.example").Ip("198.51.100.7");
    if (i % 5 == 0) e.Ip("203.0.113.9").Port(4444).Ip("2001:db8::1");
    if (i % 7 == 0) e.Url("http://evil.example/x").Domain("eval.example");
    e.Domain(absl::StrFormat("miss%d.example", i)).Ip(absl::StrFormat("192.0.2.%d", i));
  }
  std::vector<std::string> one_by_one;
  for (const TestEvent& e : events)
    for (std::string& h : Hits(index, e)) one_by_one.push_back(std::move(h));
  ASSERT_GT(one_by_one.size(), 40u);
  for (size_t batch : {1, 3, 16, 40}) {
    Matcher m(index);
    Collect sink;
    std::vector<Event> copies;
    for (const TestEvent& e : events) copies.push_back(e.event());
    size_t reported = 0;
    for (size_t i = 0; i < copies.size(); i += batch)
      reported += m.MatchBatch(std::span<const Event>(copies).subspan(i, std::min(batch, copies.size() - i)), sink);
    EXPECT_EQ(sink.hits, one_by_one) << "batch " << batch;
    EXPECT_EQ(reported, one_by_one.size());
    EXPECT_EQ(m.stats().events, copies.size());
  }
}

// Every listed domain and IPv4 address is found through the staged lookup
// (batches of 16 events of 8 keys), among as many unlisted ones, and nothing
// else: the key filters in front of the exact tables lose no key, and the
// keys they let through by chance find nothing.
TEST(Index, StagedBatchesFindEveryListedValue) {
  std::vector<IndicatorSpec> specs;
  std::vector<std::string> domains, ips;
  for (int i = 0; i < 3000; ++i) {
    domains.push_back(absl::StrFormat("host%d.listed%d.example", i, i % 13));
    ips.push_back(absl::StrFormat("10.%d.%d.%d", i % 7, i / 256, i % 256));
    specs.push_back(Spec(2 * i, "[domain-name:value = '" + domains.back() + "']"));
    specs.push_back(Spec(2 * i + 1, "[ipv4-addr:value = '" + ips.back() + "']"));
  }
  auto index = BuildOk(std::move(specs));
  // Event e: listed domain e, unlisted domain, listed IP e, unlisted IP, twice.
  std::vector<TestEvent> events(1500);
  for (size_t e = 0; e < events.size(); ++e)
    for (size_t half = 0; half < 2; ++half) {
      const size_t i = 2 * e + half;
      events[e]
          .Domain(domains[i])
          .Domain(absl::StrFormat("host%d.unlisted.example", i))
          .Ip(ips[i])
          .Ip(absl::StrFormat("10.%d.%d.%d", 7 + i % 7, i / 256, i % 256));
    }
  struct Keys : HitSink {
    std::multiset<std::string> found;
    void OnHit(const Event&, const Hit& h) override {
      found.insert(h.key->type == KeyType::kIp ? normalize::FormatIp(h.key->ip) : std::string(h.key->text));
    }
  } sink;
  Matcher m(index);
  std::vector<Event> copies;
  for (const TestEvent& e : events) copies.push_back(e.event());
  for (size_t i = 0; i < copies.size(); i += 16)
    m.MatchBatch(std::span<const Event>(copies).subspan(i, std::min<size_t>(16, copies.size() - i)), sink);
  std::multiset<std::string> want(domains.begin(), domains.end());
  want.insert(ips.begin(), ips.end());
  EXPECT_EQ(sink.found, want);
}

// An indicator without atoms is evaluated only on events whose observed data
// holds a field it needs: a process pattern costs nothing on network records.
TEST(Index, EvaluateOnlyByObservedField) {
  auto index = BuildOk({Spec(1, "[file:hashes.MD5 = 'x' OR file:name = 'evil.exe']"),
                        Spec(2, "[process:name = 'evil.exe']")});
  EXPECT_EQ(index->report().evaluated_only, 2u);
  const std::string file = R"([{"type":"file","id":"file--1","name":"evil.exe"}])";
  Matcher m(index);
  Collect sink;
  TestEvent dns;  // a DNS record: a name and an address, no file
  dns.Domain("a.example").Ip("192.0.2.1").Observed(
      R"([{"type":"domain-name","id":"domain-name--1","value":"a.example"}])",
      Bit(ObservedField::kDomainNameValue) | Bit(ObservedField::kIpv4AddrValue));
  EXPECT_EQ(m.Match(dns.event(), sink), 0u);
  EXPECT_EQ(m.stats().evaluations, 0u);
  TestEvent files;  // a files.log record
  files.Observed(file, Bit(ObservedField::kFileHashes));
  EXPECT_EQ(m.Match(files.event(), sink), 1u);
  EXPECT_EQ(m.stats().evaluations, 1u);  // the file pattern only
  EXPECT_THAT(sink.hits, ElementsAre("001 exact - evaluated"));
  // A builder that does not know its fields: both are evaluated.
  TestEvent unknown;
  unknown.Observed(file);
  EXPECT_EQ(m.Match(unknown.event(), sink), 1u);
  EXPECT_EQ(m.stats().evaluations, 3u);
}

// Values as feeds write them: a URL without its scheme, a serial number with
// Suricata's colons; and values no decoded event can carry, which are reported
// and cost nothing per event (they had been evaluated against every event).
TEST(Index, FeedValuesAndValuesNoEventCarries) {
  auto index = BuildOk({
      Spec(1, "[url:value = 'Evil.Example.com/gate.php']"),
      Spec(2, "[x509-certificate:serial_number = '0A:FF:01']"),
      Spec(3, "[domain-name:value = 'nougat [28:d2:44:0f:4c:e9]._workstation._tcp.local']"),
      Spec(4, "[domain-name:value = 'a b.example' AND ipv4-addr:value = '192.0.2.1']"),
  });
  EXPECT_EQ(index->report().compiled, 2u);
  EXPECT_EQ(index->report().never_match, 2u);
  EXPECT_EQ(index->report().evaluated_only, 0u);
  ASSERT_EQ(index->report().warnings.size(), 2u);
  EXPECT_EQ(index->report().warnings[0].id, Id(3));
  EXPECT_EQ(index->report().warnings[0].reason,
            "never matches: domain-name:value 'nougat [28:d2:44:0f:4c:e9]._workstation._tcp.local' is not a valid "
            "domain name");
  EXPECT_THAT(index->report().Summary(), ::testing::HasSubstr("0 evaluate-only, 2 never match"));
  EXPECT_THAT(Hits(index, TestEvent().Url("http://evil.example.com/gate.php")),
              ElementsAre("001 exact http://evil.example.com/gate.php"));
  EXPECT_THAT(Hits(index, TestEvent().Url("https://evil.example.com/gate.php")),
              ElementsAre("001 exact https://evil.example.com/gate.php"));
  EXPECT_THAT(Hits(index, TestEvent().Url("http://evil.example.com/gate.php?x")), IsEmpty());
  EXPECT_THAT(Hits(index, TestEvent().Text(KeyType::kX509Serial, "0aff01")), ElementsAre("002 exact 0aff01"));
  // An event with observed data: nothing is evaluated for indicators 3 and 4.
  Matcher m(index);
  Collect sink;
  TestEvent e;
  e.Ip("192.0.2.1").Observed(R"([{"type":"ipv4-addr","id":"ipv4-addr--1","value":"192.0.2.1"}])");
  EXPECT_EQ(m.Match(e.event(), sink), 0u);
  EXPECT_EQ(m.stats().evaluations, 0u);
}

TEST(Index, ConnectionSidesAreConfirmed) {
  // A key is an address or a port, not the side of the connection it was on:
  // src_ref/dst_ref/src_port/dst_port hits are confirmed by evaluation.
  auto index = BuildOk({
      Spec(1, "[network-traffic:dst_ref.value = '10.0.0.1']"),
      Spec(2, "[network-traffic:src_ref.value ISSUBSET '192.0.2.0/24']"),
      Spec(3, "[ipv4-addr:value = '10.0.0.1']"),  // either side, or an address anywhere: decided
  });
  EXPECT_EQ(index->report().decided, 1u);
  const std::string to_10 = R"([{"type":"ipv4-addr","id":"ipv4-addr--1","value":"192.0.2.53"},
    {"type":"ipv4-addr","id":"ipv4-addr--2","value":"10.0.0.1"},
    {"type":"network-traffic","id":"network-traffic--1","src_ref":"ipv4-addr--1","dst_ref":"ipv4-addr--2","protocols":["udp"]}])";
  const std::string from_10 = R"([{"type":"ipv4-addr","id":"ipv4-addr--1","value":"10.0.0.1"},
    {"type":"ipv4-addr","id":"ipv4-addr--2","value":"192.0.2.53"},
    {"type":"network-traffic","id":"network-traffic--1","src_ref":"ipv4-addr--1","dst_ref":"ipv4-addr--2","protocols":["udp"]}])";
  const std::string answer = R"([{"type":"ipv4-addr","id":"ipv4-addr--1","value":"10.0.0.1"}])";  // a DNS answer
  EXPECT_THAT(Hits(index, TestEvent().Ip("192.0.2.53").Ip("10.0.0.1").Observed(to_10)),
              UnorderedElementsAre("001 exact 10.0.0.1 evaluated", "002 cidr 192.0.2.53 evaluated", "003 exact 10.0.0.1"));
  EXPECT_THAT(Hits(index, TestEvent().Ip("10.0.0.1").Ip("192.0.2.53").Observed(from_10)),
              ElementsAre("003 exact 10.0.0.1"));
  EXPECT_THAT(Hits(index, TestEvent().Ip("10.0.0.1").Observed(answer)), ElementsAre("003 exact 10.0.0.1"));
}

// Observed data of one SCO of `type` whose value is `value`.
std::string ObservedSco(const std::string& type, const std::string& value) {
  return R"([{"type":")" + type + R"(","id":")" + type + R"(--1","value":")" + value + "\"}]";
}

TEST(Index, EvaluatedPatternsCompareNormalisedValues) {
  // Patterns the index cannot decide alone are evaluated against the event's
  // (normalised) observed data: their constants are normalised as atoms are.
  auto index = BuildOk({
      Spec(1, "[domain-name:value = 'WWW.Evil.Example.' AND domain-name:value LIKE '%evil%']"),
      Spec(2, "[domain-name:value = 'bücher.example'] REPEATS 1 TIMES"),
      Spec(3, "[ipv4-addr:value = '198.51.100.7/32'] REPEATS 1 TIMES"),
      Spec(4, "[ipv4-addr:value = '198.51.100.0/24' AND ipv4-addr:value != '198.51.100.8']"),
      Spec(5, "[file:hashes.MD5 = '" + std::string(32, 'A') + "' AND file:hashes.MD5 != 'x']"),
  });
  EXPECT_EQ(index->report().decided, 0u);
  EXPECT_THAT(Hits(index, TestEvent().Domain("www.evil.example").Observed(ObservedSco("domain-name", "www.evil.example"))),
              ElementsAre("001 exact www.evil.example evaluated"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("xn--bcher-kva.example").Observed(ObservedSco("domain-name", "xn--bcher-kva.example"))),
              ElementsAre("002 exact xn--bcher-kva.example evaluated"));
  EXPECT_THAT(Hits(index, TestEvent().Ip("198.51.100.7").Observed(ObservedSco("ipv4-addr", "198.51.100.7"))),
              UnorderedElementsAre("003 exact 198.51.100.7 evaluated", "004 cidr 198.51.100.7 evaluated"));
  EXPECT_THAT(Hits(index, TestEvent().Ip("198.51.100.8").Observed(ObservedSco("ipv4-addr", "198.51.100.8"))), IsEmpty());
  const std::string md5(32, 'a');
  EXPECT_THAT(Hits(index, TestEvent().Text(KeyType::kMd5, md5).Observed(
                              R"([{"type":"file","id":"file--1","hashes":{"MD5":")" + md5 + "\"}}]")),
              ElementsAre("005 exact " + md5 + " evaluated"));
}

TEST(Index, EvaluatedPatternsReadBlocksAndSchemelessUrlsAsTheIndexDoes) {
  auto index = BuildOk({
      Spec(1, "[ipv4-addr:value IN ('198.51.100.0/24', '203.0.113.9')] REPEATS 1 TIMES"),
      Spec(2, "[url:value = 'Evil.Example/a.exe'] REPEATS 1 TIMES"),
      // Not a side of the connection: decided by the index as before.
      Spec(3, "[network-traffic:extensions.'x-tls'.ja3 = '" + std::string(32, 'c') + "']"),
  });
  EXPECT_EQ(index->report().decided, 1u);
  EXPECT_THAT(Hits(index, TestEvent().Ip("198.51.100.7").Observed(ObservedSco("ipv4-addr", "198.51.100.7"))),
              ElementsAre("001 cidr 198.51.100.7 evaluated"));
  EXPECT_THAT(Hits(index, TestEvent().Ip("203.0.113.9").Observed(ObservedSco("ipv4-addr", "203.0.113.9"))),
              ElementsAre("001 exact 203.0.113.9 evaluated"));
  EXPECT_THAT(Hits(index, TestEvent().Ip("203.0.113.8").Observed(ObservedSco("ipv4-addr", "203.0.113.8"))), IsEmpty());
  const std::string url = "https://evil.example/a.exe";
  EXPECT_THAT(Hits(index, TestEvent().Url(url).Observed(R"([{"type":"url","id":"url--1","value":")" + url + "\"}]")),
              ElementsAre("002 exact " + url + " evaluated"));
  EXPECT_THAT(Hits(index, TestEvent().Text(KeyType::kJa3, std::string(32, 'c'))),
              ElementsAre("003 exact " + std::string(32, 'c')));
}

TEST(Index, CandidatesConfirmedByEvaluation) {
  auto index = BuildOk({
      // AND: the domain is only a candidate; the port decides.
      Spec(1, "[network-traffic:dst_port = 443 AND network-traffic:dst_ref.value = '192.0.2.1']"),
      // No usable atom at all: evaluated on every event with observed data.
      Spec(2, "[file:name = 'evil.exe']"),
      // A back-reference: Hyperscan only prefilters it, hits are confirmed.
      Spec(3, "[domain-name:value MATCHES '^(a+)\\\\1\\\\.example$']"),
      // \\G: Hyperscan cannot take it at all: evaluate-only.
      Spec(4, "[domain-name:value MATCHES '\\\\Ga{3}b{3}\\\\.example$']"),
  });
  EXPECT_EQ(index->report().compiled, 3u);
  EXPECT_EQ(index->report().decided, 0u);
  EXPECT_EQ(index->report().evaluated_only, 1u);
  EXPECT_EQ(index->report().regex_prefilter, 1u);
  EXPECT_EQ(index->report().regex_unsupported, 1u);
  std::string nt443 = R"([{"type":"ipv4-addr","id":"ipv4-addr--1","value":"192.0.2.1"},
    {"type":"network-traffic","id":"network-traffic--1","dst_ref":"ipv4-addr--1","dst_port":443,"protocols":["tcp"]}])";
  std::string nt80 = R"([{"type":"ipv4-addr","id":"ipv4-addr--1","value":"192.0.2.1"},
    {"type":"network-traffic","id":"network-traffic--1","dst_ref":"ipv4-addr--1","dst_port":80,"protocols":["tcp"]}])";
  EXPECT_THAT(Hits(index, TestEvent().Ip("192.0.2.1").Port(443).Observed(nt443)),
              ElementsAre("001 exact 443 evaluated"));
  EXPECT_THAT(Hits(index, TestEvent().Ip("192.0.2.1").Port(80).Observed(nt80)), IsEmpty());
  // Without observed data a candidate cannot be confirmed.
  EXPECT_THAT(Hits(index, TestEvent().Ip("192.0.2.1").Port(443)), IsEmpty());
  EXPECT_THAT(Hits(index, TestEvent().Observed(R"([{"type":"file","id":"file--1","name":"evil.exe"}])")),
              ElementsAre("002 exact - evaluated"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("aaaa.example").Observed(
                             R"([{"type":"domain-name","id":"domain-name--1","value":"aaaa.example"}])")),
              ElementsAre("003 regex aaaa.example evaluated"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("aaabbb.example").Observed(
                             R"([{"type":"domain-name","id":"domain-name--1","value":"aaabbb.example"}])")),
              ElementsAre("004 exact - evaluated"));
  EXPECT_THAT(Hits(index, TestEvent().Domain("aaabb.example").Observed(
                             R"([{"type":"domain-name","id":"domain-name--1","value":"aaabb.example"}])")),
              IsEmpty());
  EXPECT_THAT(Hits(index, TestEvent().Domain("aaa.example").Observed(
                             R"([{"type":"domain-name","id":"domain-name--1","value":"aaa.example"}])")),
              IsEmpty());
  Matcher m(index);
  Collect sink;
  m.Match(TestEvent().Observed("not json").event(), sink);
  EXPECT_EQ(m.stats().observed_errors, 1u);
}

// Indicators from the shared blocklists: values from the list hit, their
// subdomains and neighbours do not (exact semantics, unlike grep -F).
TEST(Index, RealBlocklists) {
  std::vector<IndicatorSpec> specs;
  std::vector<std::string> domains, nets;
  std::istringstream d(testutil::ReadFile(testutil::SharedData("indicators/urlhaus/urlhaus-filter-domains.txt")));
  for (std::string line; std::getline(d, line);)
    if (!line.empty() && line[0] != '#' && normalize::Domain(line).ok()) domains.push_back(line);
  std::istringstream n(testutil::ReadFile(testutil::SharedData("indicators/firehol/firehol_level1.netset")));
  for (std::string line; std::getline(n, line);)
    if (!line.empty() && line[0] != '#') nets.push_back(line);
  ASSERT_GT(domains.size(), 10000u);
  ASSERT_GT(nets.size(), 1000u);
  int id = 0;
  for (const std::string& dom : domains) specs.push_back(Spec(++id, "[domain-name:value = '" + dom + "']"));
  for (const std::string& net : nets) specs.push_back(Spec(++id, "[ipv4-addr:value = '" + net + "']"));
  auto index = BuildOk(std::move(specs));
  EXPECT_THAT(index->report().rejected, IsEmpty());
  EXPECT_EQ(index->report().decided, domains.size() + nets.size());

  Matcher m(index);
  struct Count : HitSink {
    int n = 0;
    void OnHit(const Event&, const Hit&) override { ++n; }
  } count;
  for (size_t i = 0; i < domains.size(); i += 97) {
    count.n = 0;
    m.Match(TestEvent().Domain(domains[i]).event(), count);
    EXPECT_GE(count.n, 1) << domains[i];
    count.n = 0;
    m.Match(TestEvent().Domain("not-listed-" + std::to_string(i) + "." + domains[i]).event(), count);
    EXPECT_EQ(count.n, 0) << domains[i];
  }
  for (size_t i = 0; i < nets.size(); i += 13) {
    auto prefix = *normalize::Cidr(nets[i]);
    auto last = prefix.addr;
    for (int bit = prefix.length; bit < 128; ++bit) last.bytes[bit / 8] |= uint8_t(0x80 >> (bit % 8));
    for (const auto& addr : {prefix.addr, last}) {
      count.n = 0;
      m.Match(TestEvent().Ip(normalize::FormatIp(addr)).event(), count);
      EXPECT_GE(count.n, 1) << nets[i];
    }
  }
  // Addresses in and out of the lists: the index agrees with a linear scan.
  std::vector<normalize::IpPrefix> prefixes;
  for (const std::string& net : nets) prefixes.push_back(*normalize::Cidr(net));
  int inside = 0;
  for (uint32_t i = 0; i < 2000; ++i) {
    uint32_t v = i * 2654435761u;
    std::string ip = absl::StrFormat("%d.%d.%d.%d", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
    int expected = 0;
    for (const auto& p : prefixes) expected += p.Contains(*normalize::Ip(ip));
    count.n = 0;
    m.Match(TestEvent().Ip(ip).event(), count);
    EXPECT_EQ(count.n, expected) << ip;
    inside += expected > 0;
  }
  EXPECT_GT(inside, 10);
  EXPECT_LT(inside, 1990);
}

// A matcher thread runs events while the main thread swaps indexes. Each
// event carries two keys; index generation g lists both under indicators of
// that generation only, so an event that saw half of one index and half of
// another would report a mixed pair. Every event must report exactly two hits
// from one generation.
TEST(Index, HotSwapUnderRunningMatcher) {
  constexpr int kGenerations = 40;
  std::vector<std::shared_ptr<const Index>> indexes;
  for (int g = 0; g < kGenerations; ++g) {
    std::vector<IndicatorSpec> specs;
    for (int i = 0; i < 200; ++i) specs.push_back(Spec(g * 1000 + i, absl::StrFormat("[domain-name:value = 'filler%d.g%d.example']", i, g)));
    specs.push_back(Spec(g * 1000 + 998, "[domain-name:value = 'a.example']"));
    specs.push_back(Spec(g * 1000 + 999, "[ipv4-addr:value = '192.0.2.0/24']"));
    indexes.push_back(BuildOk(std::move(specs)));
  }
  IndexHolder holder(indexes[0]);
  std::atomic<bool> stop{false};
  struct Check : HitSink {
    std::vector<uint32_t> generations;
    std::string first;
    void OnHit(const Event&, const Hit& h) override {
      const std::string_view id = h.indicator_id();
      generations.push_back(uint32_t(std::stoul(std::string(id.substr(id.size() - 12)))) / 1000);
    }
  };
  uint64_t events = 0, hits = 0, mixed = 0, wrong_count = 0;
  std::set<uint32_t> seen_generations;
  std::thread matcher_thread([&] {
    Matcher m(holder);
    Check sink;
    TestEvent e;
    e.Domain("a.example").Ip("192.0.2.77");
    while (!stop.load() || events < 1000) {
      sink.generations.clear();
      size_t n = m.Match(e.event(), sink);
      ++events;
      hits += n;
      if (n != 2) ++wrong_count;
      else if (sink.generations[0] != sink.generations[1]) ++mixed;
      else seen_generations.insert(sink.generations[0]);
    }
  });
  for (int round = 0; round < 200; ++round) {
    holder.Swap(indexes[round % kGenerations]);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  stop = true;
  matcher_thread.join();
  EXPECT_EQ(wrong_count, 0u);
  EXPECT_EQ(mixed, 0u);
  EXPECT_EQ(hits, 2 * events);
  EXPECT_GT(seen_generations.size(), 5u) << "the matcher should have seen several swaps";
}

}  // namespace
}  // namespace cordon::match
