#include "match/loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ingest/ingest.h"
#include "normalize/normalize.h"
#include "store/sqlite/sqlite_store.h"
#include "testutil/testutil.h"

namespace cordon::match {
namespace {

using ::testing::HasSubstr;

struct Count : HitSink {
  int n = 0;
  void OnHit(const Event&, const Hit&) override { ++n; }
};

int CountHits(const std::shared_ptr<const Index>& index, KeyType type, const std::string& text) {
  Matcher m(index);
  Event e;
  e.time = *ParseTimestamp("2025-01-01T00:00:00Z");
  Key k;
  k.type = type;
  k.text = text;
  e.keys.push_back(k);
  Count c;
  m.Match(e, c);
  return c.n;
}

TEST(Loader, OasisBundle) {
  IndicatorLoader loader;
  ASSERT_TRUE(loader.AddFile(testutil::SharedData("stix/oasis-examples/indicator-for-c2-ip-address.json")).ok());
  auto specs = loader.Take();
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_EQ(specs[0].id, "indicator--33fe3b22-0201-47cf-85d0-97c02164528d");
  EXPECT_EQ(specs[0].pattern, "[ipv4-addr:value = '10.0.0.0']");
  EXPECT_EQ(specs[0].version, pattern::Version::k21);
  EXPECT_EQ(FormatTimestamp(specs[0].valid_from), "2014-05-08T09:00:00.000000Z");
  EXPECT_FALSE(specs[0].valid_until);
}

// "valid_until": "9999-12-31T23:59:59Z" is how many producers say "no end".
// It lies past int64 nanoseconds (2262) and once wrapped to 1816, so the
// indicator was rejected as ending before it began.
TEST(Loader, ValidUntilInTheYear9999MeansNoEnd) {
  IndicatorLoader loader;
  ASSERT_TRUE(loader.AddJson(R"({"type":"bundle","id":"bundle--44af6c39-c09b-49c5-9de2-394224b04982","objects":[
    {"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
     "created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z",
     "pattern":"[domain-name:value = 'forever.example']","pattern_type":"stix",
     "valid_from":"2016-01-01T00:00:00Z","valid_until":"9999-12-31T23:59:59Z"}]})", "forever.json").ok());
  auto specs = loader.Take();
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_TRUE(loader.report().problems.empty());
  ASSERT_TRUE(specs[0].valid_until);
  EXPECT_EQ(*specs[0].valid_until, kLatest);
  auto index = Index::Build(std::move(specs));
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_TRUE((*index)->report().rejected.empty()) << (*index)->report().Summary();
  EXPECT_EQ(CountHits(*index, KeyType::kDomain, "forever.example"), 1);
}

// A Unit 42 playbook (STIX 2.0 bundle): its indicators build and match their own values.
TEST(Loader, Unit42PlaybookMatchesItsValues) {
  IndicatorLoader loader;
  std::string text = testutil::ReadFile(testutil::SharedData("stix/unit42-playbooks/lokibot.json"));
  ASSERT_TRUE(loader.AddJson(text, "lokibot.json").ok());
  EXPECT_EQ(loader.report().indicators, 5u);
  auto specs = loader.Take();
  ASSERT_EQ(specs.size(), 5u);
  EXPECT_EQ(specs[0].version, pattern::Version::k20);
  auto index = Index::Build(std::move(specs));
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ((*index)->report().decided, 5u) << (*index)->report().Summary();
  EXPECT_EQ(CountHits(*index, KeyType::kSha256, "8a5a024272361bb1ae12860c033bb52685d7b0ea3bce5fac46439f3f3ad36a84"), 1);
  EXPECT_EQ(CountHits(*index, KeyType::kDomain, "efvsx.gq"), 1);
  EXPECT_EQ(CountHits(*index, KeyType::kDomain, "www.efvsx.gq"), 0);
}

TEST(Loader, VersionsAndProblems) {
  IndicatorLoader loader;
  std::string doc = R"([
    {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001",
     "created":"2025-01-01T00:00:00Z","modified":"2025-01-02T00:00:00Z","pattern_type":"stix",
     "pattern":"[domain-name:value = 'new.example']","valid_from":"2025-01-01T00:00:00Z","revoked":true},
    {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001",
     "created":"2025-01-01T00:00:00Z","modified":"2025-01-01T00:00:00Z","pattern_type":"stix",
     "pattern":"[domain-name:value = 'old.example']","valid_from":"2025-01-01T00:00:00Z"},
    {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000002",
     "created":"2025-01-01T00:00:00Z","modified":"2025-01-01T00:00:00Z","pattern_type":"sigma",
     "pattern":"title: x","valid_from":"2025-01-01T00:00:00Z"},
    {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000003",
     "created":"2025-01-01T00:00:00Z","modified":"2025-01-01T00:00:00Z","pattern_type":"stix",
     "pattern":"[domain-name:value = 'x.example']"},
    {"type":"malware","spec_version":"2.1","id":"malware--00000000-0000-4000-8000-000000000003"}
  ])";
  ASSERT_TRUE(loader.AddJson(doc, "doc").ok());
  const LoadReport& r = loader.report();
  EXPECT_EQ(r.objects, 5u);
  EXPECT_EQ(r.indicators, 4u);
  EXPECT_EQ(r.superseded, 1u);
  EXPECT_EQ(r.not_stix, 1u);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].id, "indicator--00000000-0000-4000-8000-000000000003");
  EXPECT_EQ(r.problems[0].reason, "no valid_from");
  auto specs = loader.Take();
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_EQ(specs[0].pattern, "[domain-name:value = 'new.example']");  // the newer version, even listed first
  EXPECT_TRUE(specs[0].revoked);
  EXPECT_THAT(loader.AddJson("{nope", "bad.json").message(), HasSubstr("bad.json"));
}

