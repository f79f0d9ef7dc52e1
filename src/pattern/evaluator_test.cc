// Tests of the pattern evaluator: the OASIS matcher vectors (shared data) and
// hand-written cases per operator, path step and qualifier.
#include "pattern/evaluator.h"

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

constexpr Version k20 = Version::k20;
constexpr Version k21 = Version::k21;

// Non-empty lines of a JSON-lines file.
std::vector<std::string_view> Lines(std::string_view text) { return Split(text, '\n', EmptyParts::kSkip); }

// ----------------------------------------------------------------- vectors

// Every vector with match true/false must give that result and every
// MatcherException vector must give an error (all 21 do: mixed IN sets,
// invalid timestamps in JSON, invalid 2.0 START/STOP strings; none of them
// fails in the reference for Python-only reasons, so none is exempted).
// ParseException vectors are the parser's (pattern_vectors_test).
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


// ----------------------------------------------------------------- helpers

// A STIX 2.1 observed-data (in a bundle with its SCOs) as JSON text.
std::string Obs21(const std::string& id, const std::string& first, const std::string& last,
                  int number, const std::vector<std::string>& scos) {
  std::string refs, objects;
  for (const std::string& sco : scos) {
    simdjson::dom::parser p;
    simdjson::dom::element e;
    EXPECT_EQ(p.parse(sco).get(e), simdjson::SUCCESS) << sco;
    std::string_view sid;
    EXPECT_EQ(e["id"].get(sid), simdjson::SUCCESS) << sco;
    refs += (refs.empty() ? "\"" : ",\"") + std::string(sid) + "\"";
    objects += "," + sco;
  }
  return R"({"type":"bundle","id":"bundle--1","objects":[{"type":"observed-data","id":")" + id +
         R"(","first_observed":")" + first + R"(","last_observed":")" + last +
         R"(","number_observed":)" + std::to_string(number) + R"(,"object_refs":[)" + refs +
         "]}" + objects + "]}";
}

Result<MatchResult> Eval(std::string_view pattern, std::string_view observed, Version v = k21) {
  CORDON_ASSIGN_OR_RETURN(Pattern p, Parse(pattern, v));
  CORDON_ASSIGN_OR_RETURN(ObservationSet set, LoadObserved(observed, v));
  return Evaluate(p, set);
}

// 1 = match, 0 = no match, -1 = error.
int M(std::string_view pattern, std::string_view observed, Version v = k21) {
  Result<MatchResult> r = Eval(pattern, observed, v);
  if (!r.ok()) return -1;
  return r->matched ? 1 : 0;
}

const std::string kTestObj = R"({"type":"test","id":"test--1","int":5,"float":12.5,"bool":true,
  "string":"hello","ts":"2010-05-21T13:21:43Z","ip":"11.22.33.44","cidr":"11.22.33.44/20",
  "ip6":"2001:db8::1","cidr6":"2001:db8::/32","name_hex":"616c696365","name_bin":"YWxpY2U=",
  "list":[1,2,3],"strs":["a.b","x(y)*","under_score"],"nul":null,"multi":"line1\nline2",
  "nested":{"deep":{"k":"v"}},"quoted key":"q"})";
const std::string kOne = Obs21("observed-data--1", "2020-01-01T00:00:00Z",
                               "2020-01-01T00:00:00Z", 1, {kTestObj});

// ----------------------------------------------------------------- operators

