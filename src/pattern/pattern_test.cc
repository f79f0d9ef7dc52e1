#include "pattern/pattern.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cordon::pattern {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr Version k20 = Version::k20;
constexpr Version k21 = Version::k21;

std::string ErrorOf(std::string_view text, Version v = k21) {
  Status s = Validate(text, v);
  EXPECT_FALSE(s.ok()) << text;
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << text;
  return std::string(s.message());
}

std::string Canon(std::string_view text, Version v = k21) {
  Result<Pattern> p = Parse(text, v);
  EXPECT_TRUE(p.ok()) << text << " -> " << p.status();
  return p.ok() ? DebugString(*p) : "";
}

const Comparison& OnlyTest(const Pattern& p) {
  const ObservationNode& o = p.observations[p.root];
  EXPECT_EQ(o.kind, ObservationNode::Kind::kObservation);
  const ComparisonNode& c = p.comparisons[o.comparison];
  EXPECT_EQ(c.kind, ComparisonNode::Kind::kTest);
  return c.test;
}

// ---------------------------------------------------------------- AST shape

TEST(ParseTest, SimpleComparison) {
  Result<Pattern> p = Parse("[file:size = 1280]", k21);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->version, k21);
  const Comparison& t = OnlyTest(*p);
  EXPECT_EQ(t.path.object_type, "file");
  ASSERT_EQ(t.path.steps.size(), 1u);
  EXPECT_EQ(t.path.steps[0], PathStep::Key("size"));
  EXPECT_EQ(t.op, CompareOp::kEqual);
  EXPECT_FALSE(t.negated);
  ASSERT_EQ(t.values.size(), 1u);
  EXPECT_EQ(t.values[0].type, Constant::Type::kInt);
  EXPECT_EQ(t.values[0].int_value, 1280);
  EXPECT_EQ(p->observations[p->root].column, 1);
}

TEST(ParseTest, ObjectPathSteps) {
  Result<Pattern> p = Parse("[obj-type:a.b[*][1].'c-d'[-2] NOT ISSUPERSET '1.2.3.4/16']", k21);
  ASSERT_TRUE(p.ok()) << p.status();
  const Comparison& t = OnlyTest(*p);
  EXPECT_EQ(t.path.object_type, "obj-type");
  std::vector<PathStep> want = {PathStep::Key("a"), PathStep::Key("b"), PathStep::AnyIndex(),
                                PathStep::Index(1), PathStep::Key("c-d"), PathStep::Index(-2)};
  EXPECT_EQ(t.path.steps, want);
  EXPECT_EQ(t.op, CompareOp::kIsSuperset);
  EXPECT_TRUE(t.negated);
  EXPECT_EQ(t.values[0].bytes, "1.2.3.4/16");
}

TEST(ParseTest, ExtensionsAndQuotedFirstComponent) {
  Result<Pattern> p =
      Parse("[file:extensions.'windows-pebinary-ext'.sections[*].entropy > 7.0]", k21);
  ASSERT_TRUE(p.ok()) << p.status();
  const Comparison& t = OnlyTest(*p);
  EXPECT_EQ(t.path.steps[1], PathStep::Key("windows-pebinary-ext"));
  EXPECT_EQ(t.op, CompareOp::kGreater);
  EXPECT_EQ(t.values[0].type, Constant::Type::kFloat);
  EXPECT_DOUBLE_EQ(t.values[0].float_value, 7.0);

  p = Parse("[some-type:'has.dot' = 2]", k20);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(OnlyTest(*p).path.steps[0], PathStep::Key("has.dot"));
}

