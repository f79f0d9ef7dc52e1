#include "export/export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "dns/xfr_server.h"
#include "dns/zone.h"
#include "export/run.h"
#include "ingest/ingest.h"
#include "store/sqlite/sqlite_store.h"
#include "testutil/testutil.h"

namespace cordon::exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kCol = "0c6c1c2e-7f4e-4d55-9a49-3c9b8e1f0a01";
constexpr const char* kSrc = "identity--5c3f2c1a-0000-4000-8000-00000000beef";

std::string Id(int i) {
  char buf[64];
  snprintf(buf, sizeof buf, "indicator--7a000000-0000-4000-8000-%012d", i);
  return buf;
}

std::string Indicator(int i, const std::string& pattern, const std::string& extra = "") {
  return R"({"type":"indicator","spec_version":"2.1","id":")" + Id(i) +
         R"(","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","pattern":")" + pattern +
         R"(","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z","created_by_ref":")" + kSrc + "\"" + extra +
         "}";
}

decide::Decision Block(decide::Scope scope, std::string target, int64_t id) {
  decide::Decision d;
  d.id = id;
  d.action = decide::Action::kBlock;
  d.scope = scope;
  d.target = std::move(target);
  d.reason = "test";
  d.author = "tester";
  return d;
}

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto st = store::OpenSqliteStore(dir_.path() / "cordon.db");
    ASSERT_TRUE(st.ok()) << st.status();
    store_ = std::move(*st);
    ASSERT_TRUE(store_->PutApiRoot({"cordon", "t", "", 1 << 20}).ok());
    ASSERT_TRUE(store_->PutCollection({kCol, "cordon", "feeds", "", ""}).ok());
  }
  void Import(const std::vector<std::string>& objects) {
    std::string bundle = R"({"type":"bundle","id":"bundle--7a000000-0000-4000-8000-000000000000","objects":[)";
    for (size_t i = 0; i < objects.size(); ++i) bundle += (i ? "," : "") + objects[i];
    bundle += "]}";
    auto r = ingest::IngestDocument(*store_, kCol, bundle);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->rejected, 0) << (r->objects.empty() ? "" : r->objects[0].reason);
  }
  std::string RenderOne(Format f, const ExportSet& set) { return Render(f, set, {})[0].content; }

  testutil::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(ExportTest, CollectAppliesTheResolutionRuleAndExclusions) {
  Import({
      Indicator(1, "[domain-name:value = 'Evil.Example.']"),
      Indicator(2, "[domain-name:value = 'shared.example'] OR [ipv4-addr:value = '203.0.113.5']"),
      Indicator(3, "[domain-name:value = 'shared.example']"),  // allowed: removes shared.example for all
      Indicator(4, "[domain-name:value = 'known-good.example']"),
      Indicator(5, "[domain-name:value = 'old.example']", R"(,"valid_until":"2026-02-01T00:00:00Z")"),
      Indicator(6, "[domain-name:value = 'revoked.example']", R"(,"revoked":true)"),
      Indicator(7, "[domain-name:value = 'a.example' AND domain-name:value = 'b.example']"),
      Indicator(8, "[domain-name:value = 'monitored.example']"),
      Indicator(9, "[ipv6-addr:value ISSUBSET '2001:db8::/32'] OR [domain-name:value LIKE '%.tree.example']"),
      Indicator(10, "[domain-name:value = 'future.example']", R"(,"valid_until":"2099-01-01T00:00:00Z")"),
  });
  std::vector<decide::Decision> ds;
  ds.push_back(Block(decide::Scope::kSource, kSrc, 1));
  auto allow = Block(decide::Scope::kIndicator, Id(3), 2);
  allow.action = decide::Action::kAllow;
  ds.push_back(allow);
  auto monitor = Block(decide::Scope::kIndicator, Id(8), 3);
  monitor.action = decide::Action::kMonitor;
  ds.push_back(monitor);
  auto expiring = Block(decide::Scope::kCollection, kCol, 4);
  expiring.expires = Timestamp{Now().ns + 3'600'000'000'000LL};
  ds.push_back(expiring);
  WarningCheck warning = [](Entry::Kind, std::string_view v, bool) -> std::optional<std::string> {
    if (v == "known-good.example") return "top sites";
    return std::nullopt;
  };
  auto set = Collect(*store_, ds, warning, Now(), false);
  ASSERT_TRUE(set.ok()) << set.status();
  std::string plain = RenderOne(Format::kPlain, *set);
  EXPECT_EQ(plain,
            "evil.example\n203.0.113.5\n2001:db8::/32\n*.tree.example\nfuture.example\n");
  EXPECT_EQ(set->stats.indicators, 10);
  EXPECT_EQ(set->stats.expired, 2);        // valid_until passed, revoked
  EXPECT_EQ(set->stats.not_reducible, 1);  // AND
  EXPECT_EQ(set->stats.warning_listed, 1);
  EXPECT_EQ(set->stats.allowed, 1);
  // Earliest future change: the collection decision's expiry (before 2099).
  ASSERT_TRUE(set->next_change.has_value());
  EXPECT_EQ(set->next_change->ns, expiring.expires->ns);
}