TEST(EvaluatorOps, EqualityAndTypeRules) {
  EXPECT_EQ(M("[test:int = 5]", kOne), 1);
  EXPECT_EQ(M("[test:int = 5.0]", kOne), 1);
  EXPECT_EQ(M("[test:float = 12.5]", kOne), 1);
  EXPECT_EQ(M("[test:int != 5]", kOne), 0);
  EXPECT_EQ(M("[test:string = 'hello']", kOne), 1);
  EXPECT_EQ(M("[test:string = 'Hello']", kOne), 0);
  EXPECT_EQ(M("[test:bool = true]", kOne), 1);
  EXPECT_EQ(M("[test:bool = 1]", kOne), 0);     // booleans only equal booleans
  EXPECT_EQ(M("[test:bool != 1]", kOne), 1);
  EXPECT_EQ(M("[test:int = '5']", kOne), 0);    // no number/string coercion
  EXPECT_EQ(M("[test:nul != 'x']", kOne), 1);   // null equals nothing
  EXPECT_EQ(M("[test:nul = 'x']", kOne), 0);
  EXPECT_EQ(M("[test:list = 1]", kOne), 0);
  // Binary: *_hex / *_bin decode; a string compares as Latin-1 bytes.
  EXPECT_EQ(M("[test:name_hex = h'616c696365']", kOne), 1);
  EXPECT_EQ(M("[test:name_bin = 'alice']", kOne), 1);
  EXPECT_EQ(M("[test:name_bin = b'YWxpY2U=']", kOne), 1);
  EXPECT_EQ(M("[test:string = h'68656c6c6f']", kOne), 1);
  // Timestamps: t'...' against a JSON timestamp string; an invalid one is an error.
  EXPECT_EQ(M("[test:ts = t'2010-05-21T13:21:43Z']", kOne), 1);
  EXPECT_EQ(M("[test:ts = t'2010-05-21T13:21:43.000Z']", kOne), 1);
  EXPECT_EQ(M("[test:ts > t'2010-05-21T13:21:42Z']", kOne), 1);
  EXPECT_EQ(M("[test:string = t'2010-05-21T13:21:43Z']", kOne), -1);
  EXPECT_EQ(M("[test:int = t'2010-05-21T13:21:43Z']", kOne), 0);  // not a string: unequal
}

TEST(EvaluatorOps, Ordering) {
  EXPECT_EQ(M("[test:int < 6]", kOne), 1);
  EXPECT_EQ(M("[test:int <= 5]", kOne), 1);
  EXPECT_EQ(M("[test:int > 5]", kOne), 0);
  EXPECT_EQ(M("[test:int >= 5.0]", kOne), 1);
  EXPECT_EQ(M("[test:string > 'hell']", kOne), 1);
  EXPECT_EQ(M("[test:string < 'help']", kOne), 1);
  EXPECT_EQ(M("[test:name_hex < h'616c696366']", kOne), 1);
  // Unorderable mixes are false even under NOT.
  EXPECT_EQ(M("[test:string < 5]", kOne), 0);
  EXPECT_EQ(M("[test:string NOT < 5]", kOne), 0);
  EXPECT_EQ(M("[test:bool > 0]", kOne), 0);
}

TEST(EvaluatorOps, InSets) {
  EXPECT_EQ(M("[test:int IN (1, 5, 7)]", kOne), 1);
  EXPECT_EQ(M("[test:int IN (1.5, 5.0)]", kOne), 1);
  EXPECT_EQ(M("[test:int IN (1, 2.5)]", kOne), 0);
  EXPECT_EQ(M("[test:string IN ('a', 'hello')]", kOne), 1);
  EXPECT_EQ(M("[test:string NOT IN ('a', 'b')]", kOne), 1);
  EXPECT_EQ(M("[test:bool IN (1, 2)]", kOne), 1);  // Python: True == 1
  EXPECT_EQ(M("[test:int IN ()]", kOne), 0);
  EXPECT_EQ(M("[test:ts IN (t'2010-05-21T13:21:43Z')]", kOne), 1);
  EXPECT_EQ(M("[test:string IN (1, 'a')]", kOne), -1);  // mixed types
}

TEST(EvaluatorOps, LikeIsAnchoredAndEscapesEverythingElse) {
  EXPECT_EQ(M("[test:string LIKE 'h%']", kOne), 1);
  EXPECT_EQ(M("[test:string LIKE 'h_llo']", kOne), 1);
  EXPECT_EQ(M("[test:string LIKE 'ell']", kOne), 0);
  EXPECT_EQ(M("[test:string LIKE '%ell%']", kOne), 1);
  EXPECT_EQ(M("[test:string LIKE 'h.llo']", kOne), 0);  // '.' is literal
  EXPECT_EQ(M("[test:strs[*] LIKE 'a.b']", kOne), 1);
  EXPECT_EQ(M("[test:strs[*] LIKE 'x(y)*']", kOne), 1);
  EXPECT_EQ(M("[test:strs[*] LIKE 'x(y)']", kOne), 0);
  EXPECT_EQ(M("[test:strs[*] LIKE 'under_score']", kOne), 1);
  EXPECT_EQ(M("[test:strs[*] LIKE 'underXscore']", kOne), 0);
  EXPECT_EQ(M("[test:multi LIKE 'line1%']", kOne), 0);  // % stops at a newline, as in Python
  EXPECT_EQ(M("[test:int LIKE '5']", kOne), 0);
  EXPECT_EQ(M("[test:int NOT LIKE '5']", kOne), 1);
  EXPECT_EQ(M("[test:name_hex LIKE 'al%']", kOne), 1);  // binary read as UTF-8
}

