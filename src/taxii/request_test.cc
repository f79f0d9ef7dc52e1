#include "taxii/request.h"

#include <gtest/gtest.h>

namespace cordon::taxii {
namespace {

TEST(ParseTarget, SplitsAndDecodes) {
  auto t = ParseTarget("/api1/collections/abc%2Ddef/objects/?match%5Btype%5D=indicator&limit=5&x");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->segments, (std::vector<std::string>{"api1", "collections", "abc-def", "objects"}));
  ASSERT_EQ(t->query.size(), 3u);
  EXPECT_EQ(t->query[0].first, "match[type]");
  EXPECT_EQ(t->query[0].second, "indicator");
  EXPECT_EQ(t->query[2].first, "x");
  EXPECT_TRUE(t->trailing_slash);
  EXPECT_FALSE(ParseTarget("/a%zz/").ok());
  EXPECT_FALSE(ParseTarget("/a/?k=%4").ok());
  EXPECT_FALSE(ParseTarget("no-slash").ok());
}

TEST(ParseFilters, AllFilters) {
  auto f = ParseFilters({{"added_after", "2016-02-01T00:00:01.000Z"},
                         {"match[id]", "indicator--1,malware--2"},
                         {"match[type]", "indicator"},
                         {"match[version]", "first,last,2016-01-01T00:00:00Z"},
                         {"match[spec_version]", "2.0,2.1"},
                         {"limit", "50"},
                         {"next", SealCursor(1234)}},
                        {});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->added_after.has_value());
  EXPECT_EQ(f->ids.size(), 2u);
  EXPECT_EQ(f->types, std::vector<std::string>{"indicator"});
  EXPECT_TRUE(f->version.first);
  EXPECT_TRUE(f->version.last);
  EXPECT_FALSE(f->version.all);
  EXPECT_EQ(f->version.versions.size(), 1u);
  EXPECT_EQ(f->spec_versions.size(), 2u);
  EXPECT_EQ(*f->limit, 50);
  EXPECT_EQ(f->next, 1234);
}

TEST(Cursor, SealedValuesOpenAndNothingElseDoes) {
  const std::string a = SealCursor(41), b = SealCursor(41);
  EXPECT_NE(a, b);  // a fresh nonce each time: equal cursors do not look equal
  EXPECT_EQ(*OpenCursor(a), 41);
  EXPECT_EQ(*OpenCursor(b), 41);
  EXPECT_EQ(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos);
  std::string altered = a;
  altered[10] = altered[10] == 'A' ? 'B' : 'A';
  for (const std::string& bad : {std::string("41"), std::string(""), altered, a.substr(1), a + "A"}) {
    auto r = OpenCursor(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
}

TEST(ParseFilters, RejectsBadValuesNamingTheParameter) {
  struct Case {
    std::string key, value;
  };
  for (const Case& c : {Case{"added_after", "2016-02-01"}, Case{"limit", "0"}, Case{"limit", "ten"},
                        Case{"next", "abc"}, Case{"match[version]", "latest"},
                        Case{"match[spec_version]", "2.2"}, Case{"match[colour]", "red"}}) {
    auto f = ParseFilters({{c.key, c.value}}, {});
    ASSERT_FALSE(f.ok()) << c.key;
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(f.status().message()).find(c.key), std::string::npos) << f.status();
  }
  // The versions endpoint does not take match[type].
  EXPECT_FALSE(ParseFilters({{"match[type]", "indicator"}}, {.type = false}).ok());
}

TEST(MediaTypes, Negotiation) {
  EXPECT_TRUE(AcceptsTaxii(""));
  EXPECT_TRUE(AcceptsTaxii("application/taxii+json;version=2.1"));
  EXPECT_TRUE(AcceptsTaxii("application/taxii+json; version=2.1"));
  EXPECT_TRUE(AcceptsTaxii("application/taxii+json"));
  EXPECT_TRUE(AcceptsTaxii("text/html, */*;q=0.8"));
  EXPECT_FALSE(AcceptsTaxii("application/taxii+json;version=2.0"));
  EXPECT_FALSE(AcceptsTaxii("application/json"));
  EXPECT_TRUE(IsTaxiiContentType("application/taxii+json;version=2.1"));
  EXPECT_TRUE(IsTaxiiContentType("Application/TAXII+json"));
  EXPECT_FALSE(IsTaxiiContentType("application/json"));
  EXPECT_FALSE(IsTaxiiContentType("application/stix+json;version=2.1"));
  EXPECT_FALSE(IsTaxiiContentType(""));
}

}  // namespace
}  // namespace cordon::taxii
