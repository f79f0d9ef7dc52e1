// Conformance against the shared real test vectors (patterns/ in the shared
// data set): the OASIS validator and matcher test suites, and real Unit 42
// indicator patterns.
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "pattern/pattern.h"
#include "simdjson.h"
#include "base/strings.h"
#include "testutil/testutil.h"

namespace cordon::pattern {
namespace {

struct Vector {
  std::string pattern;
  Version version = Version::k21;
  bool expect_ok = false;
};

// Non-empty lines of a JSON-lines file.
std::vector<std::string_view> Lines(std::string_view text) { return Split(text, '\n', EmptyParts::kSkip); }

Version VersionOf(simdjson::dom::element e) {
  std::string_view v;
  if (e["stix_version"].get(v) == simdjson::SUCCESS && v == "2.0") return Version::k20;
  return Version::k21;
}

const char* Name(Version v) { return v == Version::k20 ? "2.0" : "2.1"; }

TEST(PatternVectors, OasisValidatorVectors) {
  std::string data = testutil::ReadFile(testutil::SharedData("patterns/stix-pattern-validator-vectors.jsonl"));
  simdjson::dom::parser parser;
  int total = 0;
  std::string mismatches;
  for (std::string_view line : Lines(data)) {
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(line).get(e), simdjson::SUCCESS) << line;
    std::string_view pattern;
    bool valid = false;
    ASSERT_EQ(e["pattern"].get(pattern), simdjson::SUCCESS);
    ASSERT_EQ(e["valid"].get(valid), simdjson::SUCCESS);
    Version v = VersionOf(e);
    Status s = Validate(pattern, v);
    ++total;
    if (s.ok() != valid) {
      mismatches += std::string(Name(v)) + " want " + (valid ? "valid" : "invalid") + ": " +
                    std::string(pattern) + "  -> " + std::string(s.message()) + "\n";
    }
  }
  EXPECT_EQ(total, 129);
  EXPECT_TRUE(mismatches.empty()) << mismatches;
}

TEST(PatternVectors, OasisMatcherVectorsParse) {
  std::string data = testutil::ReadFile(testutil::SharedData("patterns/stix-pattern-matcher-vectors.jsonl"));
  simdjson::dom::parser parser;
  int total = 0, rejected = 0;
  std::string mismatches;
  for (std::string_view line : Lines(data)) {
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(line).get(e), simdjson::SUCCESS);
    std::string_view pattern, error;
    ASSERT_EQ(e["pattern"].get(pattern), simdjson::SUCCESS);
    bool parse_error = e["error"].get(error) == simdjson::SUCCESS && error == "ParseException";
    Version v = VersionOf(e);
    ++total;
    rejected += parse_error;
    // Both the parser and the full validator must agree with the matcher's
    // parse-time verdict.
    Result<Pattern> p = Parse(pattern, v);
    Status s = Validate(pattern, v);
    if (p.ok() == parse_error || s.ok() == parse_error) {
      mismatches += std::string(Name(v)) + (parse_error ? " want reject: " : " want accept: ") +
                    std::string(pattern) + "  -> parse: " + std::string(p.status().message()) +
                    " validate: " + std::string(s.message()) + "\n";
    }
  }
  EXPECT_EQ(total, 571);
  EXPECT_GT(rejected, 0);
  EXPECT_TRUE(mismatches.empty()) << mismatches;
}

TEST(PatternVectors, Unit42RealWorldPatterns) {
  std::string data = testutil::ReadFile(testutil::SharedData("patterns/unit42-real-world-patterns.jsonl.zst"));
  simdjson::dom::parser parser;
  int total = 0;
  std::string failures;
  for (std::string_view line : Lines(data)) {
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(line).get(e), simdjson::SUCCESS);
    std::string_view pattern;
    ASSERT_EQ(e["pattern"].get(pattern), simdjson::SUCCESS);
    ++total;
    for (Version v : {Version::k21, Version::k20}) {
      Status s = Validate(pattern, v);
      if (!s.ok()) {
        failures += std::string(Name(v)) + ": " + std::string(pattern) + "  -> " +
                    std::string(s.message()) + "\n";
      }
    }
  }
  EXPECT_EQ(total, 7900);
  EXPECT_TRUE(failures.empty()) << failures;
}

}  // namespace
}  // namespace cordon::pattern