TEST_F(ExportTest, CachedIndicatorsGiveTheSameSetUntilCleared) {
  Import({
      Indicator(1, "[domain-name:value = 'one.example']"),
      Indicator(2, "[domain-name:value = 'two.example'] OR [ipv4-addr:value = '198.51.100.0/24']"),
      Indicator(3, "[domain-name:value = 'a.example' AND domain-name:value = 'b.example']"),
      Indicator(4, "[domain-name:value = 'old.example']", R"(,"valid_until":"2026-02-01T00:00:00Z")"),
  });
  IndicatorCache cache;
  auto allow = Block(decide::Scope::kIndicator, Id(2), 2);
  allow.action = decide::Action::kAllow;
  for (const auto& ds : std::vector<std::vector<decide::Decision>>{
           {Block(decide::Scope::kSource, kSrc, 1)},
           {Block(decide::Scope::kSource, kSrc, 1), allow},
           {Block(decide::Scope::kIndicator, Id(2), 3)},
       }) {
    auto direct = Collect(*store_, ds, nullptr, Now(), false);
    auto cached = Collect(*store_, ds, nullptr, Now(), false, &cache);
    ASSERT_TRUE(direct.ok() && cached.ok());
    EXPECT_TRUE(cache.filled);
    EXPECT_EQ(RenderOne(Format::kCsv, *cached), RenderOne(Format::kCsv, *direct));
    EXPECT_EQ(cached->stats.blocked, direct->stats.blocked);
    EXPECT_EQ(cached->stats.not_reducible, direct->stats.not_reducible);
    EXPECT_EQ(cached->stats.expired, direct->stats.expired);
  }
  // The cache is what the store held when it was filled: a later object shows
  // only once the caller clears it.
  Import({Indicator(5, "[domain-name:value = 'late.example']")});
  std::vector<decide::Decision> block_all = {Block(decide::Scope::kSource, kSrc, 1)};
  auto stale = Collect(*store_, block_all, nullptr, Now(), false, &cache);
  ASSERT_TRUE(stale.ok());
  EXPECT_THAT(RenderOne(Format::kPlain, *stale), Not(HasSubstr("late.example")));
  cache.Clear();
  auto fresh = Collect(*store_, block_all, nullptr, Now(), false, &cache);
  ASSERT_TRUE(fresh.ok());
  EXPECT_THAT(RenderOne(Format::kPlain, *fresh), HasSubstr("late.example"));
}

TEST_F(ExportTest, NoBlockDecisionReadsNothing) {
  Import({Indicator(1, "[domain-name:value = 'evil.example']")});
  auto set = Collect(*store_, {}, nullptr, Now(), false);
  ASSERT_TRUE(set.ok());
  EXPECT_TRUE(set->entries.empty());
  EXPECT_EQ(set->stats.indicators, 0);
}

