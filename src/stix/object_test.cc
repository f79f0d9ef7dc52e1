#include "stix/object.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace cordon::stix {

void PrintTo(const Problem& p, std::ostream* os) { *os << p.ToString(); }

namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::ElementsAre;
using ::testing::Not;

MATCHER_P2(IsProblem, property, reason, "") {
  return arg.property == property && arg.reason.find(reason) != std::string::npos;
}
MATCHER_P(OnProperty, property, "") { return arg.property == property; }

// A JSON object under construction: keys in order, values as raw JSON.
class J {
 public:
  J(std::initializer_list<std::pair<std::string, std::string>> kv) : kv_(kv) {}
  J& Set(const std::string& key, const std::string& raw) {
    for (auto& [k, v] : kv_) {
      if (k == key) {
        v = raw;
        return *this;
      }
    }
    kv_.emplace_back(key, raw);
    return *this;
  }
  J& Erase(const std::string& key) {
    std::erase_if(kv_, [&](const auto& p) { return p.first == key; });
    return *this;
  }
  const std::vector<std::pair<std::string, std::string>>& items() const { return kv_; }
  std::string Str() const {
    std::string out = "{";
    for (const auto& [k, v] : kv_) {
      if (out.size() > 1) out += ",";
      out += "\"" + k + "\":" + v;
    }
    return out + "}";
  }

 private:
  std::vector<std::pair<std::string, std::string>> kv_;
};

std::string Q(const std::string& s) { return "\"" + s + "\""; }

constexpr char kTs[] = "\"2016-04-06T20:03:48.000Z\"";
constexpr char kIdentityId[] = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff";
constexpr char kMalwareId[] = "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b";
constexpr char kIpv4Id[] = "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd";
constexpr char kTlpGreen1[] = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
constexpr char kTlpRed1[] = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
constexpr char kTlpAmber2[] = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
constexpr char kTlpAmberStrict2[] = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
constexpr char kTlpClear2[] = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";

J Sdo(const std::string& type, const std::string& uuid = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f") {
  return J{{"type", Q(type)},
           {"spec_version", "\"2.1\""},
           {"id", Q(type + "--" + uuid)},
           {"created", kTs},
           {"modified", kTs}};
}

J Indicator() {
  return Sdo("indicator")
      .Set("name", "\"Poison Ivy Malware\"")
      .Set("indicator_types", "[\"malicious-activity\"]")
      .Set("pattern", "\"[file:hashes.'SHA-256' = '4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877']\"")
      .Set("pattern_type", "\"stix\"")
      .Set("valid_from", "\"2016-01-01T00:00:00Z\"");
}

J Sco(const std::string& type) {
  return J{{"type", Q(type)}, {"spec_version", "\"2.1\""}, {"id", Q(type + "--ff26c055-6336-5bc5-b98d-13d6226742dd")}};
}

Validated V(const J& j, DefaultVersion dv = DefaultVersion::kInfer) { return ValidateObject(j.Str(), dv); }

std::string Dump(const Validated& v) {
  std::string s;
  for (const Problem& p : v.problems) s += "  " + p.ToString() + "\n";
  return s;
}

TEST(SpecVersionName, Names) {
  EXPECT_EQ(SpecVersionName(SpecVersion::k20), "2.0");
  EXPECT_EQ(SpecVersionName(SpecVersion::k21), "2.1");
}

TEST(Problem, ToStringLeavesOutEmptyParts) {
  EXPECT_EQ((Problem{"indicator--x", "pattern", "bad"}).ToString(), "indicator--x: pattern: bad");
  EXPECT_EQ((Problem{"", "id", "required property missing"}).ToString(), "id: required property missing");
  EXPECT_EQ((Problem{"a--b", "", "must be a JSON object"}).ToString(), "a--b: must be a JSON object");
  EXPECT_EQ((Problem{"", "", "x"}).ToString(), "x");
}

TEST(ValidateObject, ValidIndicatorFillsInfo) {
  Validated v = V(Indicator()
                      .Set("modified", "\"2017-01-01T00:00:00.123Z\"")
                      .Set("confidence", "85")
                      .Set("revoked", "true")
                      .Set("object_marking_refs", "[\"" + std::string(kTlpGreen1) + "\",\"" + kTlpRed1 + "\"]"));
  ASSERT_TRUE(v.ok()) << Dump(v);
  EXPECT_EQ(v.info.id, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
  EXPECT_EQ(v.info.type, "indicator");
  EXPECT_EQ(v.info.spec_version, SpecVersion::k21);
  ASSERT_TRUE(v.info.created.has_value());
  ASSERT_TRUE(v.info.modified.has_value());
  EXPECT_EQ(FormatTimestamp(*v.info.created), "2016-04-06T20:03:48.000Z");
  EXPECT_EQ(FormatTimestamp(*v.info.modified), "2017-01-01T00:00:00.123Z");
  EXPECT_EQ(v.info.version(), *v.info.modified);
  EXPECT_TRUE(v.info.revoked);
  EXPECT_EQ(v.info.confidence, 85);
  EXPECT_EQ(v.info.object_marking_refs.size(), 2u);
  EXPECT_EQ(v.info.tlp, Tlp::kRed);
}

// Bounds past 2262 are valid STIX and kept (they saturate); a version past it
// cannot be stored apart from another and is refused, naming the property.
TEST(ValidateObject, TimestampsBeyond2262AreBoundsNotVersions) {
  Validated bound = V(Indicator().Set("valid_until", "\"9999-12-31T23:59:59Z\""));
  EXPECT_TRUE(bound.ok()) << Dump(bound);
  Validated version = V(Indicator().Set("modified", "\"9999-12-31T23:59:59Z\""));
  ASSERT_EQ(version.problems.size(), 1u) << Dump(version);
  EXPECT_EQ(version.problems[0].property, "modified");
  EXPECT_THAT(version.problems[0].reason, ::testing::HasSubstr("2262-04-11"));
  Validated created = V(Indicator().Set("created", "\"1500-01-01T00:00:00Z\""));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.problems[0].property, "created");
}

