#include "base/strings.h"

#include <gtest/gtest.h>

namespace cordon {
namespace {

TEST(Strings, SplitKeepsOrSkipsEmpty) {
  EXPECT_EQ(Split("a,,b", ','), (std::vector<std::string_view>{"a", "", "b"}));
  EXPECT_EQ(Split("a,,b,", ',', EmptyParts::kSkip), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_EQ(Split("", ','), (std::vector<std::string_view>{""}));
}

TEST(Strings, TrimAndLower) {
  EXPECT_EQ(Trim("  a b \t\n"), "a b");
  EXPECT_EQ(Trim("   "), "");
  EXPECT_EQ(ToLower("Application/TAXII+Json"), "application/taxii+json");
}

}  // namespace
}  // namespace cordon