TEST_F(ExportTest, RpzTriggersAndPolicies) {
  Import({
      Indicator(1, "[domain-name:value = 'nx.example']"),
      Indicator(2, "[domain-name:value = 'nodata.example']"),
      Indicator(3, "[domain-name:value = 'walled.example'] OR [ipv4-addr:value = '10.0.0.0/8']"),
      Indicator(4, "[ipv6-addr:value = '2001:db8::1'] OR [ipv6-addr:value = '2001:db8:0:1:0:0:0:0/64'] OR "
                   "[ipv6-addr:value = '1:0:0:2:0:0:0:3'] OR [ipv6-addr:value = '1:0:0:2:0:0:3:4'] OR "
                   "[ipv4-addr:value = '192.0.2.1']"),
  });
  auto nx = Block(decide::Scope::kIndicator, Id(1), 1);
  nx.subdomains = true;
  auto nodata = Block(decide::Scope::kIndicator, Id(2), 2);
  nodata.policy = {decide::Policy::Kind::kNodata, ""};
  auto cname = Block(decide::Scope::kIndicator, Id(3), 3);
  cname.policy = {decide::Policy::Kind::kCname, "garden.example"};
  auto ips = Block(decide::Scope::kIndicator, Id(4), 4);
  auto set = Collect(*store_, {nx, nodata, cname, ips}, nullptr, Now(), false);
  ASSERT_TRUE(set.ok()) << set.status();
  std::string zone = RenderOne(Format::kRpz, *set);
  EXPECT_THAT(zone, HasSubstr("IN SOA localhost. hostmaster.localhost. @SERIAL@ "));
  EXPECT_THAT(zone, HasSubstr("\nnx.example CNAME . ; " + Id(1) + " decision 1\n"));
  EXPECT_THAT(zone, HasSubstr("\n*.nx.example CNAME . ; "));
  EXPECT_THAT(zone, HasSubstr("\nnodata.example CNAME *. ; "));
  EXPECT_THAT(zone, Not(HasSubstr("*.nodata.example")));
  EXPECT_THAT(zone, HasSubstr("\nwalled.example CNAME garden.example. ; "));
  EXPECT_THAT(zone, HasSubstr("\n8.0.0.0.10.rpz-ip CNAME garden.example. ; "));
  EXPECT_THAT(zone, HasSubstr("\n128.1.zz.db8.2001.rpz-ip CNAME . ; "));
  EXPECT_THAT(zone, HasSubstr("\n64.zz.1.0.db8.2001.rpz-ip CNAME . ; "));
  EXPECT_THAT(zone, HasSubstr("\n128.3.zz.2.0.0.1.rpz-ip CNAME . ; "));  // the longest zero run
  EXPECT_THAT(zone, HasSubstr("\n128.4.3.0.0.2.zz.1.rpz-ip CNAME . ; "));  // of equal runs, the first
  EXPECT_THAT(zone, HasSubstr("\n32.1.2.0.192.rpz-ip CNAME . ; "));
}

TEST_F(ExportTest, RpzLeavesOutNamesTooLongForTheZone) {
  // Both are valid domain names (at most 253 bytes): 199 and 250 bytes.
  const std::string label(63, 'a');
  const std::string fits = label + "." + label + "." + label + ".example";
  const std::string too_long = label + "." + label + "." + label + "." + std::string(50, 'b') + ".example";
  Import({Indicator(1, "[domain-name:value = '" + fits + "']"), Indicator(2, "[domain-name:value = '" + too_long + "']")});
  auto set = Collect(*store_, {Block(decide::Scope::kSource, kSrc, 1)}, nullptr, Now(), false);
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->entries.size(), 2u);
  // Under "rpz.local" a name of 250 + 1 + 9 bytes is 262 bytes on the wire: left out.
  std::string zone = Render(Format::kRpz, *set, {.rpz_zone = "rpz.local"})[0].content;
  EXPECT_THAT(zone, HasSubstr("\n" + fits + " CNAME . ;"));
  EXPECT_THAT(zone, Not(HasSubstr(too_long)));
  // Under a 60-byte zone name the first one no longer fits either.
  zone = Render(Format::kRpz, *set, {.rpz_zone = std::string(60, 'z')})[0].content;
  EXPECT_THAT(zone, Not(HasSubstr(fits)));
  // What the render keeps, the transfer server accepts under that name.
  zone = Render(Format::kRpz, *set, {.rpz_zone = "rpz.local"})[0].content;
  zone.replace(zone.find(kSerialToken), kSerialToken.size(), "1");
  auto parsed = dns::ParseZoneText(zone);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  auto server = dns::XfrServer::Start({.origin = "rpz.local", .listen = "127.0.0.1:0"});
  ASSERT_TRUE(server.ok());
  EXPECT_TRUE((*server)->Publish(std::move(*parsed)).ok());
}

