#include "base/strings.h"

#include <gtest/gtest.h>

namespace cordon {
namespace {

TEST(Strings, SplitKeepsOrSkipsEmpty) {
  EXPECT_EQ(Split("a,,b", ','), (std::vector<std::string_view>{"a", "", "b"}));
  EXPECT_EQ(Split("a,,b,", ',', EmptyParts::kSkip), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_EQ(Split("", ','), (std::vector<std::string_view>{""}));
}

// RFC 3629: what JSON output and Hyperscan's UTF-8 mode need.
TEST(Strings, Utf8WellFormed) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("Đà Nẵng, Москва, 東京, 서울, \xF0\x9F\x98\x80, \xF4\x8F\xBF\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // overlong, three bytes
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("ab\xE2\x82"));         // cut short
  EXPECT_FALSE(IsValidUtf8("\x80"));                // stray continuation
  EXPECT_EQ(Utf8SequenceLength("a\xE2\x82\xAC", 1), 3u);
  EXPECT_EQ(Utf8SequenceLength("a", 0), 1u);
}

TEST(Strings, TrimAndLower) {
  EXPECT_EQ(Trim("  a b \t\n"), "a b");
  EXPECT_EQ(Trim("   "), "");
  EXPECT_EQ(ToLower("Application/TAXII+Json"), "application/taxii+json");
}

}  // namespace
}  // namespace cordon
