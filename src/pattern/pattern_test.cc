#include "pattern/pattern.h"

#include "gtest/gtest.h"

namespace cordon::pattern {
namespace {

TEST(Pattern, Smoke) { EXPECT_TRUE(Validate("[a:b = 1]", Version::k21).ok()); }

}  // namespace
}  // namespace cordon::pattern
