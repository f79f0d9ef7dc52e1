#include "base/time.h"

#include <gtest/gtest.h>

#include "base/json_writer.h"
#include "base/uuid.h"

namespace cordon {
namespace {

TEST(Time, ParsesAndFormatsWithPrecision) {
  auto t = ParseTimestamp("2016-05-12T08:17:27.123Z");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->ns, 1463041047123000000LL);
  EXPECT_EQ(t->frac_digits, 3);
  EXPECT_EQ(FormatTimestamp(*t), "2016-05-12T08:17:27.123Z");
  EXPECT_EQ(FormatTimestamp(*t, 6), "2016-05-12T08:17:27.123000Z");
  EXPECT_EQ(FormatTimestamp(*t, 0), "2016-05-12T08:17:27Z");
}

TEST(Time, EpochAndNanoseconds) {
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z")->ns, 0);
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00.000000001Z")->ns, 1);
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("2000-02-29T23:59:59.999999999Z")),
            "2000-02-29T23:59:59.999999999Z");
}

TEST(Time, RejectsNonUtcAndMalformed) {
  for (const char* bad : {"2016-05-12T08:17:27+01:00", "2016-05-12 08:17:27Z", "2016-05-12T08:17Z",
                          "2016-13-12T08:17:27Z", "2015-02-29T08:17:27Z", "2016-05-12T08:17:27.Z",
                          "2016-05-12T08:17:27.1234567890Z", "2016-05-12T08:17:27z", ""}) {
    EXPECT_FALSE(ParseTimestamp(bad).ok()) << bad;
  }
}

TEST(Time, OrderIsIntegerOrder) {
  EXPECT_LT(*ParseTimestamp("2016-05-12T08:17:27Z"), *ParseTimestamp("2016-05-12T08:17:27.001Z"));
}

TEST(JsonWriter, EscapesControlAndQuotes) {
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
  EXPECT_EQ(JsonString("Việt Nam"), "\"Việt Nam\"");
}

TEST(Uuid, Validates) {
  EXPECT_TRUE(IsUuid("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"));
  EXPECT_FALSE(IsUuid("8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3"));
  EXPECT_FALSE(IsUuid("8e2e2d2b_17d4-4cbf-938f-98ee46b3cd3f"));
  std::string u = NewUuid4();
  EXPECT_TRUE(IsUuid(u));
  EXPECT_EQ(UuidVersion(u), 4);
  EXPECT_NE(u, NewUuid4());
}

}  // namespace
}  // namespace cordon