TEST(ParseTest, Constants) {
  Result<Pattern> p = Parse(
      "[x:a IN (1, -2, +3, 1.5, -.25, 'it\\'s \\\\', true, false, h'00ff', b'AQIDBA==', "
      "t'2016-06-01T01:30:00.123Z')]",
      k21);
  ASSERT_TRUE(p.ok()) << p.status();
  const Comparison& t = OnlyTest(*p);
  EXPECT_EQ(t.op, CompareOp::kIn);
  ASSERT_EQ(t.values.size(), 11u);
  EXPECT_EQ(t.values[0].int_value, 1);
  EXPECT_EQ(t.values[1].int_value, -2);
  EXPECT_EQ(t.values[2].int_value, 3);
  EXPECT_DOUBLE_EQ(t.values[3].float_value, 1.5);
  EXPECT_DOUBLE_EQ(t.values[4].float_value, -0.25);
  EXPECT_EQ(t.values[5].type, Constant::Type::kString);
  EXPECT_EQ(t.values[5].bytes, "it's \\");
  EXPECT_EQ(t.values[6].type, Constant::Type::kBool);
  EXPECT_EQ(t.values[6].int_value, 1);
  EXPECT_EQ(t.values[7].int_value, 0);
  EXPECT_EQ(t.values[8].type, Constant::Type::kHex);
  EXPECT_EQ(t.values[8].bytes, std::string("\x00\xff", 2));
  EXPECT_EQ(t.values[9].type, Constant::Type::kBinary);
  EXPECT_EQ(t.values[9].bytes, std::string("\x01\x02\x03\x04"));
  EXPECT_EQ(t.values[10].type, Constant::Type::kTimestamp);
  EXPECT_EQ(t.values[10].timestamp.ns, 1464744600123000000);
  EXPECT_EQ(t.values[10].timestamp.frac_digits, 3);
  EXPECT_EQ(t.values[10].bytes, "2016-06-01T01:30:00.123Z");
}

TEST(ParseTest, EmptySetAndUnicodeString) {
  EXPECT_TRUE(Validate("[test:string IN ()]", k20).ok());
  EXPECT_TRUE(Validate("[test:string NOT IN ()]", k21).ok());
  Result<Pattern> p = Parse("[test:s = 'ḍ̇ ü']", k21);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(OnlyTest(*p).values[0].bytes, "ḍ̇ ü");
}

TEST(ParseTest, EveryOperatorWithAndWithoutNot) {
  const char* ops[] = {"=", "==", "!=", "<>", "<", "<=", ">", ">=", "LIKE", "MATCHES",
                       "ISSUBSET", "ISSUPERSET"};
  for (const char* op : ops) {
    for (const char* neg : {"", "NOT "}) {
      std::string text = std::string("[x:y ") + neg + op + " 'v']";
      EXPECT_TRUE(Validate(text, k20).ok()) << text;
      EXPECT_TRUE(Validate(text, k21).ok()) << text;
    }
  }
  EXPECT_EQ(Canon("[x:y == 1 AND x:z <> 2]"), "[(x:y = 1 AND x:z != 2)]");
}

TEST(ParseTest, ExistsIsStix21Only) {
  Result<Pattern> p = Parse("[file:name = 'a' AND EXISTS file:hashes.MD5]", k21);
  ASSERT_TRUE(p.ok()) << p.status();
  const ComparisonNode& root = p->comparisons[p->observations[p->root].comparison];
  ASSERT_EQ(root.kind, ComparisonNode::Kind::kAnd);
  const Comparison& e = p->comparisons[root.children[1]].test;
  EXPECT_EQ(e.op, CompareOp::kExists);
  EXPECT_TRUE(e.values.empty());
  EXPECT_EQ(e.path.steps.back(), PathStep::Key("MD5"));
  EXPECT_THAT(ErrorOf("[EXISTS file:name]", k20), StartsWith("column 9: expected ':'"));
  // In 2.0, EXISTS is an ordinary identifier.
  EXPECT_TRUE(Validate("[EXISTS:name = 1]", k20).ok());
  EXPECT_FALSE(Validate("[EXISTS:name = 1]", k21).ok());
  EXPECT_FALSE(Validate("[file:name NOT EXISTS]", k21).ok());
}