TEST(EvaluatorOps, MatchesSearchesUnanchored) {
  EXPECT_EQ(M("[test:string MATCHES 'ell']", kOne), 1);
  EXPECT_EQ(M("[test:string MATCHES '^ell']", kOne), 0);
  EXPECT_EQ(M("[test:string MATCHES '^h.*o$']", kOne), 1);
  EXPECT_EQ(M("[test:string MATCHES '(?P<x>l)(?P=x)']", kOne), 1);  // Python group syntax
  EXPECT_EQ(M("[test:string NOT MATCHES 'z']", kOne), 1);
  EXPECT_EQ(M("[test:name_bin MATCHES '^\\\\x61li']", kOne), 1);  // bytes, byte-wise
  EXPECT_EQ(M("[test:int MATCHES '5']", kOne), 0);
  EXPECT_EQ(M("[test:string MATCHES '(']", kOne), -1);  // invalid regex
}

TEST(EvaluatorOps, SubsetSupersetIPv4AndIPv6) {
  EXPECT_EQ(M("[test:ip ISSUBSET '11.22.32.0/20']", kOne), 1);
  EXPECT_EQ(M("[test:ip ISSUBSET '11.22.64.0/20']", kOne), 0);
  EXPECT_EQ(M("[test:ip NOT ISSUBSET '11.22.64.0/20']", kOne), 1);
  EXPECT_EQ(M("[test:cidr ISSUPERSET '11.22.40.1']", kOne), 1);
  EXPECT_EQ(M("[test:cidr ISSUPERSET '11.22.33.0/24']", kOne), 1);
  EXPECT_EQ(M("[test:cidr ISSUPERSET '11.22.33.0/16']", kOne), 0);
  EXPECT_EQ(M("[test:ip6 ISSUBSET '2001:db8::/32']", kOne), 1);
  EXPECT_EQ(M("[test:ip6 ISSUBSET '2001:db9::/32']", kOne), 0);
  EXPECT_EQ(M("[test:ip6 ISSUBSET '2001:db8::/127']", kOne), 1);
  EXPECT_EQ(M("[test:ip6 ISSUBSET '2001:db8::/128']", kOne), 0);
  EXPECT_EQ(M("[test:cidr6 ISSUPERSET '2001:db8:ffff::/48']", kOne), 1);
  EXPECT_EQ(M("[test:ip6 ISSUBSET '11.0.0.0/8']", kOne), 0);  // other family
  EXPECT_EQ(M("[test:string ISSUBSET '11.0.0.0/8']", kOne), -1);  // not an address
  EXPECT_EQ(M("[test:ip ISSUBSET '11.0.0.0']", kOne), -1);        // not a block
  EXPECT_EQ(M("[test:int ISSUBSET '11.0.0.0/8']", kOne), 0);      // non-strings just fail
}

TEST(EvaluatorOps, NotAndMissingProperties) {
  EXPECT_EQ(M("[test:int NOT = 6]", kOne), 1);
  EXPECT_EQ(M("[test:int NOT = 5]", kOne), 0);
  EXPECT_EQ(M("[test:missing NOT = 5]", kOne), 0);  // absent: false, with or without NOT
  EXPECT_EQ(M("[test:missing != 5]", kOne), 0);
  EXPECT_EQ(M("[other:int NOT = 6]", kOne), 0);     // no object of that type
}

