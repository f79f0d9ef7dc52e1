// Tests of the pattern evaluator: the OASIS matcher vectors (shared data) and
// hand-written cases per operator, path step and qualifier.
#include "pattern/evaluator.h"

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "pattern/pattern.h"
#include "simdjson.h"
#include "testutil/testutil.h"

namespace cordon::pattern {
namespace {

constexpr Version k20 = Version::k20;
constexpr Version k21 = Version::k21;

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (!line.empty()) out.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

// ----------------------------------------------------------------- vectors

TEST(EvaluatorVectors, OasisMatcherVectors) {
  std::string data =
      testutil::ReadFile(testutil::SharedData("patterns/stix-pattern-matcher-vectors.jsonl"));
  simdjson::dom::parser parser;
  int total = 0, expect_match = 0, expect_nomatch = 0, expect_error = 0, parse_errors = 0;
  int passed = 0;
  std::string failures;
  for (std::string_view line : Lines(data)) {
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(line).get(e), simdjson::SUCCESS);
    std::string_view pattern_text, version_text, error;
    ASSERT_EQ(e["pattern"].get(pattern_text), simdjson::SUCCESS);
    ASSERT_EQ(e["stix_version"].get(version_text), simdjson::SUCCESS);
    Version v = version_text == "2.0" ? k20 : k21;
    bool has_error = e["error"].get(error) == simdjson::SUCCESS;
    ++total;
    if (has_error && error == "ParseException") {
      ++parse_errors;  // covered by pattern_vectors_test
      continue;
    }
    bool want = false;
    if (has_error) {
      ASSERT_EQ(error, "MatcherException") << line;
      ++expect_error;
    } else {
      ASSERT_EQ(e["match"].get(want), simdjson::SUCCESS) << line;
      ++(want ? expect_match : expect_nomatch);
    }
    std::string observed = simdjson::to_string(e["observed"]);
    std::string label = std::string(version_text) + " " + std::string(pattern_text);

    Result<Pattern> p = Parse(pattern_text, v);
    if (!p.ok()) {
      failures += label + "  -> parse error: " + std::string(p.status().message()) + "\n";
      continue;
    }
    Result<ObservationSet> set = LoadObserved(observed, v);
    Result<MatchResult> r = set.ok() ? Evaluate(*p, *set) : Result<MatchResult>(set.status());
    if (has_error) {
      if (r.ok()) {
        failures += label + "  -> want an error, got " + (r->matched ? "match" : "no match") + "\n";
      } else {
        ++passed;
      }
      continue;
    }
    if (!r.ok()) {
      failures += label + "  -> want " + (want ? "match" : "no match") + ", got error: " +
                  std::string(r.status().message()) + "\n";
      continue;
    }
    if (r->matched != want) {
      failures += label + "  -> want " + (want ? "match" : "no match") + ", got " +
                  (r->matched ? "match" : "no match") + "\n";
      continue;
    }
    simdjson::dom::array ids;
    if (e["expected_matched_observed_data_ids"].get(ids) == simdjson::SUCCESS) {
      std::vector<std::string> want_ids;
      for (simdjson::dom::element id : ids) want_ids.emplace_back(std::string_view(id));
      std::vector<std::string> got = r->observed_data_ids;
      std::sort(want_ids.begin(), want_ids.end());
      std::sort(got.begin(), got.end());
      if (got != want_ids) {
        failures += label + "  -> matched observed-data ids differ\n";
        continue;
      }
    }
    ++passed;
  }
  EXPECT_EQ(total, 571);
  EXPECT_EQ(parse_errors, 21);
  EXPECT_EQ(expect_match + expect_nomatch + expect_error, 550);
  std::printf("matcher vectors: %d evaluated (%d match, %d no match, %d error), %d passed\n",
              expect_match + expect_nomatch + expect_error, expect_match, expect_nomatch,
              expect_error, passed);
  EXPECT_EQ(passed, expect_match + expect_nomatch + expect_error);
  EXPECT_TRUE(failures.empty()) << failures;
}

}  // namespace
}  // namespace cordon::pattern