TEST(Loader, TlpIsTheStrictestMarking) {
  IndicatorLoader loader;
  // TLP 2.0 GREEN, TLP 1.0 AMBER and a statement marking: AMBER wins; none given: kNone.
  std::string doc = R"([
    {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000001",
     "created":"2025-01-01T00:00:00Z","modified":"2025-01-01T00:00:00Z","pattern_type":"stix",
     "pattern":"[domain-name:value = 'a.example']","valid_from":"2025-01-01T00:00:00Z",
     "object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
                            "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
                            "marking-definition--00000000-0000-4000-8000-000000000009"]},
    {"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-4000-8000-000000000002",
     "created":"2025-01-01T00:00:00Z","modified":"2025-01-01T00:00:00Z","pattern_type":"stix",
     "pattern":"[domain-name:value = 'b.example']","valid_from":"2025-01-01T00:00:00Z"}
  ])";
  ASSERT_TRUE(loader.AddJson(doc, "doc").ok());
  auto specs = loader.Take();
  ASSERT_EQ(specs.size(), 2u);
  EXPECT_EQ(specs[0].tlp, stix::Tlp::kAmber);
  EXPECT_EQ(specs[1].tlp, stix::Tlp::kNone);
}

TEST(Loader, StoreCollection) {
  testutil::TempDir dir;
  auto store = store::OpenSqliteStore(dir.path() / "store.db");
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->PutApiRoot({"cordon", "t", "d", 100000000}).ok());
  ASSERT_TRUE((*store)->PutCollection({"c1", "cordon", "c", "", ""}).ok());
  std::string bundle = testutil::ReadFile(testutil::SharedData("stix/oasis-examples/threat-reports/poisonivy.json"));
  auto ingested = ingest::IngestDocument(**store, "c1", bundle);
  ASSERT_TRUE(ingested.ok()) << ingested.status();
  IndicatorLoader loader;
  ASSERT_TRUE(loader.AddCollection(**store, "c1").ok());
  auto specs = loader.Take();
  EXPECT_GT(specs.size(), 0u);
  EXPECT_EQ(specs.size(), loader.report().indicators);
  auto index = Index::Build(std::move(specs));
  ASSERT_TRUE(index.ok());
  EXPECT_TRUE((*index)->report().rejected.empty());
  EXPECT_GT((*index)->report().compiled, 0u) << (*index)->report().Summary();
}

}  // namespace
}  // namespace cordon::match