TEST(ValidateObject, TlpIsTheMostRestrictive) {
  auto tlp = [](std::vector<std::string> refs) {
    std::string list = "[";
    for (const auto& r : refs) list += (list.size() > 1 ? ",\"" : "\"") + r + "\"";
    Validated v = V(Indicator().Set("object_marking_refs", list + "]"));
    EXPECT_TRUE(v.ok()) << Dump(v);
    return v.info.tlp;
  };
  EXPECT_EQ(tlp({kTlpClear2}), Tlp::kClear);
  EXPECT_EQ(tlp({kTlpAmberStrict2, kTlpAmber2}), Tlp::kAmberStrict);
  EXPECT_EQ(tlp({kTlpGreen1, kTlpClear2}), Tlp::kGreen);
  EXPECT_EQ(tlp({"marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"}), Tlp::kNone);
  EXPECT_EQ(V(Indicator()).info.tlp, Tlp::kNone);
}

TEST(ValidateObject, NotJsonOrNotAnObject) {
  Validated v = ValidateObject("{\"type\": ");
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_THAT(v.problems[0].reason, HasSubstr("not valid JSON"));
  v = ValidateObject("[1,2]");
  EXPECT_THAT(v.problems, Contains(IsProblem("", "must be a JSON object")));
}

// Readers disagree on which of two same-named members counts (simdjson the
// first, Python the last): such an object could match as one indicator here
// and read as another at a partner. Refused at any depth, each name once.
TEST(ValidateObject, RepeatedMemberNames) {
  std::string text = Indicator().Str();
  text.insert(1, "\"pattern\":\"[domain-name:value = 'benign.example']\",");
  Validated v = ValidateObject(text);
  EXPECT_THAT(v.problems, Contains(IsProblem("pattern", "appears more than once in the same JSON object")))
      << Dump(v);
  EXPECT_EQ(v.problems[0].object_id, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");

  v = V(Indicator().Set("x_list", R"([{"a":1},{"b":1,"b":2,"b":3}])").Set("x_deep", R"({"k":{"z":0,"z":0}})"));
  EXPECT_THAT(v.problems, Contains(IsProblem("x_list[1].b", "appears more than once")));
  EXPECT_THAT(v.problems, Contains(IsProblem("x_deep.k.z", "appears more than once")));
  EXPECT_EQ(v.problems.size(), 2u) << Dump(v);  // "b" three times: reported once

  // Many members (the sorted path), one repeated among them.
  J wide = Indicator();
  std::string members;
  for (int i = 0; i < 40; ++i) members += (i ? "," : "") + Q("m" + std::to_string(i)) + ":" + std::to_string(i);
  v = V(wide.Set("x_wide", "{" + members + ",\"m17\":0}"));
  EXPECT_THAT(v.problems, ElementsAre(IsProblem("x_wide.m17", "appears more than once"))) << Dump(v);

  // One name in different objects is fine.
  EXPECT_TRUE(V(Indicator().Set("x_list", R"([{"a":1},{"a":2}])").Set("x_a", R"({"a":{"a":1}})")).ok());
}

TEST(ValidateObject, MissingId) {
  Validated v = V(Indicator().Erase("id"));
  EXPECT_THAT(v.problems, Contains(IsProblem("id", "required property missing")));
  EXPECT_EQ(v.problems[0].object_id, "");
}

TEST(ValidateObject, WrongIdPrefix) {
  Validated v = V(Indicator().Set("id", Q(kMalwareId)));
  EXPECT_THAT(v.problems, Contains(IsProblem("id", "must start with the object's type \"indicator--\"")));
  EXPECT_EQ(v.problems[0].object_id, kMalwareId);
}

TEST(ValidateObject, BadUuid) {
  EXPECT_THAT(V(Indicator().Set("id", "\"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3\"")).problems,
              Contains(IsProblem("id", "must be <type>--<UUID>")));
  EXPECT_THAT(V(Indicator().Set("id", "\"indicator--8e2e2d2b17d44cbf938f98ee46b3cd3fab\"")).problems,
              Contains(IsProblem("id", "must be <type>--<UUID>")));
  EXPECT_THAT(V(Indicator().Set("id", "42")).problems, Contains(IsProblem("id", "must be a string")));
}

TEST(ValidateObject, AnyUuidVersionIn21ButV4In20) {
  // STIX 2.1 SCO ids should be UUIDv5, others v4; any RFC 4122 UUID is accepted.
  EXPECT_TRUE(V(Indicator().Set("id", "\"indicator--8e2e2d2b-17d4-5cbf-938f-98ee46b3cd3f\"")).ok());
  J ind20 = Indicator().Erase("spec_version").Erase("pattern_type").Set("labels", "[\"malicious-activity\"]");
  ASSERT_TRUE(V(ind20).ok()) << Dump(V(ind20));
  EXPECT_THAT(V(ind20.Set("id", "\"indicator--8e2e2d2b-17d4-5cbf-938f-98ee46b3cd3f\"")).problems,
              Contains(IsProblem("id", "version 4 UUID")));
}

TEST(ValidateObject, TypeSyntax) {
  EXPECT_THAT(V(Indicator().Set("type", "\"In\"")).problems, Contains(OnProperty("type")));
  EXPECT_THAT(V(Indicator().Set("type", "\"x_foo\"")).problems, Contains(OnProperty("type")));
  EXPECT_THAT(V(Indicator().Set("type", "\"x--foo\"")).problems, Contains(OnProperty("type")));
  EXPECT_THAT(V(Indicator().Erase("type")).problems,
              Contains(IsProblem("type", "required property missing")));
  EXPECT_THAT(ValidateObject(R"({"type":"bundle","id":"bundle--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","objects":[]})").problems,
              Contains(IsProblem("type", "not a STIX object")));
}

TEST(ValidateObject, NonZTimestamp) {
  Validated v = V(Indicator().Set("created", "\"2016-04-06T20:03:48.000+01:00\""));
  EXPECT_THAT(v.problems, Contains(IsProblem("created", "must be an RFC 3339 UTC timestamp ending in Z")));
  EXPECT_FALSE(v.info.created.has_value());
  EXPECT_THAT(V(Indicator().Set("modified", "1460000000")).problems,
              Contains(IsProblem("modified", "RFC 3339")));
  EXPECT_THAT(V(Indicator().Set("valid_from", "\"2016-01-01\"")).problems,
              Contains(IsProblem("valid_from", "RFC 3339")));
}

TEST(ValidateObject, ModifiedBeforeCreated) {
  EXPECT_THAT(V(Indicator().Set("modified", "\"2016-04-06T20:03:47.999Z\"")).problems,
              Contains(IsProblem("modified", "later than or equal to created")));
}

TEST(ValidateObject, ValidUntilAfterValidFrom) {
  EXPECT_THAT(V(Indicator().Set("valid_until", "\"2016-01-01T00:00:00Z\"")).problems,
              Contains(IsProblem("valid_until", "later than valid_from")));
  EXPECT_TRUE(V(Indicator().Set("valid_until", "\"2016-01-01T00:00:00.001Z\"")).ok());
}

TEST(ValidateObject, Confidence) {
  EXPECT_THAT(V(Indicator().Set("confidence", "101")).problems,
              Contains(IsProblem("confidence", "between 0 and 100")));
  EXPECT_THAT(V(Indicator().Set("confidence", "-1")).problems, Contains(OnProperty("confidence")));
  EXPECT_THAT(V(Indicator().Set("confidence", "50.5")).problems,
              Contains(IsProblem("confidence", "must be an integer")));
  EXPECT_THAT(V(Indicator().Set("confidence", "\"high\"")).problems,
              Contains(IsProblem("confidence", "must be an integer")));
  Validated ok = V(Indicator().Set("confidence", "0"));
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.info.confidence, 0);
}