TEST(ParseTest, PrecedenceAndFlattening) {
  EXPECT_EQ(Canon("[a:b = 1] AND [a:b = 2] AND [a:b = 3] OR [a:b = 4] FOLLOWEDBY [a:b = 5]"),
            "((([a:b = 1] AND [a:b = 2] AND [a:b = 3]) OR [a:b = 4]) FOLLOWEDBY [a:b = 5])");
  EXPECT_EQ(Canon("[a:b = 1 OR a:c = 2 AND a:d = 3]"), "[(a:b = 1 OR (a:c = 2 AND a:d = 3))]");
  EXPECT_EQ(Canon("[(a:b = 1 OR a:c = 2) AND a:d = 3]"),
            "[((a:b = 1 OR a:c = 2) AND a:d = 3)]");
  // Qualifiers bind tighter than AND.
  EXPECT_EQ(Canon("[a:b = 1] AND [a:c = 2] WITHIN 5 SECONDS"),
            "([a:b = 1] AND [a:c = 2] WITHIN 5 SECONDS)");
  EXPECT_EQ(Canon("([a:b = 1] AND [a:c = 2]) WITHIN 5 SECONDS"),
            "([a:b = 1] AND [a:c = 2]) WITHIN 5 SECONDS");
  // Parentheses without qualifiers leave no node.
  EXPECT_EQ(Canon("(([a:b = 1]))"), "[a:b = 1]");
}

TEST(ParseTest, Qualifiers) {
  Result<Pattern> p = Parse(
      "[a:b = 1] REPEATS 2 TIMES WITHIN 1.5 SECONDS START t'2016-06-01T00:00:00Z' "
      "STOP t'2016-07-01T00:00:00Z'",
      k21);
  ASSERT_TRUE(p.ok()) << p.status();
  const ObservationNode& o = p->observations[p->root];
  ASSERT_EQ(o.qualifiers.size(), 3u);
  EXPECT_EQ(o.qualifiers[0].kind, Qualifier::Kind::kRepeats);
  EXPECT_EQ(o.qualifiers[0].repeats, 2);
  EXPECT_EQ(o.qualifiers[0].column, 11);
  EXPECT_EQ(o.qualifiers[1].kind, Qualifier::Kind::kWithin);
  EXPECT_DOUBLE_EQ(o.qualifiers[1].within_seconds, 1.5);
  EXPECT_EQ(o.qualifiers[2].kind, Qualifier::Kind::kStartStop);
  EXPECT_EQ(o.qualifiers[2].start.type, Constant::Type::kTimestamp);
  EXPECT_LT(o.qualifiers[2].start.timestamp, o.qualifiers[2].stop.timestamp);

  EXPECT_TRUE(Validate("[person:name = 'bob'] WITHIN .0001 SECONDS", k21).ok());
  EXPECT_TRUE(Validate("[a:b = 1] WITHIN +5 SECONDS", k21).ok());
  // Upstream checks neither order nor calendar: an empty window is legal.
  EXPECT_TRUE(Validate("[a:b = 1] START t'2016-06-02T00:00:00Z' STOP t'2016-06-01T00:00:00Z'",
                       k21).ok());
}

TEST(ParseTest, StartStopStringsIn20Only) {
  const char* text = "[a:b = 1] START '2016-06-01T00:00:00Z' STOP '2016-07-01T00:00:00Z'";
  Result<Pattern> p = Parse(text, k20);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->observations[p->root].qualifiers[0].start.type, Constant::Type::kString);
  EXPECT_THAT(ErrorOf(text, k21),
              StartsWith("column 17: expected a timestamp t'...' but found "
                         "''2016-06-01T00:00:00Z''"));
  EXPECT_TRUE(Validate("[a:b = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
                       k20).ok());
  EXPECT_THAT(ErrorOf("[a:b = 1] START t'2016-06-01T00:00:00Z'", k21),
              StartsWith("column 40: expected STOP but found end of input"));
}

