#include "base/uuid.h"

#include <gtest/gtest.h>

namespace cordon {
namespace {

TEST(Uuid, Version4IsRandomAndWellFormed) {
  std::string a = NewUuid4(), b = NewUuid4();
  EXPECT_TRUE(IsUuid(a));
  EXPECT_EQ(UuidVersion(a), 4);
  EXPECT_NE(a, b);
}

// Expected values from Python's uuid.uuid5, an independent implementation.
TEST(Uuid, Version5MatchesRfc4122) {
  EXPECT_EQ(NewUuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  EXPECT_EQ(NewUuid5(kStixScoNamespace, R"({"value":"example.com"})"),
            "bedb4899-d24b-5401-bc86-8f6b4cc18ec7");
  EXPECT_EQ(UuidVersion(NewUuid5(kStixScoNamespace, "x")), 5);
}

}  // namespace
}  // namespace cordon