TEST(ValidateObject, CommonPropertyTypes) {
  EXPECT_THAT(V(Indicator().Set("revoked", "\"yes\"")).problems, Contains(IsProblem("revoked", "must be a boolean")));
  EXPECT_THAT(V(Indicator().Set("labels", "[\"a\", 3]")).problems, Contains(IsProblem("labels[1]", "must be a string")));
  EXPECT_THAT(V(Indicator().Set("labels", "\"a\"")).problems, Contains(IsProblem("labels", "must be a list")));
  EXPECT_THAT(V(Indicator().Set("labels", "[]")).problems, Contains(IsProblem("labels", "empty")));
  EXPECT_THAT(V(Indicator().Set("lang", "5")).problems, Contains(IsProblem("lang", "must be a string")));
  EXPECT_THAT(V(Indicator().Set("name", "null")).problems, Contains(IsProblem("name", "must be a string")));
}

TEST(ValidateObject, CreatedByRef) {
  EXPECT_TRUE(V(Indicator().Set("created_by_ref", Q(kIdentityId))).ok());
  EXPECT_THAT(V(Indicator().Set("created_by_ref", Q(kMalwareId))).problems,
              Contains(IsProblem("created_by_ref", std::string("must reference a identity, got ") + kMalwareId)));
  EXPECT_THAT(V(Indicator().Set("created_by_ref", "\"identity--nope\"")).problems,
              Contains(IsProblem("created_by_ref", "must be an identifier")));
}

TEST(ValidateObject, ExternalReferences) {
  J j = Indicator().Set("external_references",
                        R"([{"source_name":"capec","external_id":"CAPEC-1"},)"
                        R"({"source_name":"x","url":"https://example.com","hashes":{"SHA-256":"abc"}},)"
                        R"({"description":"no source"},)"
                        R"("str",)"
                        R"({"source_name":7,"url":"u"}, {"source_name":"only"}])");
  Validated v = V(j);
  EXPECT_THAT(v.problems, Contains(IsProblem("external_references[2].source_name", "required property missing")));
  EXPECT_THAT(v.problems, Contains(IsProblem("external_references[3]", "external-reference")));
  EXPECT_THAT(v.problems, Contains(IsProblem("external_references[4].source_name", "must be a string")));
  EXPECT_THAT(v.problems, Contains(IsProblem("external_references[5]", "at least one of description, url or external_id")));
  EXPECT_THAT(v.problems, Not(Contains(OnProperty("external_references[0]"))));
  EXPECT_THAT(v.problems, Not(Contains(OnProperty("external_references[1]"))));
  EXPECT_EQ(v.problems.size(), 4u) << Dump(v);
}