TEST(ParseTest, DuplicateQualifiers) {
  const char* within2 = "[a:b = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS";
  EXPECT_TRUE(Validate(within2, k20).ok());
  EXPECT_EQ(ErrorOf(within2, k21),
            "column 28: duplicate qualifier type WITHIN on one observation expression");
  EXPECT_THAT(ErrorOf("([a:b = 1] REPEATS 2 TIMES REPEATS 3 TIMES)", k21),
              StartsWith("column 28: duplicate qualifier type REPEATS"));
  EXPECT_TRUE(Validate("([a:b = 1]) WITHIN 5 SECONDS WITHIN 6 SECONDS", k21).ok());
  EXPECT_TRUE(Validate("([a:b = 1] REPEATS 2 TIMES) REPEATS 2 TIMES", k21).ok());
  EXPECT_TRUE(Validate("[a:b = 1] WITHIN 5 SECONDS AND [a:b = 2] WITHIN 5 SECONDS", k21).ok());
  // Parse alone leaves it to Validate.
  EXPECT_TRUE(Parse(within2, k21).ok());
}

TEST(ParseTest, PositiveCounts) {
  EXPECT_THAT(ErrorOf("[a:b = 1] REPEATS 0 TIMES"), StartsWith("column 11: REPEATS needs"));
  EXPECT_THAT(ErrorOf("[a:b = 1] WITHIN 0 SECONDS"), StartsWith("column 11: WITHIN needs"));
  EXPECT_THAT(ErrorOf("[a:b = 1] WITHIN 0.0 SECONDS"), StartsWith("column 11: WITHIN needs"));
  EXPECT_THAT(ErrorOf("[a:b = 1] REPEATS -1 TIMES"),
              StartsWith("column 19: expected a positive integer but found '-1'"));
  EXPECT_THAT(ErrorOf("[a:b = 1] REPEATS 1.5 TIMES"),
              StartsWith("column 19: expected a positive integer"));
}

TEST(ParseTest, HashValues) {
  EXPECT_EQ(ErrorOf("[file:hashes.'SHA-256' = 'f00']", k20),
            "column 2: 'f00' is not a valid SHA-256 hash");
  EXPECT_THAT(ErrorOf("[file:name = 'x' AND file:hashes.md5 = 'abc']"),
              StartsWith("column 22: 'abc' is not a valid md5 hash"));
  EXPECT_FALSE(Validate("[file:hashes.MD5 IN ('cead3f77f6cda6ec00f57d76c9a6879f', 'x')]", k21).ok());
  EXPECT_FALSE(Validate("[file:hashes.MD5 = 5]", k21).ok());
  EXPECT_TRUE(Validate("[file:hashes.MD5 = 'cead3f77f6cda6ec00f57d76c9a6879F']", k21).ok());
  EXPECT_TRUE(Validate("[file:hashes.'SHA3-256' = '" + std::string(64, 'a') + "']", k21).ok());
  EXPECT_TRUE(Validate("[file:hashes.SSDEEP = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C']",
                       k21).ok());
  EXPECT_FALSE(Validate("[file:hashes.SSDEEP = 'has space']", k21).ok());
  // Unknown algorithms, wildcards and pattern operators are not checked.
  EXPECT_TRUE(Validate("[file:hashes.'x-custom' = 'anything']", k21).ok());
  EXPECT_TRUE(Validate("[file:hashes[*] = '8665c8d477534008b3058b72e2dae8ae']", k20).ok());
  EXPECT_TRUE(Validate("[file:hashes.MD5 LIKE 'cead%']", k21).ok());
  EXPECT_TRUE(Validate("[file:hashes.MD5 MATCHES '^cead']", k21).ok());
  EXPECT_TRUE(Parse("[file:hashes.MD5 = 'short']", k21).ok());
}