TEST(EvaluatorOps, Exists) {
  EXPECT_EQ(M("[EXISTS test:int]", kOne), 1);
  EXPECT_EQ(M("[EXISTS test:missing]", kOne), 0);
  EXPECT_EQ(M("[EXISTS test:missing OR test:int = 5]", kOne), 1);
  EXPECT_EQ(M("[EXISTS test:nul]", kOne), 1);  // present, even if null
  EXPECT_EQ(M("[EXISTS test:nested.deep.k]", kOne), 1);
  EXPECT_EQ(M("[EXISTS test:list[5]]", kOne), 0);
}

// ----------------------------------------------------------------- paths

TEST(EvaluatorPaths, KeysIndexesAndWildcards) {
  EXPECT_EQ(M("[test:nested.deep.k = 'v']", kOne), 1);
  EXPECT_EQ(M("[test:'quoted key' = 'q']", kOne), 1);
  EXPECT_EQ(M("[test:list[0] = 1]", kOne), 1);
  EXPECT_EQ(M("[test:list[2] = 3]", kOne), 1);
  EXPECT_EQ(M("[test:list[3] = 3]", kOne), 0);
  EXPECT_EQ(M("[test:list[-1] = 3]", kOne), 0);
  EXPECT_EQ(M("[test:list[*] = 2]", kOne), 1);      // existential
  EXPECT_EQ(M("[test:list[*] != 2]", kOne), 1);     // some element differs
  EXPECT_EQ(M("[test:list[*] > 3]", kOne), 0);
  EXPECT_EQ(M("[test:int[*] = 5]", kOne), 0);       // not a list
}

TEST(EvaluatorPaths, AndNeedsTheSameRootObject) {
  std::string two = Obs21("observed-data--1", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", 1,
                          {R"({"type":"person","id":"person--1","name":"alice","age":10})",
                           R"({"type":"person","id":"person--2","name":"bob","age":15})"});
  EXPECT_EQ(M("[person:name = 'alice' AND person:age = 10]", two), 1);
  EXPECT_EQ(M("[person:name = 'alice' AND person:age = 15]", two), 0);
  EXPECT_EQ(M("[person:name = 'alice' OR person:age = 15]", two), 1);
  EXPECT_EQ(M("[(person:name = 'x' OR person:name = 'bob') AND person:age > 10]", two), 1);
}

TEST(EvaluatorPaths, ReferenceTraversal21) {
  std::string net = Obs21(
      "observed-data--1", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", 1,
      {R"({"type":"network-traffic","id":"network-traffic--1","src_ref":"ipv4-addr--1",
           "dst_ref":"ipv4-addr--9","protocols":["tcp"]})",
       R"({"type":"ipv4-addr","id":"ipv4-addr--1","value":"10.0.0.1"})",
       R"({"type":"email-message","id":"email-message--1","to_refs":["email-addr--1","email-addr--2"]})",
       R"({"type":"email-addr","id":"email-addr--1","value":"a@example.com"})",
       R"({"type":"email-addr","id":"email-addr--2","value":"b@example.com"})",
       R"({"type":"bad","id":"bad--1","x_ref":5})"});
  EXPECT_EQ(M("[network-traffic:src_ref.value = '10.0.0.1']", net), 1);
  EXPECT_EQ(M("[network-traffic:src_ref.value ISSUBSET '10.0.0.0/8']", net), 1);
  EXPECT_EQ(M("[network-traffic:dst_ref.value = '10.0.0.1']", net), 0);  // unresolved
  EXPECT_EQ(M("[network-traffic:src_ref.value = '10.0.0.1' AND network-traffic:protocols[*] = 'tcp']", net), 1);
  EXPECT_EQ(M("[email-message:to_refs[*].value = 'b@example.com']", net), 1);
  EXPECT_EQ(M("[email-message:to_refs[0].value = 'a@example.com']", net), 1);
  EXPECT_EQ(M("[email-message:to_refs[1].value = 'a@example.com']", net), 0);
  EXPECT_EQ(M("[bad:x_ref.value = 1]", net), -1);  // a _ref must be a string
}