TEST(ValidateObject, ObjectMarkingRefs) {
  EXPECT_THAT(V(Indicator().Set("object_marking_refs", "[\"" + std::string(kIdentityId) + "\"]")).problems,
              Contains(IsProblem("object_marking_refs[0]", "must reference a marking-definition")));
  EXPECT_THAT(V(Indicator().Set("object_marking_refs", "[]")).problems,
              Contains(IsProblem("object_marking_refs", "empty")));
}

TEST(ValidateObject, GranularMarkings) {
  std::string ok = "{\"selectors\":[\"description\"],\"marking_ref\":\"" + std::string(kTlpGreen1) + "\"}";
  EXPECT_TRUE(V(Indicator().Set("granular_markings", "[" + ok + ",{\"selectors\":[\"name\"],\"lang\":\"en\"}]")).ok());
  Validated v = V(Indicator().Set("granular_markings",
                                  "[" + ok + ",{\"marking_ref\":\"" + kTlpGreen1 + "\"},{\"selectors\":[\"name\"]}," +
                                      "{\"selectors\":[\"a\"],\"lang\":\"en\",\"marking_ref\":\"" + kTlpGreen1 + "\"}]"));
  EXPECT_THAT(v.problems, Contains(IsProblem("granular_markings[1].selectors", "required property missing")));
  EXPECT_THAT(v.problems, Contains(IsProblem("granular_markings[2].marking_ref", "required property missing")));
  EXPECT_THAT(v.problems, Contains(IsProblem("granular_markings[3]", "not both")));
}

TEST(ValidateObject, Extensions) {
  std::string key = "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e";
  EXPECT_TRUE(V(Indicator().Set("extensions", "{\"" + key + "\":{\"extension_type\":\"property-extension\",\"rank\":5}}")).ok());
  EXPECT_THAT(V(Indicator().Set("extensions", "{\"" + key + "\":{\"rank\":5}}")).problems,
              Contains(IsProblem("extensions." + key + ".extension_type", "required property missing")));
  EXPECT_THAT(V(Indicator().Set("extensions", "{\"" + key + "\":{\"extension_type\":\"new-thing\"}}")).problems,
              Contains(IsProblem("extensions." + key + ".extension_type", "must be one of")));
  EXPECT_THAT(V(Indicator().Set("extensions", "{\"extension-definition--123\":{\"extension_type\":\"new-sdo\"}}")).problems,
              Contains(IsProblem("extensions.extension-definition--123", "extension-definition--<UUID>")));
  EXPECT_THAT(V(Indicator().Set("extensions", "[]")).problems, Contains(IsProblem("extensions", "dictionary")));
  // Predefined and custom (non extension-definition) extensions need no extension_type.
  EXPECT_TRUE(V(Sco("file").Set("name", "\"a.zip\"").Set("extensions", "{\"archive-ext\":{\"contains_refs\":[]}}")).ok());
}