TEST_F(ExportTest, OtherFormats) {
  Import({Indicator(1, "[domain-name:value = 'evil.example'] OR [ipv4-addr:value = '192.0.2.1'] OR "
                       "[url:value = 'http://evil.example/a,b'] OR [file:hashes.MD5 = "
                       "'D41D8CD98F00B204E9800998ECF8427E'] OR [ipv6-addr:value = '2001:db8::/48']")});
  auto d = Block(decide::Scope::kIndicator, Id(1), 7);
  d.reason = "phishing, \"urgent\"";
  auto set = Collect(*store_, {d}, nullptr, Now(), true);
  ASSERT_TRUE(set.ok()) << set.status();

  std::string zeek = RenderOne(Format::kZeek, *set);
  EXPECT_THAT(zeek, HasSubstr("#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n"));
  EXPECT_THAT(zeek, HasSubstr("\nevil.example\tIntel::DOMAIN\tcordon:" + std::string(kSrc) + "\t"));
  EXPECT_THAT(zeek, HasSubstr("\n192.0.2.1\tIntel::ADDR\t"));
  EXPECT_THAT(zeek, HasSubstr("\nevil.example/a,b\tIntel::URL\t"));
  EXPECT_THAT(zeek, HasSubstr("\nd41d8cd98f00b204e9800998ecf8427e\tIntel::FILE_HASH\t"));
  EXPECT_THAT(zeek, HasSubstr("\n2001:db8::/48\tIntel::SUBNET\t"));

  std::string csv = RenderOne(Format::kCsv, *set);
  EXPECT_THAT(csv, HasSubstr("\nurl,\"http://evil.example/a,b\",nxdomain,false," + Id(1)));
  EXPECT_THAT(csv, HasSubstr(",7,tester,\"phishing, \"\"urgent\"\"\",\n"));

  std::string nft = RenderOne(Format::kNftables, *set);
  EXPECT_THAT(nft, HasSubstr("type ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n\t\telements = {\n\t\t\t192.0.2.1\n"));
  EXPECT_THAT(nft, HasSubstr("elements = {\n\t\t\t2001:db8::/48\n"));

  auto suricata = Render(Format::kSuricata, *set, {.dataset_basename = "cordon.rules"});
  ASSERT_EQ(suricata.size(), 3u);
  EXPECT_EQ(suricata[0].suffix, ".ipv4.lst");
  EXPECT_EQ(suricata[0].content, "192.0.2.1\n");
  const std::string& rules = suricata[2].content;
  EXPECT_THAT(rules, HasSubstr("dns.query; bsize:12; content:\"evil.example\"; nocase;"));
  EXPECT_THAT(rules, HasSubstr("tls.sni; bsize:12;"));
  EXPECT_THAT(rules, HasSubstr("http.host; bsize:12;"));
  EXPECT_THAT(rules, HasSubstr("ip.dst; dataset:isset,cordon-ipv4,type ipv4,load cordon.rules.ipv4.lst;"));
  // Stable sids: the same value keeps its rule id when other values come and go.
  auto sid_of = [](const std::string& r, const std::string& needle) {
    size_t at = r.find(needle);
    size_t sid = r.find("sid:", at);
    return r.substr(sid, r.find(';', sid) - sid);
  };
  std::string sid = sid_of(rules, "dns.query; bsize:12");
  Import({Indicator(2, "[domain-name:value = 'another.example']")});
  auto more = Collect(*store_, {Block(decide::Scope::kSource, kSrc, 8)}, nullptr, Now(), true);
  ASSERT_TRUE(more.ok());
  EXPECT_EQ(sid_of(Render(Format::kSuricata, *more, {})[2].content, "dns.query; bsize:12"), sid);

  std::string stix = RenderOne(Format::kStix, *set);
  EXPECT_THAT(stix, HasSubstr("\"id\":\"" + Id(1) + "\""));
  EXPECT_THAT(stix, HasSubstr("\"type\":\"note\""));
  EXPECT_THAT(stix, HasSubstr("\"object_refs\":[\"" + Id(1) + "\"]"));
  EXPECT_EQ(stix, RenderOne(Format::kStix, *set));  // deterministic (bundle id included)
}