TEST(EvaluatorPaths, ReferenceTraversal20EmbeddedObjects) {
  std::string obs = R"([{"type":"observed-data","id":"observed-data--1",
    "first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:00:00Z",
    "number_observed":1,"objects":{
      "0":{"type":"person","name":"alice","knows_ref":"1"},
      "1":{"type":"person","name":"bob","knows_refs":["0","2"]},
      "2":{"type":"person","name":"carol"}}}])";
  EXPECT_EQ(M("[person:knows_ref.name = 'bob']", obs, k20), 1);
  EXPECT_EQ(M("[person:knows_refs[*].name = 'carol']", obs, k20), 1);
  EXPECT_EQ(M("[person:knows_ref.knows_refs[*].knows_ref.name = 'bob']", obs, k20), 1);
  EXPECT_EQ(M("[person:knows_ref.name = 'carol']", obs, k20), 0);
}

// ----------------------------------------------------------------- observation operators

std::string Person(int i, const std::string& name, int age) {
  return R"({"type":"person","id":"person--)" + std::to_string(i) + R"(","name":")" + name +
         R"(","age":)" + std::to_string(age) + "}";
}

// alice at :00, bob at :10, carol at :20-:30 (two instances).
std::string Timeline() {
  std::string a = Obs21("observed-data--a", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", 1,
                        {Person(1, "alice", 10)});
  std::string b = Obs21("observed-data--b", "2020-01-01T00:00:10Z", "2020-01-01T00:00:10Z", 1,
                        {Person(2, "bob", 15)});
  std::string c = Obs21("observed-data--c", "2020-01-01T00:00:20Z", "2020-01-01T00:00:30Z", 2,
                        {Person(3, "carol", 30)});
  return "[" + a + "," + b + "," + c + "]";
}

TEST(EvaluatorObservations, AndOrFollowedBy) {
  std::string t = Timeline();
  EXPECT_EQ(M("[person:name = 'alice'] AND [person:name = 'bob']", t), 1);
  EXPECT_EQ(M("[person:name = 'alice'] AND [person:name = 'alice']", t), 0);  // distinct
  EXPECT_EQ(M("[person:name = 'carol'] AND [person:name = 'carol']", t), 1);  // number_observed 2
  EXPECT_EQ(M("[person:name = 'zed'] OR [person:name = 'bob']", t), 1);
  EXPECT_EQ(M("[person:name = 'alice'] FOLLOWEDBY [person:name = 'bob']", t), 1);
  EXPECT_EQ(M("[person:name = 'bob'] FOLLOWEDBY [person:name = 'alice']", t), 0);
  EXPECT_EQ(M("[person:name = 'alice'] FOLLOWEDBY [person:name = 'bob'] FOLLOWEDBY "
              "[person:name = 'carol']", t), 1);
  EXPECT_EQ(M("([person:name = 'alice'] AND [person:name = 'carol']) FOLLOWEDBY "
              "[person:name = 'bob']", t), 0);

  Result<MatchResult> r = Eval("[person:name = 'alice'] AND [person:name = 'carol']", t);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->observed_data_ids, (std::vector<std::string>{"observed-data--a", "observed-data--c"}));
  EXPECT_EQ(r->observations, (std::vector<size_t>{0, 2}));
}

// n ANDed copies of one [...] need n distinct instances. With fewer, the
// answer is "no match" at once (a matching of copies to instances), not after
// trying every assignment: 10 copies over 9 matching of 20 observations ran
// into the step budget (10 s) before.
TEST(EvaluatorObservations, AndOfManyCopiesNeedsThatManyInstances) {
  auto observations = [](int matching, int others) {
    std::string out = "[";
    for (int i = 0; i < matching + others; ++i) {
      if (i) out += ",";
      out += Obs21("observed-data--" + std::to_string(i), "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", 1,
                   {Person(i, "p", i < matching ? 10 : 40)});
    }
    return out + "]";
  };
  std::string ten = "[person:age < 20]";
  for (int i = 1; i < 10; ++i) ten += " AND [person:age < 20]";
  Result<MatchResult> few = Eval(ten, observations(9, 11));
  ASSERT_TRUE(few.ok()) << few.status();
  EXPECT_FALSE(few->matched);
  Result<MatchResult> enough = Eval(ten, observations(10, 10));
  ASSERT_TRUE(enough.ok()) << enough.status();
  EXPECT_TRUE(enough->matched);
  EXPECT_EQ(enough->observations.size(), 10u);
  // Two instances of one observation count as two (number_observed).
  EXPECT_EQ(M("[person:name = 'carol'] AND [person:name = 'carol'] AND [person:name = 'carol']", Timeline()), 0);
  EXPECT_EQ(M("([person:name = 'carol'] AND [person:name = 'carol']) AND [person:age > 0]", Timeline()), 1);
}

