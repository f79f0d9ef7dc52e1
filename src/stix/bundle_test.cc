#include "stix/bundle.h"

#include <simdjson.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "testutil/testutil.h"

namespace cordon::stix {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

bool Inside(std::string_view part, const std::string& whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

TEST(SplitObjects, Bundle) {
  std::string json = R"({"type": "bundle", "id": "bundle--1", "spec_version": "2.0",
    "objects": [ {"type":"a","x":[1,{"y":"}]"}]} ,
      {"type":"b", "s":"quote \" and brace }"}
    ]})";
  Result<ObjectList> r = SplitObjects(json);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->type, "bundle");
  EXPECT_EQ(r->spec_version, "2.0");
  EXPECT_THAT(r->objects, ElementsAre(R"({"type":"a","x":[1,{"y":"}]"}]})",
                                      R"({"type":"b", "s":"quote \" and brace }"})"));
  for (std::string_view o : r->objects) EXPECT_TRUE(Inside(o, json));
}

TEST(SplitObjects, ObjectsBeforeTypeAndTrailingKeys) {
  std::string json = "{\"objects\":[{}],\"more\":false,\"next\":\"abc\",\"type\":\"bundle\"}";
  Result<ObjectList> r = SplitObjects(json);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->objects, ElementsAre("{}"));
  EXPECT_EQ(r->type, "bundle");
  EXPECT_EQ(r->spec_version, "");
}

TEST(SplitObjects, EnvelopeAndEmpty) {
  Result<ObjectList> r = SplitObjects(R"({"more": true, "next": "2"})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->objects, IsEmpty());
  EXPECT_EQ(r->type, "");
  r = SplitObjects(R"( {"objects": []} )");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->objects, IsEmpty());
  r = SplitObjects("{}");
  ASSERT_TRUE(r.ok()) << r.status();
}

TEST(SplitObjects, ResultViewsPointIntoTheCallersBuffer) {
  std::string json = "{\"objects\":[{\"a\":1},\n\t{\"b\":2}\n]}";
  Result<ObjectList> r = SplitObjects(json);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->objects.size(), 2u);
  EXPECT_EQ(r->objects[0].data(), json.data() + json.find("{\"a\""));
  EXPECT_EQ(r->objects[1].data(), json.data() + json.find("{\"b\""));
  EXPECT_EQ(r->objects[1], "{\"b\":2}");
}

TEST(SplitObjects, Errors) {
  auto err = [](std::string_view json) {
    Result<ObjectList> r = SplitObjects(json);
    EXPECT_FALSE(r.ok()) << json;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(r.status().message());
  };
  EXPECT_THAT(err(""), HasSubstr("not JSON"));
  EXPECT_THAT(err("{\"objects\": [{\"a\": 1}"), HasSubstr("not JSON"));
  EXPECT_THAT(err("{\"objects\": [{\"a\": tru}]}"), HasSubstr("not JSON"));
  EXPECT_THAT(err("{\"objects\": [{\"a\": \"\\q\"}]}"), HasSubstr("not JSON"));
  EXPECT_THAT(err("{\"objects\": [{\"a\": 1}]} x"), HasSubstr("not JSON"));
  EXPECT_THAT(err("[{\"type\":\"indicator\"}]"), HasSubstr("top level must be a JSON object"));
  EXPECT_THAT(err("\"bundle\""), HasSubstr("top level must be a JSON object"));
  EXPECT_THAT(err("{\"objects\": {\"a\": 1}}"), HasSubstr("\"objects\" must be an array"));
  EXPECT_THAT(err("{\"objects\": [{}, {}, 3]}"), HasSubstr("\"objects\"[2] must be a JSON object"));
  EXPECT_THAT(err("{\"type\": 5, \"objects\": []}"), HasSubstr("\"type\" must be a string"));
}

TEST(SplitObjects, NotJsonSaysWhatAndWhere) {
  auto msg = [](std::string_view json) { return std::string(SplitObjects(json).status().message()); };
  EXPECT_THAT(msg("{\"objects\": [{\"a\": nul}]}"), HasSubstr("atom starting with the letter 'n' (near byte 19)"));
  EXPECT_THAT(msg("{\"objects\": [{\"a\": tru}]}"), HasSubstr("(near byte 19)"));
  EXPECT_THAT(msg("{\"objects\": [{\"a\": 01}]}"), HasSubstr("number (near byte 19)"));
  EXPECT_THAT(msg("{\"objects\": [{\"a\" 1}]}"), HasSubstr("near byte 18"));
  EXPECT_THAT(msg("{\"objects\": [{\"a\": 1}"), HasSubstr("ends inside an object or array"));
  EXPECT_THAT(msg("{\"objects\": [{\"a\": 1}]} x"), HasSubstr("followed by other text"));
  EXPECT_THAT(msg("{\"objects\": []} {}"), HasSubstr("trailing content"));
  EXPECT_THAT(msg("{\"objects\": [{\"a\": \"x}]}"), HasSubstr("string is opened, but never closed"));
}

// The split of real bundles matches a DOM parse element for element.
TEST(SplitObjects, RealBundles) {
  for (const char* rel : {"stix/mitre-attack/ics-attack-18.1.json", "stix/oasis-examples/threat-reports/poisonivy.json",
                          "stix/unit42-playbooks/emotet.json.zst"}) {
    SCOPED_TRACE(rel);
    std::string json = testutil::ReadFile(testutil::SharedData(rel));
    Result<ObjectList> r = SplitObjects(json);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->type, "bundle");
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS);
    simdjson::dom::array objects;
    ASSERT_EQ(root["objects"].get_array().get(objects), simdjson::SUCCESS);
    ASSERT_EQ(r->objects.size(), objects.size());
    size_t i = 0;
    simdjson::dom::parser one;
    for (simdjson::dom::element e : objects) {
      simdjson::dom::element got;
      ASSERT_EQ(one.parse(std::string(r->objects[i])).get(got), simdjson::SUCCESS) << i;
      EXPECT_EQ(simdjson::to_string(got), simdjson::to_string(e)) << i;
      EXPECT_TRUE(Inside(r->objects[i], json));
      ++i;
    }
  }
}

}  // namespace
}  // namespace cordon::stix