TEST(ValidateObject, CustomPropertiesAndObjectsAreKept) {
  EXPECT_TRUE(V(Indicator().Set("x_acme_score", "{\"a\":[1,2,null]}").Set("x_mitre_version", "\"1.0\"")).ok());
  J tactic = Sdo("x-mitre-tactic")
                 .Set("name", "\"Collection\"")
                 .Set("x_mitre_shortname", "\"collection\"")
                 .Set("external_references", R"([{"source_name":"mitre-attack","external_id":"TA0100","url":"https://attack.mitre.org/tactics/TA0100"}])");
  Validated v = V(tactic);
  EXPECT_TRUE(v.ok()) << Dump(v);
  EXPECT_EQ(v.info.spec_version, SpecVersion::k21);
  // A custom object still needs the common required properties.
  EXPECT_THAT(V(tactic.Erase("created")).problems, Contains(IsProblem("created", "required property missing")));
  EXPECT_THAT(V(Indicator().Set("x-bad-name", "1")).problems,
              Contains(IsProblem("x-bad-name", "custom property names")));
}

TEST(ValidateObject, CustomScoDeclaredByExtensionDefinition) {
  // STIX 2.1 section 7.3: a new SCO type is defined by an extension
  // definition; such objects have the SCO common properties (no created).
  J sco{{"type", "\"x-acme-device\""}, {"id", "\"x-acme-device--ff26c055-6336-5bc5-b98d-13d6226742dd\""},
        {"serial", "\"A1\""},
        {"extensions", "{\"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e\":{\"extension_type\":\"new-sco\"}}"}};
  Validated v = V(sco);
  EXPECT_TRUE(v.ok()) << Dump(v);
  EXPECT_EQ(v.info.spec_version, SpecVersion::k21);
  // Without the declaration it is read as a (2.0) custom SDO, which needs created/modified.
  EXPECT_THAT(V(J(sco).Erase("extensions")).problems, Contains(IsProblem("created", "required property missing")));
}

TEST(ValidateObject, SpecVersion) {
  EXPECT_THAT(V(Indicator().Set("spec_version", "\"2.2\"")).problems,
              Contains(IsProblem("spec_version", "must be \"2.1\", got \"2.2\"")));
  EXPECT_THAT(V(Indicator().Set("spec_version", "2.1")).problems, Contains(OnProperty("spec_version")));
}

TEST(ValidateObject, SdoWithoutSpecVersionIsReadAs20) {
  // A 2.1-style indicator that forgot spec_version is a STIX 2.0 indicator,
  // which requires labels (and knows no pattern_type: it is kept as custom).
  Validated v = V(Indicator().Erase("spec_version"));
  EXPECT_EQ(v.info.spec_version, SpecVersion::k20);
  EXPECT_THAT(v.problems, Contains(IsProblem("labels", "required property missing")));
  EXPECT_EQ(v.problems.size(), 1u) << Dump(v);
  // 2.0 defines no confidence: a custom property there.
  EXPECT_TRUE(V(Indicator().Erase("spec_version").Set("labels", "[\"x\"]").Set("confidence", "\"high\"")).ok());
  // A type that only exists in 2.1 cannot do without spec_version.
  J grouping = Sdo("grouping").Set("context", "\"suspicious-activity\"").Set("object_refs", "[\"" + std::string(kMalwareId) + "\"]");
  ASSERT_TRUE(V(grouping).ok());
  EXPECT_THAT(V(grouping.Erase("spec_version")).problems,
              Contains(IsProblem("spec_version", "required property missing")));
}

TEST(ValidateObject, ScoVersionInference) {
  J ip = J{{"type", "\"ipv4-addr\""}, {"id", Q(kIpv4Id)}, {"value", "\"198.51.100.3\""}};
  Validated v = V(ip);
  EXPECT_TRUE(v.ok()) << Dump(v);
  EXPECT_EQ(v.info.spec_version, SpecVersion::k21);
  EXPECT_FALSE(v.info.created.has_value());
  EXPECT_EQ(v.info.version(), Timestamp{});
  // Inside a 2.0 bundle there are no top-level SCOs.
  EXPECT_THAT(V(ip, DefaultVersion::k20).problems, Contains(IsProblem("spec_version", "required property missing")));
  EXPECT_TRUE(V(Indicator(), DefaultVersion::k20).ok());
}

TEST(ValidateObject, IndicatorPattern) {
  Validated v = V(Indicator().Set("pattern", "\"file:name = 'x'\""));
  EXPECT_THAT(v.problems, Contains(IsProblem("pattern", "column ")));
  EXPECT_THAT(v.problems, Contains(IsProblem("pattern", "invalid STIX pattern")));
  // Other pattern languages are not parsed.
  EXPECT_TRUE(V(Indicator().Set("pattern_type", "\"snort\"").Set("pattern", "\"alert tcp any any -> any any\"")).ok());
  EXPECT_THAT(V(Indicator().Erase("pattern_type")).problems, Contains(IsProblem("pattern_type", "required property missing")));
  EXPECT_THAT(V(Indicator().Erase("pattern")).problems, Contains(IsProblem("pattern", "required property missing")));
  EXPECT_THAT(V(Indicator().Erase("valid_from")).problems, Contains(IsProblem("valid_from", "required property missing")));
  // STIX 2.0: always a STIX pattern.
  EXPECT_THAT(V(Indicator().Erase("spec_version").Erase("pattern_type").Set("labels", "[\"x\"]").Set("pattern", "\"nope\"")).problems,
              Contains(IsProblem("pattern", "column ")));
}

TEST(ValidateObject, Relationship) {
  J rel = Sdo("relationship")
              .Set("relationship_type", "\"uses\"")
              .Set("source_ref", Q(kMalwareId))
              .Set("target_ref", Q(kIpv4Id));
  ASSERT_TRUE(V(rel).ok()) << Dump(V(rel));
  EXPECT_THAT(V(J(rel).Erase("target_ref")).problems, Contains(IsProblem("target_ref", "required property missing")));
  EXPECT_THAT(V(J(rel).Set("target_ref", "\"relationship--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"")).problems,
              Contains(IsProblem("target_ref", "must reference a SDO or SCO")));
  EXPECT_THAT(V(J(rel).Set("start_time", "\"2020-01-01T00:00:00Z\"").Set("stop_time", "\"2020-01-01T00:00:00Z\"")).problems,
              Contains(IsProblem("stop_time", "later than start_time")));
  // 2.0 relationships only link SDOs.
  EXPECT_THAT(V(J(rel).Erase("spec_version")).problems, Contains(IsProblem("target_ref", "must reference a SDO")));
}

TEST(ValidateObject, Sighting) {
  J s = Sdo("sighting").Set("sighting_of_ref", Q(kMalwareId));
  ASSERT_TRUE(V(s).ok()) << Dump(V(s));
  EXPECT_THAT(V(J(s).Set("sighting_of_ref", Q(kIpv4Id))).problems,
              Contains(IsProblem("sighting_of_ref", std::string("must reference a SDO, got ") + kIpv4Id)));
  EXPECT_THAT(V(J(s).Erase("sighting_of_ref")).problems,
              Contains(IsProblem("sighting_of_ref", "required property missing")));
  EXPECT_THAT(V(J(s).Set("count", "1000000000")).problems, Contains(IsProblem("count", "between 0 and 999999999")));
  EXPECT_TRUE(V(J(s).Set("count", "0")).ok());
  EXPECT_THAT(V(J(s).Set("first_seen", "\"2020-01-02T00:00:00Z\"").Set("last_seen", "\"2020-01-01T00:00:00Z\"")).problems,
              Contains(IsProblem("last_seen", "later than or equal to first_seen")));
  EXPECT_THAT(V(J(s).Set("observed_data_refs", "[\"" + std::string(kMalwareId) + "\"]")).problems,
              Contains(IsProblem("observed_data_refs[0]", "must reference a observed-data")));
  EXPECT_TRUE(V(J(s).Set("where_sighted_refs", "[\"" + std::string(kIdentityId) + "\",\"location--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f\"]")).ok());
  EXPECT_THAT(V(J(s).Set("where_sighted_refs", "[\"" + std::string(kMalwareId) + "\"]")).problems,
              Contains(IsProblem("where_sighted_refs[0]", "must reference a identity or location")));
}

TEST(ValidateObject, MarkingDefinitions) {
  J statement{{"type", "\"marking-definition\""}, {"spec_version", "\"2.1\""},
              {"id", "\"marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168\""},
              {"created", kTs}, {"definition_type", "\"statement\""},
              {"definition", "{\"statement\":\"Copyright 2017, The MITRE Corporation\"}"}};
  ASSERT_TRUE(V(statement).ok()) << Dump(V(statement));
  EXPECT_THAT(V(J(statement).Set("definition", "{}")).problems,
              Contains(IsProblem("definition.statement", "required property missing")));
  EXPECT_THAT(V(J(statement).Erase("definition_type").Erase("definition")).problems,
              Contains(IsProblem("definition_type", "required property missing")));
  // A marking-definition has no modified; it does not become the version.
  EXPECT_FALSE(V(J(statement).Set("modified", "\"2020-01-01T00:00:00Z\"")).info.modified.has_value());

  J tlp1{{"type", "\"marking-definition\""}, {"id", Q(kTlpGreen1)}, {"created", "\"2017-01-20T00:00:00.000Z\""},
         {"definition_type", "\"tlp\""}, {"definition", "{\"tlp\":\"green\"}"}};
  Validated v = V(tlp1);
  ASSERT_TRUE(v.ok()) << Dump(v);
  EXPECT_EQ(v.info.spec_version, SpecVersion::k20);
  EXPECT_THAT(V(J(tlp1).Set("definition", "{\"tlp\":\"red\"}")).problems, Contains(OnProperty("definition")));
  EXPECT_THAT(V(J(tlp1).Set("definition", "{\"tlp\":\"purple\"}")).problems,
              Contains(IsProblem("definition.tlp", "must be one of")));
  EXPECT_THAT(V(J(tlp1).Erase("definition")).problems, Contains(IsProblem("definition", "required property missing")));

  // TLP 2.0: an extension, no definition_type.
  J tlp2{{"type", "\"marking-definition\""}, {"spec_version", "\"2.1\""}, {"id", Q(kTlpAmberStrict2)},
         {"created", "\"2022-10-01T00:00:00.000Z\""}, {"name", "\"TLP:AMBER+STRICT\""},
         {"extensions", "{\"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\":"
                        "{\"extension_type\":\"property-extension\",\"tlp_2_0\":\"amber+strict\"}}"}};
  EXPECT_TRUE(V(tlp2).ok()) << Dump(V(tlp2));
  EXPECT_THAT(V(J(tlp2).Erase("created")).problems, Contains(IsProblem("created", "required property missing")));
}

J MinimalSdo(const std::string& type) {
  J j = Sdo(type);
  if (type == "grouping") return j.Set("context", "\"unspecified\"").Set("object_refs", "[\"" + std::string(kMalwareId) + "\"]");
  if (type == "indicator") return Indicator().Erase("name").Erase("indicator_types");
  if (type == "location") return j.Set("region", "\"europe\"");
  if (type == "malware") return j.Set("is_family", "false");
  if (type == "malware-analysis") return j.Set("product", "\"av\"").Set("result", "\"malicious\"");
  if (type == "note") return j.Set("content", "\"text\"").Set("object_refs", "[\"" + std::string(kMalwareId) + "\"]");
  if (type == "observed-data")
    return j.Set("first_observed", kTs).Set("last_observed", kTs).Set("number_observed", "1").Set("object_refs", "[\"" + std::string(kIpv4Id) + "\"]");
  if (type == "opinion") return j.Set("opinion", "\"agree\"").Set("object_refs", "[\"" + std::string(kMalwareId) + "\"]");
  if (type == "report") return j.Set("name", "\"r\"").Set("published", kTs).Set("object_refs", "[\"" + std::string(kMalwareId) + "\"]");
  if (type == "relationship")
    return j.Set("relationship_type", "\"uses\"").Set("source_ref", Q(kMalwareId)).Set("target_ref", Q(kIdentityId));
  if (type == "sighting") return j.Set("sighting_of_ref", Q(kMalwareId));
  if (type == "language-content")
    return j.Set("object_ref", Q(kMalwareId)).Set("contents", "{\"de\":{\"name\":\"Bösewicht\"}}");
  if (type == "extension-definition")
    return j.Set("created_by_ref", Q(kIdentityId)).Set("name", "\"ext\"").Set("schema", "\"https://example.com/s.json\"")
        .Set("version", "\"1.0\"").Set("extension_types", "[\"property-extension\"]");
  return j.Set("name", "\"n\"");  // the SDOs whose one own required property is name
}

J MinimalSco(const std::string& type) {
  J j = Sco(type);
  if (type == "artifact") return j.Set("payload_bin", "\"aGVsbG8=\"");
  if (type == "autonomous-system") return j.Set("number", "15139");
  if (type == "directory") return j.Set("path", "\"C:\\\\Windows\"");
  if (type == "email-message") return j.Set("is_multipart", "false");
  if (type == "file") return j.Set("name", "\"a.exe\"");
  if (type == "mutex" || type == "software") return j.Set("name", "\"n\"");
  if (type == "network-traffic") return j.Set("protocols", "[\"tcp\"]").Set("src_ref", Q(kIpv4Id));
  if (type == "process") return j.Set("pid", "1");
  if (type == "user-account") return j.Set("user_id", "\"1001\"");
  if (type == "windows-registry-key") return j.Set("key", "\"HKEY_LOCAL_MACHINE\\\\System\"");
  if (type == "x509-certificate") return j.Set("serial_number", "\"36:f7:d4:32\"");
  return j.Set("value", "\"v\"");
}

// Every defined type: the minimal object is valid, and each property it has
// is required (problem on that property when removed) or not (still valid).
TEST(ValidateObject, RequiredPropertiesOfEveryType) {
  struct Case {
    std::string type;
    std::vector<std::string> required;  // besides id (and created/modified of SDOs/SROs)
  };
  std::vector<Case> cases = {
      {"attack-pattern", {"name"}}, {"campaign", {"name"}}, {"course-of-action", {"name"}},
      {"grouping", {"context", "object_refs"}}, {"identity", {"name"}}, {"incident", {"name"}},
      {"indicator", {"pattern", "pattern_type", "valid_from"}}, {"infrastructure", {"name"}},
      {"intrusion-set", {"name"}}, {"location", {"region"}}, {"malware", {"is_family"}},
      {"malware-analysis", {"product", "result"}}, {"note", {"content", "object_refs"}},
      {"observed-data", {"first_observed", "last_observed", "number_observed", "object_refs"}},
      {"opinion", {"opinion", "object_refs"}}, {"report", {"name", "published", "object_refs"}},
      {"threat-actor", {"name"}}, {"tool", {"name"}}, {"vulnerability", {"name"}},
      {"relationship", {"relationship_type", "source_ref", "target_ref"}}, {"sighting", {"sighting_of_ref"}},
      {"language-content", {"object_ref", "contents"}},
      {"extension-definition", {"created_by_ref", "name", "schema", "version", "extension_types"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.type);
    J base = MinimalSdo(c.type);
    Validated v = V(base);
    ASSERT_TRUE(v.ok()) << Dump(v);
    std::vector<std::string> required = c.required;
    required.insert(required.end(), {"id", "created", "modified"});
    for (const auto& [key, value] : base.items()) {
      if (key == "type" || key == "spec_version") continue;
      SCOPED_TRACE(key);
      Validated w = V(J(base).Erase(key));
      if (std::find(required.begin(), required.end(), key) != required.end()) {
        EXPECT_THAT(w.problems, Contains(IsProblem(key, "required property missing"))) << Dump(w);
      } else {
        EXPECT_TRUE(w.ok()) << Dump(w);
      }
    }
  }
  std::vector<Case> scos = {
      {"artifact", {}}, {"autonomous-system", {"number"}}, {"directory", {"path"}},
      {"domain-name", {"value"}}, {"email-addr", {"value"}}, {"email-message", {"is_multipart"}},
      {"file", {"name"}}, {"ipv4-addr", {"value"}}, {"ipv6-addr", {"value"}}, {"mac-addr", {"value"}},
      {"mutex", {"name"}}, {"network-traffic", {"protocols", "src_ref"}}, {"process", {""}},
      {"software", {"name"}}, {"url", {"value"}}, {"user-account", {""}},
      {"windows-registry-key", {""}}, {"x509-certificate", {""}},
  };
  for (const Case& c : scos) {
    SCOPED_TRACE(c.type);
    J base = MinimalSco(c.type);
    Validated v = V(base);
    ASSERT_TRUE(v.ok()) << Dump(v);
    EXPECT_TRUE(V(J(base).Erase("spec_version")).ok());
    EXPECT_THAT(V(J(base).Erase("id")).problems, Contains(IsProblem("id", "required property missing")));
    for (const auto& [key, value] : base.items()) {
      if (key == "type" || key == "spec_version" || key == "id") continue;
      SCOPED_TRACE(key);
      Validated w = V(J(base).Erase(key));
      if (c.required.empty()) {
        EXPECT_TRUE(w.ok()) << Dump(w);
      } else if (c.required[0].empty()) {  // "at least one property"
        EXPECT_THAT(w.problems, Contains(IsProblem("", "at least one property"))) << Dump(w);
      } else {
        EXPECT_THAT(w.problems, Contains(IsProblem(key, "required property missing"))) << Dump(w);
      }
    }
  }
}

TEST(ValidateObject, Stix20RequiredProperties) {
  auto v20 = [](J j) { return V(j.Erase("spec_version")); };
  EXPECT_THAT(v20(MinimalSdo("identity")).problems, Contains(IsProblem("identity_class", "required property missing")));
  EXPECT_THAT(v20(MinimalSdo("tool")).problems, Contains(IsProblem("labels", "required property missing")));
  EXPECT_THAT(v20(MinimalSdo("threat-actor")).problems, Contains(IsProblem("labels", "required property missing")));
  J malware = Sdo("malware").Set("labels", "[\"trojan\"]");
  EXPECT_THAT(v20(malware).problems, Contains(IsProblem("name", "required property missing")));
  J od = Sdo("observed-data").Set("first_observed", kTs).Set("last_observed", kTs).Set("number_observed", "1")
             .Set("objects", R"({"0":{"type":"file","name":"a.exe"}})");
  EXPECT_TRUE(v20(od).ok()) << Dump(v20(od));
  EXPECT_THAT(v20(J(od).Erase("objects")).problems, Contains(IsProblem("objects", "required property missing")));
  EXPECT_THAT(v20(J(od).Set("objects", R"({"0":{"name":"a.exe"}})")).problems,
              Contains(IsProblem("objects.0.type", "required property missing")));
  EXPECT_THAT(v20(J(od).Set("number_observed", "0")).problems, Contains(OnProperty("number_observed")));
}

TEST(ValidateObject, TypeSpecificRules) {
  EXPECT_THAT(V(MinimalSdo("location").Erase("region").Set("latitude", "48.8")).problems,
              Contains(IsProblem("longitude", "together")));
  EXPECT_TRUE(V(MinimalSdo("location").Erase("region").Set("latitude", "48.8").Set("longitude", "2")).ok());
  EXPECT_THAT(V(MinimalSdo("location").Set("latitude", "91").Set("longitude", "2")).problems,
              Contains(IsProblem("latitude", "between -90 and 90")));
  EXPECT_THAT(V(MinimalSdo("malware").Set("is_family", "true")).problems,
              Contains(IsProblem("name", "required property missing")));
  EXPECT_THAT(V(MinimalSdo("opinion").Set("opinion", "\"meh\"")).problems, Contains(IsProblem("opinion", "must be one of")));
  EXPECT_THAT(V(MinimalSdo("observed-data").Set("objects", R"({"0":{"type":"file"}})")).problems,
              Contains(IsProblem("objects", "not be given together")));
  EXPECT_THAT(V(MinimalSdo("observed-data").Set("object_refs", "[\"" + std::string(kMalwareId) + "\"]")).problems,
              Contains(IsProblem("object_refs[0]", "must reference a SCO or SRO")));
  EXPECT_THAT(V(MinimalSdo("extension-definition").Set("extension_types", "[\"new-widget\"]")).problems,
              Contains(IsProblem("extension_types[0]", "must be one of")));
  EXPECT_THAT(V(MinimalSco("artifact").Set("url", "\"https://x\"")).problems, Contains(IsProblem("url", "together")));
  EXPECT_THAT(V(MinimalSco("artifact").Erase("payload_bin").Set("url", "\"https://x\"")).problems,
              Contains(IsProblem("hashes", "required property missing")));
  EXPECT_THAT(V(MinimalSco("domain-name").Set("resolves_to_refs", "[\"url--ff26c055-6336-5bc5-b98d-13d6226742dd\"]")).problems,
              Contains(IsProblem("resolves_to_refs[0]", "must reference a ipv4-addr or ipv6-addr or domain-name")));
  EXPECT_THAT(V(MinimalSco("network-traffic").Set("dst_port", "70000")).problems, Contains(OnProperty("dst_port")));
  EXPECT_THAT(V(MinimalSco("network-traffic").Set("is_active", "true").Set("end", kTs)).problems, Contains(OnProperty("end")));
  EXPECT_THAT(V(MinimalSco("email-message").Set("body_multipart", R"([{"body":"x"}])")).problems,
              Contains(IsProblem("body_multipart", "is_multipart is false")));
  EXPECT_THAT(V(MinimalSco("email-message").Set("is_multipart", "true").Set("body_multipart", R"([{"content_type":"x"}])")).problems,
              Contains(IsProblem("body_multipart[0]", "exactly one of body or body_raw_ref")));
  EXPECT_THAT(V(MinimalSco("file").Set("hashes", R"({"SHA-256": 5})")).problems, Contains(IsProblem("hashes.SHA-256", "must be a string")));
  EXPECT_THAT(V(MinimalSco("file").Set("size", "-1")).problems, Contains(IsProblem("size", ">= 0")));
  EXPECT_THAT(V(MinimalSdo("attack-pattern").Set("kill_chain_phases", R"([{"kill_chain_name":"mitre-attack"}])")).problems,
              Contains(IsProblem("kill_chain_phases[0].phase_name", "required property missing")));
}

TEST(ValidateObject, ReportsEveryProblem) {
  Validated v = V(Indicator()
                      .Erase("valid_from")
                      .Set("created", "\"yesterday\"")
                      .Set("confidence", "200")
                      .Set("created_by_ref", Q(kMalwareId))
                      .Set("labels", "[1]"));
  EXPECT_GE(v.problems.size(), 5u) << Dump(v);
  for (const Problem& p : v.problems) EXPECT_EQ(p.object_id, "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f");
}

}  // namespace
}  // namespace cordon::stix