TEST(EvaluatorObservations, Qualifiers) {
  std::string t = Timeline();
  EXPECT_EQ(M("[person:age > 0] REPEATS 4 TIMES", t), 1);  // a, b, carol x2
  EXPECT_EQ(M("[person:age > 0] REPEATS 5 TIMES", t), 0);
  EXPECT_EQ(M("[person:age > 12] REPEATS 3 TIMES", t), 1);
  EXPECT_EQ(M("([person:name = 'alice'] AND [person:name = 'bob']) WITHIN 10 SECONDS", t), 1);
  EXPECT_EQ(M("([person:name = 'alice'] AND [person:name = 'bob']) WITHIN 9.5 SECONDS", t), 0);
  // carol's interval [20, 30] touches a window starting at bob's 10s.
  EXPECT_EQ(M("([person:name = 'bob'] AND [person:name = 'carol']) WITHIN 10 SECONDS", t), 1);
  EXPECT_EQ(M("([person:name = 'alice'] AND [person:name = 'carol']) WITHIN 19 SECONDS", t), 0);
  EXPECT_EQ(M("[person:age > 0] REPEATS 3 TIMES WITHIN 20 SECONDS", t), 1);
  EXPECT_EQ(M("[person:age > 0] REPEATS 4 TIMES WITHIN 15 SECONDS", t), 0);
  // START inclusive, STOP exclusive, against [first_observed, last_observed].
  EXPECT_EQ(M("[person:name = 'bob'] START t'2020-01-01T00:00:10Z' STOP t'2020-01-01T00:00:11Z'", t), 1);
  EXPECT_EQ(M("[person:name = 'bob'] START t'2020-01-01T00:00:05Z' STOP t'2020-01-01T00:00:10Z'", t), 0);
  EXPECT_EQ(M("[person:name = 'carol'] START t'2020-01-01T00:00:30Z' STOP t'2020-01-01T00:01:00Z'", t), 1);
  EXPECT_EQ(M("[person:name = 'bob'] START t'2020-01-01T00:00:11Z' STOP t'2020-01-01T00:00:10Z'", t), 0);
  EXPECT_EQ(M("[person:age > 0] REPEATS 2 TIMES START t'2020-01-01T00:00:00Z' STOP t'2020-01-01T00:00:15Z'", t), 1);
  EXPECT_EQ(M("[person:age > 0] REPEATS 3 TIMES START t'2020-01-01T00:00:00Z' STOP t'2020-01-01T00:00:15Z'", t), 0);
  // Bounds past 2262 (int64 ns) saturate and stay bounds: "from the year 1 to 9999" is "always".
  EXPECT_EQ(M("[person:name = 'bob'] START t'0001-01-01T00:00:00Z' STOP t'9999-12-31T23:59:59Z'", t), 1);
  EXPECT_EQ(M("[person:name = 'bob'] START t'9000-01-01T00:00:00Z' STOP t'9999-12-31T23:59:59Z'", t), 0);
  // Invalid qualifier values are errors at evaluation.
  EXPECT_EQ(M("[person:age > 0] START t'2020-02-30T00:00:00Z' STOP t'2020-03-01T00:00:00Z'", t), -1);
  EXPECT_EQ(M("[person:age > 0] START '2020-01-01t00:00:00Z' STOP '2020-03-01T00:00:00Z'", t, k20), -1);
}

// ----------------------------------------------------------------- loading