TEST(ParseTest, TimestampLiterals) {
  for (const char* ts : {"2024-02-30T12:00:00Z", "2023-02-29T12:00:00Z", "2016-12-31T23:59:60Z",
                         "2010-05-21T13:21:43.123456789Z", "2010-05-21T13:21:43.1234567891Z"}) {
    std::string text = std::string("[x:t = t'") + ts + "']";
    EXPECT_TRUE(Validate(text, k20).ok()) << text;
    EXPECT_TRUE(Validate(text, k21).ok()) << text;
  }
  for (const char* ts : {"2024-13-01T12:00:00Z", "2024-00-01T12:00:00Z", "2024-01-32T12:00:00Z",
                         "2024-01-00T12:00:00Z", "2024-01-15T24:00:00Z", "2024-01-15T12:60:00Z",
                         "2024-01-15T12:30:61Z", "2024-01-15T12:30:45", "2024-01-15T12:30:45z",
                         "2024-01-15t12:30:45Z", "2024-01-15T12:30Z", "2024/01/15T12:30:45Z",
                         "2024-01-15T12:30:45.Z", "2024-01-15T12:30:45+00:00", "not-a-ts"}) {
    std::string text = std::string("[x:t = t'") + ts + "']";
    EXPECT_THAT(ErrorOf(text, k21), StartsWith("column 8: invalid timestamp")) << text;
    EXPECT_FALSE(Validate(text, k20).ok()) << text;
  }
  // Feb 30 is normalised (upstream does not check the calendar).
  Result<Pattern> p = Parse("[x:t = t'2024-02-30T00:00:00Z']", k21);
  ASSERT_TRUE(p.ok());
  Result<Pattern> q = Parse("[x:t = t'2024-03-01T00:00:00Z']", k21);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(OnlyTest(*p).values[0].timestamp.ns, OnlyTest(*q).values[0].timestamp.ns);
}

TEST(ParseTest, BinaryAndHexLiterals) {
  EXPECT_TRUE(Validate("[a:b = h'']", k21).ok());
  EXPECT_TRUE(Validate("[a:b = b'YWJj']", k21).ok());
  EXPECT_TRUE(Validate("[a:b = b'YWI=']", k21).ok());
  EXPECT_TRUE(Validate("[a:b = b'YQ==']", k21).ok());
  EXPECT_THAT(ErrorOf("[artifact:payload_bin = b'====']", k20),
              StartsWith("column 25: invalid base64"));
  for (const char* bad : {"b''", "b'YQ'", "b'Y==='", "b'YQ==YQ=='", "b'YW=j'", "b'YW J'"}) {
    EXPECT_FALSE(Validate(std::string("[a:b = ") + bad + "]", k21).ok()) << bad;
  }
  EXPECT_THAT(ErrorOf("[a:b = h'abc']"), StartsWith("column 8: a h'...' literal needs an even"));
  EXPECT_THAT(ErrorOf("[a:b = h'zz']"), StartsWith("column 8: invalid hex digit"));
}

TEST(ParseTest, NumbersAndStrings) {
  EXPECT_THAT(ErrorOf("[a:b = 012]"), StartsWith("column 8: an integer may not have leading"));
  EXPECT_THAT(ErrorOf("[a:b = 99999999999999999999]"), StartsWith("column 8: integer out of range"));
  EXPECT_TRUE(Validate("[a:b = -9223372036854775808]", k21).ok());
  EXPECT_THAT(ErrorOf("[a:b = 'a\\d']"), StartsWith("column 8: a string literal may only escape"));
  EXPECT_THAT(ErrorOf("[a:b = 'abc]"), StartsWith("column 8: unterminated string literal"));
  EXPECT_TRUE(Validate("[a:b = 'line\nbreak']", k21).ok());
  EXPECT_THAT(ErrorOf("[a:b < true]"), StartsWith("column 8: a boolean cannot be ordered"));
  EXPECT_THAT(ErrorOf("[a:b LIKE 5]"), StartsWith("column 11: expected a string but found '5'"));
  EXPECT_THAT(ErrorOf("[null_test:name = null]"),
              StartsWith("column 19: expected a literal value but found 'null'"));
}

