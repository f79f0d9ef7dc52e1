// RFC 8785 vectors: §3.2.2 (the example), §3.2.3 (sorting), Appendix B (numbers).
#include "federation/jcs.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>

namespace cordon::federation {
namespace {

TEST(Jcs, Rfc8785Example) {
  std::string in = R"({
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
})";
  auto out = Canonicalize(in);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
                  "\"string\":\"\u20ac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

TEST(Jcs, Rfc8785SortsByUtf16CodeUnits) {
  std::string in = R"({
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
})";
  auto out = Canonicalize(in);
  ASSERT_TRUE(out.ok()) << out.status();
  // U+1F600 (surrogates D83D DE00) sorts before U+FB33 in UTF-16, after it in UTF-8/code points.
  EXPECT_EQ(*out,
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O "
            "With Diaeresis\",\"\u20ac\":\"Euro Sign\",\"\U0001F600\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew "
            "Letter Dalet With Dagesh\"}");
}

TEST(Jcs, Rfc8785AppendixBNumbers) {
  struct V { uint64_t bits; const char* text; };
  const V vectors[] = {
      {0x0000000000000000, "0"}, {0x8000000000000000, "0"}, {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"}, {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0xffefffffffffffff, "-1.7976931348623157e+308"}, {0x4340000000000000, "9007199254740992"},
      {0xc340000000000000, "-9007199254740992"}, {0x4430000000000000, "295147905179352830000"},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"}, {0x44b52d02c7e14af6, "1e+23"},
      {0x44b52d02c7e14af7, "1.0000000000000001e+23"}, {0x444b1ae4d6e2ef4e, "999999999999999700000"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"}, {0x444b1ae4d6e2ef50, "1e+21"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"}, {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x41b3de4355555553, "333333333.3333332"}, {0x41b3de4355555554, "333333333.33333325"},
      {0x41b3de4355555555, "333333333.3333333"}, {0x41b3de4355555556, "333333333.3333334"},
      {0x41b3de4355555557, "333333333.33333343"}, {0xbecbf647612f3696, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959, "1424953923781206.2"},
  };
  for (const V& v : vectors) {
    EXPECT_EQ(FormatEs6Number(std::bit_cast<double>(v.bits)), v.text) << std::hex << v.bits;
  }
}

TEST(Jcs, IntegersNestingAndWhitespace) {
  auto out = Canonicalize(" { \"b\" : [ 1 , -2 , 10.0 , {\"z\":1,\"a\":[]} ] , \"a\" : {} } ");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, R"({"a":{},"b":[1,-2,10,{"a":[],"z":1}]})");
  EXPECT_EQ(*Canonicalize("\"\\u0001\\u001f\\u007f\""), "\"\\u0001\\u001f\x7f\"");
  EXPECT_FALSE(Canonicalize("{\"a\":").ok());
}

TEST(Jcs, WithoutOneExtensionMember) {
  bool had = false;
  auto out = CanonicalizeWithout(R"({"x":1,"extensions":{"e--1":{"s":"sig"}},"a":2})", "e--1", &had);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(had);
  EXPECT_EQ(*out, R"({"a":2,"x":1})");
  out = CanonicalizeWithout(R"({"extensions":{"e--2":{"k":true},"e--1":{"s":"sig"}}})", "e--1", &had);
  EXPECT_EQ(*out, R"({"extensions":{"e--2":{"k":true}}})");
  out = CanonicalizeWithout(R"({"a":{"extensions":{"e--1":1}}})", "e--1", &had);  // only top level
  EXPECT_FALSE(had);
  EXPECT_EQ(*out, R"({"a":{"extensions":{"e--1":1}}})");
}

// RFC 8785 canonicalizes I-JSON: two members of one name would let two
// readers of a signed object see different values under one signature.
TEST(Jcs, RepeatedMemberNamesAreRefused) {
  for (const char* json : {R"({"a":1,"a":2})", R"({"x":{"k":1,"b":0,"k":1}})", R"([{"p":1},{"q":2,"q":3}])",
                           R"({"a":1,"\u0061":2})"}) {
    auto out = Canonicalize(json);
    ASSERT_FALSE(out.ok()) << json;
    EXPECT_NE(out.status().message().find("appears twice"), std::string_view::npos) << out.status();
  }
  // The extension member left out of a signature's coverage may not repeat either.
  bool had = false;
  auto out = CanonicalizeWithout(R"({"extensions":{"e--1":{"s":"a"},"e--1":{"s":"b"}}})", "e--1", &had);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("\"e--1\" appears twice"), std::string_view::npos) << out.status();
  EXPECT_TRUE(Canonicalize(R"({"a":{"a":1},"b":[{"a":1},{"a":2}]})").ok());  // one name in different objects
}

}  // namespace
}  // namespace cordon::federation