TEST(EvaluatorLoad, Shapes) {
  // A single observed-data with the deprecated embedded objects, in 2.1.
  std::string embedded = R"({"type":"observed-data","id":"observed-data--1",
    "first_observed":"2020-01-01T00:00:00Z","last_observed":"2020-01-01T00:00:01Z",
    "number_observed":3,"objects":{"0":{"type":"file","name":"a.exe"}}})";
  Result<ObservationSet> set = LoadObserved(embedded, k21);
  ASSERT_TRUE(set.ok()) << set.status();
  ASSERT_EQ(set->size(), 1u);
  EXPECT_EQ(set->observations()[0].number_observed, 3);
  EXPECT_EQ(set->observations()[0].object_keys, std::vector<std::string_view>{"0"});
  EXPECT_EQ(M("[file:name = 'a.exe']", embedded), 1);

  // Bare SCOs: one observation each.
  std::string bare = R"([{"type":"ipv4-addr","id":"ipv4-addr--1","value":"1.2.3.4"},
                         {"type":"ipv4-addr","id":"ipv4-addr--2","value":"5.6.7.8"},
                         {"type":"identity","id":"identity--1","name":"x"}])";
  set = LoadObserved(bare, k21);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->size(), 2u);
  EXPECT_EQ(M("[ipv4-addr:value = '1.2.3.4'] AND [ipv4-addr:value = '5.6.7.8']", bare), 1);
  EXPECT_EQ(M("[identity:name = 'x']", bare), 0);

  // SCOs that no observed-data references are not observed.
  std::string unref = Obs21("observed-data--1", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", 1,
                            {Person(1, "alice", 1)});
  unref.insert(unref.size() - 2, "," + Person(2, "bob", 2));
  EXPECT_EQ(M("[person:name = 'alice']", unref), 1);
  EXPECT_EQ(M("[person:name = 'bob']", unref), 0);
}

// ObservedDataBuilder builds what LoadObserved loads from the same data as
// JSON: every pattern gets the same result and binds the same observation.
TEST(EvaluatorLoad, BuilderEqualsLoadingTheJson) {
  const std::string json = Obs21(
      "observed-data--9", "2018-03-24T17:15:20.865716Z", "2018-03-24T17:15:20.865716Z", 1,
      {R"({"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--1","value":"10.0.0.1"})",
       R"({"type":"ipv4-addr","spec_version":"2.1","id":"ipv4-addr--2","value":"192.0.2.9"})",
       R"({"type":"file","spec_version":"2.1","id":"file--3","hashes":{"MD5":"d41d8cd98f00b204e9800998ecf8427e"}})",
       R"({"type":"network-traffic","spec_version":"2.1","id":"network-traffic--4","src_ref":"ipv4-addr--1",)"
       R"("dst_ref":"ipv4-addr--2","dst_port":53,"protocols":["udp"]})"});
  Result<ObservationSet> loaded = LoadObserved(json, k21);
  ASSERT_TRUE(loaded.ok()) << loaded.status();

  // 2018-03-24T17:15:20.865716Z and 123 ns more: cut to microseconds.
  ObservedDataBuilder b(k21, "observed-data--9", Timestamp{1521911720865716123});
  b.Add(b.AddObject("ipv4-addr", "ipv4-addr--1"), "value", b.String("10.0.0.1"));
  b.Add(b.AddObject("ipv4-addr", "ipv4-addr--2"), "value", b.String("192.0.2.9"));
  JsonValue* file = b.AddObject("file", "file--3");
  b.Add(b.Add(file, "hashes", ObservedDataBuilder::Object()), "MD5", b.String("d41d8cd98f00b204e9800998ecf8427e"));
  JsonValue* traffic = b.AddObject("network-traffic", "network-traffic--4");
  b.Add(traffic, "src_ref", b.String("ipv4-addr--1"));
  b.Add(traffic, "dst_ref", b.String("ipv4-addr--2"));
  b.Add(traffic, "dst_port", ObservedDataBuilder::Int(53));
  b.Add(traffic, "protocols", ObservedDataBuilder::Array())->items.push_back(b.String("udp"));
  const ObservationSet built = std::move(b).Finish();

  ASSERT_EQ(built.size(), 1u);
  EXPECT_EQ(built.observations()[0].object_keys, loaded->observations()[0].object_keys);
  EXPECT_EQ(built.observations()[0].first_observed_us, loaded->observations()[0].first_observed_us);
  EXPECT_EQ(built.observations()[0].last_observed.ns, loaded->observations()[0].last_observed.ns);
  int matched = 0;
  for (const char* text : {
           "[ipv4-addr:value = '10.0.0.1']",
           "[ipv4-addr:value = '10.0.0.2']",
           "[network-traffic:dst_ref.value = '192.0.2.9' AND network-traffic:dst_port = 53]",
           "[network-traffic:src_ref.value ISSUBSET '10.0.0.0/8' AND network-traffic:protocols[*] = 'udp']",
           "[network-traffic:src_ref.value = '192.0.2.9']",
           "[network-traffic:dst_port > 1000]",
           "[network-traffic:protocols[0] = 'udp' AND network-traffic:spec_version = '2.1']",
           "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
           "[EXISTS file:hashes.'SHA-256']",
           "[network-traffic:id = 'network-traffic--4']",
           "[ipv4-addr:value = '10.0.0.1'] START t'2018-03-24T17:15:20.865716Z' STOP t'2018-03-24T17:15:20.865717Z'",
           "[ipv4-addr:value = '10.0.0.1'] START t'2018-03-24T17:15:20.865717Z' STOP t'2018-03-24T17:16:00Z'",
       }) {
    auto p = Parse(text, k21);
    ASSERT_TRUE(p.ok()) << text << ": " << p.status();
    auto want = Evaluate(*p, *loaded);
    auto got = Evaluate(*p, built);
    ASSERT_TRUE(want.ok() && got.ok()) << text;
    EXPECT_EQ(got->matched, want->matched) << text;
    EXPECT_EQ(got->observations, want->observations) << text;
    matched += got->matched;
  }
  EXPECT_EQ(matched, 7);
}

