#include "base/time.h"

#include <gtest/gtest.h>

#include <ctime>
#include <random>

#include "absl/strings/str_format.h"
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

// Years STIX allows but int64 ns cannot hold saturate to the span's ends
// (computed without overflow: UBSan in the dev preset checks that), and every
// instant inside the span, its first and last nanosecond included, is exact.
TEST(Time, InstantsOutsideTheSpanSaturate) {
  EXPECT_EQ(ParseTimestamp("9999-12-31T23:59:59Z")->ns, INT64_MAX);
  EXPECT_EQ(ParseTimestamp("2262-04-11T23:47:17Z")->ns, INT64_MAX);
  EXPECT_EQ(ParseTimestamp("0000-01-01T00:00:00Z")->ns, INT64_MIN);
  EXPECT_EQ(ParseTimestamp("1677-09-21T00:12:43.145224191Z")->ns, INT64_MIN);
  EXPECT_TRUE(IsSaturated(*ParseTimestamp("9999-12-31T23:59:59Z")));
  EXPECT_TRUE(IsSaturated(*ParseTimestamp("0001-01-01T00:00:00Z")));

  EXPECT_EQ(ParseTimestamp("2262-04-11T23:47:16.854775806Z")->ns, INT64_MAX - 1);
  EXPECT_EQ(ParseTimestamp("2262-04-11T23:47:16.854775807Z")->ns, INT64_MAX);
  EXPECT_EQ(ParseTimestamp("1677-09-21T00:12:43.145224193Z")->ns, INT64_MIN + 1);
  EXPECT_EQ(ParseTimestamp("1677-09-21T00:12:43.145224192Z")->ns, INT64_MIN);
  EXPECT_FALSE(IsSaturated(*ParseTimestamp("2262-04-11T23:47:16Z")));
  EXPECT_EQ(FormatTimestamp(kLatest), "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(FormatTimestamp(kEarliest), "1677-09-21T00:12:43.145224192Z");

  EXPECT_EQ(FromUnixSeconds(INT64_MAX / 1'000'000'000, 854'775'807, 9).ns, INT64_MAX);
  EXPECT_EQ(FromUnixSeconds(INT64_MAX / 1'000'000'000, 854'775'808, 9).ns, INT64_MAX);  // one past: saturated
  EXPECT_EQ(FromUnixSeconds(INT64_MAX, 0, 0).ns, INT64_MAX);
  EXPECT_EQ(FromUnixSeconds(INT64_MIN, 0, 0).ns, INT64_MIN);
  EXPECT_EQ(FromUnixSeconds(-1, 999'999'999, 9).ns, -1);
}

// The in-place digit writer against glibc's gmtime_r + snprintf, over random
// instants of the whole range of Timestamp (int64 ns: 1677 to 2262, negative
// epochs included) and every precision.
TEST(Time, FormatAgreesWithGmtime) {
  std::mt19937_64 random(42);
  const int64_t lo = -9'223'372'035LL, hi = 9'223'372'035LL;  // seconds
  for (int i = 0; i < 200000; ++i) {
    const int64_t secs = lo + static_cast<int64_t>(random() % static_cast<uint64_t>(hi - lo));
    const int64_t frac = static_cast<int64_t>(random() % 1'000'000'000);
    const int digits = static_cast<int>(random() % 10);
    time_t tt = secs;
    tm parts{};
    ASSERT_NE(gmtime_r(&tt, &parts), nullptr);
    char want[64];
    int n = std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d", parts.tm_year + 1900, parts.tm_mon + 1,
                          parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
    std::string expected(want, n);
    if (digits > 0) {
      char f[16];
      std::snprintf(f, sizeof f, "%09lld", static_cast<long long>(frac));
      expected += '.';
      expected.append(f, digits);
    }
    expected += 'Z';
    const Timestamp t{secs * 1'000'000'000 + frac, static_cast<int8_t>(digits)};
    ASSERT_EQ(FormatTimestamp(t, digits), expected) << secs << " " << frac;
  }
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

// JSON text is UTF-8: well-formed sequences pass (1 to 4 bytes, at and past
// the 16-byte fast path), each byte of a malformed one becomes U+FFFD (a
// Zeek field with raw bytes once made the observed data unloadable; found by
// events_fuzz).
TEST(JsonWriter, InvalidUtf8BecomesReplacementCharacters) {
  const std::string ok = "Đà Nẵng, Москва, 東京, 서울, \xF0\x9F\x98\x80";
  EXPECT_EQ(JsonString(ok), "\"" + ok + "\"");
  EXPECT_EQ(JsonString(std::string(20, 'a') + ok), "\"" + std::string(20, 'a') + ok + "\"");
  EXPECT_EQ(JsonString("ud\x90\xf6x"), R"("ud\ufffd\ufffdx")");      // stray continuation, truncated lead
  EXPECT_EQ(JsonString("\xC0\xAF"), R"("\ufffd\ufffd")");             // overlong '/'
  EXPECT_EQ(JsonString("\xED\xA0\x80"), R"("\ufffd\ufffd\ufffd")");    // a UTF-16 surrogate
  EXPECT_EQ(JsonString("\xF4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // above U+10FFFF
  EXPECT_EQ(JsonString("\xE2\x82"), R"("\ufffd\ufffd")");              // cut short at the end
  EXPECT_EQ(JsonString(std::string(17, 'b') + "\xFF\""), "\"" + std::string(17, 'b') + "\\ufffd\\\"\"");
}

// Every character that needs escaping, at every offset around the 16-byte
// steps of the fast path, in strings of every length up to 40, against a
// byte-by-byte reference (RFC 8259 escapes).
TEST(JsonWriter, EscapesAtEveryOffset) {
  auto reference = [](std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      if (c == '"') out += "\\\"";
      else if (c == '\\') out += "\\\\";
      else if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else if (c == '\t') out += "\\t";
      else if (c == '\b') out += "\\b";
      else if (c == '\f') out += "\\f";
      else if (c < 0x20) out += absl::StrFormat("\\u%04x", c);
      else out += static_cast<char>(c);
    }
    return out + "\"";
  };
  // Multi-byte UTF-8 passes as is; a lone lead byte is U+FFFD.
  for (std::string special : {"\"", "\\", "\n", "\x01", "\x1f", "\x7f", " ", "\xc3\xa9", "\xe6\x9d\xb1", "\xc3"}) {
    for (size_t length = 0; length <= 40; ++length) {
      for (size_t at = 0; at < length; ++at) {
        std::string s(length, 'a');
        s.replace(at, 1, special);
        std::string want = special == "\xc3" ? reference(s.substr(0, at)).substr(0, at + 1) + "\\ufffd" +
                                                   reference(s.substr(at + 1)).substr(1)
                                             : reference(s);
        ASSERT_EQ(JsonString(s), want) << special << " at " << at << " of " << length;
      }
    }
  }
  std::string prefix = "x";  // appended after existing text
  AppendJsonString(prefix, std::string(20, 'b') + "\"");
  EXPECT_EQ(prefix, "x\"" + std::string(20, 'b') + "\\\"\"");
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
