#include "events/sightings.h"

#include <gtest/gtest.h>

#include "base/uuid.h"

namespace cordon::events {
namespace {

Timestamp T(const char* iso) { return *ParseTimestamp(iso); }

TEST(Sightings, AggregatesPerIndicatorAndWindow) {
  const std::string identity = "identity--11111111-2222-4333-8444-555555555555";
  SightingAggregator agg(3600, identity);
  agg.Add("indicator--a", T("2024-05-01T10:59:59Z"));
  agg.Add("indicator--a", T("2024-05-01T10:00:00Z"));
  agg.Add("indicator--a", T("2024-05-01T11:00:00Z"));  // next window
  agg.Add("indicator--b", T("2024-05-01T10:30:00Z"));
  auto changed = agg.TakeChanged();
  ASSERT_EQ(changed.size(), 3u);
  EXPECT_EQ(changed[0].indicator_id, "indicator--a");
  EXPECT_EQ(changed[0].count, 2u);
  EXPECT_EQ(changed[0].first_seen, T("2024-05-01T10:00:00Z"));
  EXPECT_EQ(changed[0].last_seen, T("2024-05-01T10:59:59Z"));
  EXPECT_EQ(changed[0].window_start, T("2024-05-01T10:00:00Z"));
  EXPECT_EQ(changed[1].count, 1u);
  EXPECT_NE(changed[0].id, changed[1].id);
  EXPECT_TRUE(agg.TakeChanged().empty());
  agg.Add("indicator--b", T("2024-05-01T10:40:00Z"));
  changed = agg.TakeChanged();
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].count, 2u);
}

// Log times outside int64 ns saturate (base/time.h); their windows are the
// span's first and last, found without overflowing.
TEST(Sightings, SaturatedTimesFallInTheOutermostWindows) {
  SightingAggregator agg(3600, "identity--11111111-2222-4333-8444-555555555555");
  agg.Add("indicator--a", T("0001-01-01T00:00:00Z"));
  agg.Add("indicator--a", T("1677-09-21T00:30:00Z"));  // inside the span's first hour
  agg.Add("indicator--a", T("9999-12-31T23:59:59Z"));
  auto changed = agg.TakeChanged();
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_EQ(changed[0].window_start.ns, INT64_MIN);
  EXPECT_EQ(changed[0].count, 2u);
  EXPECT_LE(changed[1].window_start.ns, INT64_MAX);
  EXPECT_GT(changed[1].window_start.ns, INT64_MAX - int64_t{3600} * 1'000'000'000);
}

TEST(Sightings, IdsAreNameBasedAndStable) {
  std::string a = SightingAggregator::SightingId("indicator--x", T("2024-05-01T10:00:00Z"), "identity--n");
  EXPECT_EQ(a, SightingAggregator::SightingId("indicator--x", T("2024-05-01T10:00:00Z"), "identity--n"));
  EXPECT_NE(a, SightingAggregator::SightingId("indicator--x", T("2024-05-01T11:00:00Z"), "identity--n"));
  EXPECT_NE(a, SightingAggregator::SightingId("indicator--x", T("2024-05-01T10:00:00Z"), "identity--m"));
  ASSERT_TRUE(a.starts_with("sighting--"));
  EXPECT_TRUE(IsUuid(a.substr(10)));
  EXPECT_EQ(UuidVersion(a.substr(10)), 5);
}

TEST(Sightings, RendersTheStixProperties) {
  SightingAggregator agg(60, "identity--11111111-2222-4333-8444-555555555555");
  agg.Add("indicator--a", T("2024-05-01T10:00:01.5Z"));
  auto s = agg.TakeChanged().at(0);
  std::string json = agg.Render(s, T("2024-06-01T00:00:00Z"), T("2024-06-02T00:00:00Z"));
  EXPECT_NE(json.find("\"type\":\"sighting\""), std::string::npos);
  EXPECT_NE(json.find("\"count\":1"), std::string::npos);
  EXPECT_NE(json.find("\"first_seen\":\"2024-05-01T10:00:01.500Z\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"sighting_of_ref\":\"indicator--a\""), std::string::npos);
  EXPECT_NE(json.find("\"where_sighted_refs\":[\"identity--11111111-2222-4333-8444-555555555555\"]"),
            std::string::npos);
  EXPECT_NE(json.find("\"created\":\"2024-06-01T00:00:00.000Z\",\"modified\":\"2024-06-02T00:00:00.000Z\""),
            std::string::npos) << json;
}

TEST(Sightings, CarryTheStrictestTlpOfTheIndicator) {
  SightingAggregator agg(60, "identity--11111111-2222-4333-8444-555555555555");
  agg.Add("indicator--a", T("2024-05-01T10:00:01Z"), stix::Tlp::kGreen);
  agg.Add("indicator--a", T("2024-05-01T10:00:02Z"), stix::Tlp::kAmber);  // re-marked between builds
  agg.Add("indicator--b", T("2024-05-01T10:00:03Z"));
  auto changed = agg.TakeChanged();
  ASSERT_EQ(changed.size(), 2u);
  for (const auto& s : changed) {
    std::string json = agg.Render(s, T("2024-06-01T00:00:00Z"), T("2024-06-01T00:00:00Z"));
    if (s.indicator_id == "indicator--a") {
      EXPECT_NE(json.find("\"object_marking_refs\":[\"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421\"]"),
                std::string::npos) << json;
    } else {
      EXPECT_EQ(json.find("object_marking_refs"), std::string::npos) << json;
    }
  }
}

TEST(Alerts, OneJsonLinePerHit) {
  match::Event e;
  e.time = T("2024-05-01T10:00:00.25Z");
  e.source = "dns.log";
  e.line = 42;
  match::Key k;
  k.type = match::KeyType::kDomain;
  k.text = "evil.example";
  k.field = "query";
  std::string out;
  AppendAlertJson(out, "indicator--a", &k, e);
  EXPECT_EQ(out, "{\"indicator\":\"indicator--a\",\"value\":\"evil.example\",\"type\":\"domain\",\"field\":\"query\","
                 "\"time\":\"2024-05-01T10:00:00.250000Z\",\"source\":\"dns.log\",\"line\":42}\n");
  out.clear();
  AppendAlertJson(out, "indicator--b", nullptr, e);
  EXPECT_NE(out.find("\"value\":null"), std::string::npos);
}

}  // namespace
}  // namespace cordon::events