TEST(EvaluatorLoad, Errors) {
  EXPECT_FALSE(LoadObserved("not json", k21).ok());
  EXPECT_FALSE(LoadObserved("[1]", k21).ok());
  EXPECT_FALSE(LoadObserved(R"({"type":"observed-data","first_observed":"2020-01-01T00:00:00Z",
      "last_observed":"2020-01-01T00:00:00Z","objects":{}})", k21).ok());  // no number_observed
  EXPECT_FALSE(LoadObserved(R"({"type":"observed-data","first_observed":"2020-01-01T00:00:00Z",
      "last_observed":"2020-01-01T00:00:00Z","number_observed":0,"objects":{}})", k21).ok());
  EXPECT_FALSE(LoadObserved(R"({"type":"observed-data","first_observed":"2020-01-01t00:00:00Z",
      "last_observed":"2020-01-01T00:00:00Z","number_observed":1,"objects":{}})", k21).ok());
  EXPECT_FALSE(LoadObserved(R"({"type":"observed-data","first_observed":"2020-01-02T00:00:00Z",
      "last_observed":"2020-01-01T00:00:00Z","number_observed":1,"objects":{}})", k21).ok());
  EXPECT_TRUE(LoadObserved("[]", k21).ok());
}

TEST(EvaluatorSearch, LargeNumberObservedAndCombinatorics) {
  std::string big = Obs21("observed-data--1", "2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z",
                          1000000000, {Person(1, "alice", 1)});
  EXPECT_EQ(M("[person:name = 'alice'] REPEATS 50 TIMES", big), 1);
  EXPECT_EQ(M("[person:name = 'alice'] AND [person:name = 'bob']", big), 0);
  std::string many = "[";
  for (int i = 0; i < 12; ++i) {
    if (i) many += ",";
    many += Obs21("observed-data--" + std::to_string(i), "2020-01-01T00:00:00Z",
                  "2020-01-01T00:00:00Z", 1, {Person(i, "p", i)});
  }
  many += "]";
  EXPECT_EQ(M("[person:age >= 0] REPEATS 12 TIMES", many), 1);
  EXPECT_EQ(M("[person:age >= 0] REPEATS 13 TIMES", many), 0);
  EXPECT_EQ(M("[person:age >= 0] REPEATS 3 TIMES REPEATS 4 TIMES", many), 1);
  EXPECT_EQ(M("[person:age >= 0] REPEATS 5 TIMES REPEATS 3 TIMES", many), 0);
}

}  // namespace
}  // namespace cordon::pattern