TEST_F(ExportTest, SerialMovesOnlyOnChangeAndNeverBackwards) {
  Import({Indicator(1, "[domain-name:value = 'evil.example']"), Indicator(2, "[domain-name:value = 'x.example']")});
  auto decisions = decide::DecisionStore::Open((dir_.path() / "decisions.db").string());
  ASSERT_TRUE(decisions.ok());
  auto block = Block(decide::Scope::kIndicator, Id(1), 0);
  ASSERT_TRUE((*decisions)->Add(block).ok());
  std::string out = (dir_.path() / "rpz.zone").string();
  // A serial far in the future (clock stepped back since): the next one still grows.
  ASSERT_TRUE((*decisions)->PutSerial("rpz:" + out, {4'000'000'000, "stale"}).ok());
  Exporter ex(*store_, **decisions, {.format = Format::kRpz, .output = out});
  std::ostringstream ignored;
  auto first = ex.ExportOnce(ignored);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->written);
  EXPECT_EQ(first->serial, 4'000'000'001);
  auto again = ex.ExportOnce(ignored);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->written);
  EXPECT_EQ(again->serial, first->serial);
  ASSERT_TRUE((*decisions)->Add(Block(decide::Scope::kIndicator, Id(2), 0)).ok());
  auto changed = ex.ExportOnce(ignored);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(changed->written);
  EXPECT_GT(changed->serial, first->serial);
  std::string zone = testutil::ReadFile(out);
  EXPECT_THAT(zone, HasSubstr(" " + std::to_string(changed->serial) + " 3600 600 86400 60\n"));
  EXPECT_THAT(zone, HasSubstr("\nx.example CNAME ."));
  // Only the zone is left in the directory: no temporary files.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) files += e.path().filename() == "rpz.zone";
  EXPECT_EQ(files, 1);
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_THAT(e.path().filename().string(), Not(HasSubstr(".tmp.")));
  }
}

TEST_F(ExportTest, FailedReloadIsRetriedByTheNextExport) {
  Import({Indicator(1, "[domain-name:value = 'evil.example']")});
  auto decisions = decide::DecisionStore::Open((dir_.path() / "decisions.db").string());
  ASSERT_TRUE(decisions.ok());
  ASSERT_TRUE((*decisions)->Add(Block(decide::Scope::kIndicator, Id(1), 0)).ok());
  std::string out = (dir_.path() / "rpz.zone").string();
  std::string flag = (dir_.path() / "reloaded").string();
  // Fails the first time, succeeds (and leaves a mark) the second.
  std::string cmd = "if [ -e " + flag + ".try ]; then touch " + flag + "; else touch " + flag + ".try; exit 1; fi";
  Exporter ex(*store_, **decisions, {.format = Format::kRpz, .output = out, .reload_command = cmd});
  std::ostringstream ignored;
  auto first = ex.ExportOnce(ignored);
  EXPECT_FALSE(first.ok());
  EXPECT_TRUE(std::filesystem::exists(out));
  auto second = ex.ExportOnce(ignored);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->written);
  EXPECT_TRUE(std::filesystem::exists(flag));
  auto third = ex.ExportOnce(ignored);
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(third->written);  // reloaded and unchanged: nothing more to do
}

TEST(WriteFileAtomicallyTest, ReplacesAndReportsErrors) {
  testutil::TempDir dir;
  auto path = dir.path() / "f.txt";
  ASSERT_TRUE(WriteFileAtomically(path, "one").ok());
  ASSERT_TRUE(WriteFileAtomically(path, "two").ok());
  EXPECT_EQ(testutil::ReadFile(path), "two");
  auto bad = WriteFileAtomically(dir.path() / "missing" / "f.txt", "x");
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.message()), HasSubstr("cannot create"));
  EXPECT_TRUE(RunCommand("true").ok());
  EXPECT_THAT(std::string(RunCommand("exit 3").message()), HasSubstr("exited with status 3"));
}

}  // namespace
}  // namespace cordon::exporter