TEST(ParseTest, WhitespaceAndComments) {
  EXPECT_TRUE(Validate(" \t\n[a:b\u00a0=\u3000 1 ]\r\n", k21).ok());
  EXPECT_TRUE(Validate("/* c */ [a:b = 1] // trailing", k21).ok());
  EXPECT_TRUE(Validate("( [(network-traffic:dst_port IN(443,6443,8443) AND "
                       "network-traffic:src_packets != 0) ])", k21).ok());
  EXPECT_THAT(ErrorOf("[a:b = 1] /* open"), StartsWith("column 11: unterminated comment"));
}

// ------------------------------------------------------------ error columns

TEST(ErrorTest, UpstreamFailCasesWithColumns) {
  // Upstream reports 0-based columns; ours are 1-based.
  EXPECT_EQ(ErrorOf("file:size = 1280"),
            "column 1: a pattern starts with '[' or '(' (input is missing square brackets) "
            "but found 'file'");
  EXPECT_EQ(ErrorOf("[file:size = ]"), "column 14: expected a literal value but found ']'");
  EXPECT_EQ(ErrorOf("[file:hashes.MD5 = cead3f77f6cda6ec00f57d76c9a6879f]"),
            "column 20: expected a literal value but found 'cead3f77f6cda6ec00f57d76c9a6879f'");
  EXPECT_EQ(ErrorOf("[file.size = 1280]"), "column 6: expected ':' but found '.'");
  EXPECT_EQ(ErrorOf("[file:name MATCHES /.*\\\\.dll/]"),
            "column 20: expected a string but found '/'");
  EXPECT_EQ(ErrorOf("[win-registry-key:key = 'hkey'] WITHIN ]"),
            "column 40: expected a positive number of seconds but found ']'");
  EXPECT_EQ(ErrorOf("[win-registry-key:key = 'hkey'] WITHIN 5 HOURS]"),
            "column 42: expected SECONDS but found 'HOURS'");
  EXPECT_EQ(ErrorOf("[win-registry-key:key = 'hkey'] WITHIN -5 SECONDS]"),
            "column 40: expected a positive number of seconds but found '-5'");
  EXPECT_EQ(ErrorOf("[network-traffic:dst_ref.value ISSUBSET ]"),
            "column 41: expected a string but found ']'");
  EXPECT_EQ(ErrorOf("[file:hashes.MD5 =? 'cead3f77f6cda6ec00f57d76c9a6879f']"),
            "column 19: expected a literal value but found '?'");
  EXPECT_THAT(ErrorOf("[x_whatever:detected == t'2457-73-22T32:81:84.1Z']"),
              StartsWith("column 25: invalid timestamp"));
  EXPECT_EQ(ErrorOf("[foo:bar=1] within 2 seconds"),
            "column 13: expected AND, OR, FOLLOWEDBY, a qualifier or end of input but found "
            "'within'");
  EXPECT_EQ(ErrorOf("[person:name = 'alice'] WITHIN 1 second"),
            "column 34: expected SECONDS but found 'second'");
}

TEST(ErrorTest, StructuralErrors) {
  EXPECT_EQ(ErrorOf(""), "column 1: a pattern starts with '[' or '(' (input is missing square "
                         "brackets) but found end of input");
  EXPECT_EQ(ErrorOf("[a:b = 1 AND]"),
            "column 13: expected an object path, EXISTS or '(' but found ']'");
  EXPECT_EQ(ErrorOf("[a:b = 1 a:c = 2]"), "column 10: expected ']', AND or OR but found 'a'");
  EXPECT_EQ(ErrorOf("[a:b = 1] AND"), "column 14: expected '[' or '(' but found end of input");
  EXPECT_EQ(ErrorOf("([a:b = 1]"),
            "column 11: expected ')', AND, OR or FOLLOWEDBY but found end of input");
  EXPECT_EQ(ErrorOf("[a:b = 1]]"),
            "column 10: expected AND, OR, FOLLOWEDBY, a qualifier or end of input but found ']'");
  EXPECT_EQ(ErrorOf("[a:b IN (1 2)]"), "column 12: expected ',' or ')' but found '2'");
  EXPECT_EQ(ErrorOf("[a:b[x] = 1]"), "column 6: expected a list index or '*' but found 'x'");
  EXPECT_EQ(ErrorOf("[a:b NOT 1]"),
            "column 10: expected a comparison operator after NOT but found '1'");
  EXPECT_EQ(ErrorOf("[a:b and a:c]"), "column 6: expected a comparison operator but found 'and'");
  EXPECT_EQ(ErrorOf("[a:b = 1] and [a:c = 1]"),
            "column 11: expected AND, OR, FOLLOWEDBY, a qualifier or end of input but found "
            "'and'");
  EXPECT_EQ(ErrorOf("[a:dst-port = 1]"),
            "column 4: expected a property name (quote names containing '-') but found "
            "'dst-port'");
  EXPECT_EQ(ErrorOf("[a:b.c-d = 1]"),
            "column 6: expected a property name (quote names containing '-') but found 'c-d'");
  EXPECT_EQ(ErrorOf("[a:b = 1] REPEATS 2"), "column 20: expected TIMES but found end of input");
}

TEST(ErrorTest, ColumnsCountCharactersNotBytes) {
  // 'ü' and 'ḍ' are 2 and 3 bytes in UTF-8 but one column each.
  EXPECT_EQ(ErrorOf("[a:b = 'ü'] [a:c = 'ḍ']"),
            "column 13: expected AND, OR, FOLLOWEDBY, a qualifier or end of input but found '['");
}

TEST(ErrorTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep(5000, '(');
  deep += "[a:b = 1]";
  deep += std::string(5000, ')');
  EXPECT_THAT(ErrorOf(deep), HasSubstr("nested too deeply"));
  std::string deep_cmp = "[" + std::string(5000, '(') + "a:b = 1" + std::string(5000, ')') + "]";
  EXPECT_THAT(ErrorOf(deep_cmp), HasSubstr("nested too deeply"));
  std::string ok = std::string(100, '(') + "[a:b = 1]" + std::string(100, ')');
  EXPECT_TRUE(Validate(ok, k21).ok());
}

TEST(ErrorTest, KeywordsAreCaseSensitive) {
  EXPECT_FALSE(Validate("[a:b = 1] or [a:c = 1]", k21).ok());
  EXPECT_FALSE(Validate("[a:b = TRUE]", k21).ok());
  EXPECT_FALSE(Validate("[a:b like 'x']", k20).ok());
  // Lower-case keywords are ordinary identifiers.
  EXPECT_TRUE(Validate("[network-traffic:start = 1 AND x:in = 2]", k21).ok());
}

TEST(DebugStringTest, RoundTripsThroughTheParser) {
  const char* patterns[] = {
      "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
      "([file:name = 'foo.dll'] AND [win-registry-key:key = 'HKEY\\\\foo']) OR [process:name = 'a']",
      "[a:b[*].c NOT IN (1, 2.5, 'x', h'00', t'2016-06-01T00:00:00Z')] REPEATS 2 TIMES",
      "([a:b = 1] WITHIN 5 SECONDS) WITHIN 6 SECONDS",
      "[a:b = 1] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
      "[EXISTS a:'b c'.d]",
  };
  for (const char* text : patterns) {
    std::string once = Canon(text);
    EXPECT_EQ(Canon(once), once) << text;
  }
}

}  // namespace
}  // namespace cordon::pattern
