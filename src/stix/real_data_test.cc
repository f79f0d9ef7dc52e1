// Every object of the shared real STIX corpora must validate.
#include <simdjson.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "stix/bundle.h"
#include "stix/object.h"
#include "testutil/testutil.h"

namespace cordon::stix {
namespace {

namespace fs = std::filesystem;

// Objects of one file, with the DefaultVersion a receiver would use.
struct Corpus {
  std::vector<std::string> texts;  // owns array elements / lines
  std::string whole;               // owns the file text for bundle views
  std::vector<std::string_view> objects;
  DefaultVersion default_version = DefaultVersion::kInfer;
};

// A bundle (split with SplitObjects), a JSON array of objects, a single
// object, or (".jsonl") one object per line.
void Load(const fs::path& path, Corpus* c) {
  std::string text = testutil::ReadFile(path);
  std::string name = path.filename().string();
  if (name.ends_with(".jsonl") || name.ends_with(".jsonl.zst")) {
    size_t pos = 0;
    std::vector<std::string> lines;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) nl = text.size();
      if (nl > pos) c->texts.push_back(text.substr(pos, nl - pos));
      pos = nl + 1;
    }
    for (const std::string& t : c->texts) c->objects.push_back(t);
    return;
  }
  size_t first = text.find_first_not_of(" \t\r\n");
  ASSERT_NE(first, std::string::npos) << path;
  if (text[first] == '[') {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    ASSERT_EQ(parser.parse(text).get(root), simdjson::SUCCESS) << path;
    simdjson::dom::array a;
    ASSERT_EQ(root.get_array().get(a), simdjson::SUCCESS) << path;
    for (simdjson::dom::element e : a) c->texts.push_back(simdjson::to_string(e));
    for (const std::string& t : c->texts) c->objects.push_back(t);
    return;
  }
  c->whole = std::move(text);
  if (c->whole.find("\"objects\"") != std::string::npos && c->whole.find("\"bundle\"") != std::string::npos) {
    Result<ObjectList> list = SplitObjects(c->whole);
    ASSERT_TRUE(list.ok()) << path << ": " << list.status();
    if (list->spec_version == "2.0") c->default_version = DefaultVersion::k20;
    c->objects = list->objects;
  } else {
    c->objects.push_back(c->whole);
  }
}

std::vector<fs::path> Files(const std::string& relative) {
  fs::path p = testutil::SharedData(relative);
  std::vector<fs::path> out;
  if (fs::is_directory(p)) {
    for (const auto& e : fs::recursive_directory_iterator(p)) {
      if (e.is_regular_file()) out.push_back(e.path());
    }
  } else {
    out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Tally {
  size_t objects = 0;
  double seconds = 0;
};
Tally& Total() {
  static Tally t;
  return t;
}

// A problem real data is known to have, which the specification makes invalid.
struct KnownInvalid {
  std::string_view property;
  std::string_view reason;
  size_t expected;  // how many objects have it (and no other problem)
};

// Validates every object of every file under `relative`; returns the count.
// Objects whose every problem is `known` are counted, not failed.
size_t ValidateAll(const std::string& relative, const KnownInvalid* known = nullptr) {
  size_t count = 0, failed = 0, known_count = 0;
  double seconds = 0;
  for (const fs::path& path : Files(relative)) {
    std::string name = path.filename().string();
    if (!name.ends_with(".json") && !name.ends_with(".zst")) continue;
    Corpus c;
    Load(path, &c);
    if (::testing::Test::HasFatalFailure()) return count;
    auto start = std::chrono::steady_clock::now();
    std::vector<Validated> results;
    results.reserve(c.objects.size());
    for (std::string_view o : c.objects) results.push_back(ValidateObject(o, c.default_version));
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (const Validated& v : results) {
      ++count;
      if (v.ok()) continue;
      if (known != nullptr && std::all_of(v.problems.begin(), v.problems.end(), [&](const Problem& p) {
            return p.property == known->property && p.reason == known->reason;
          })) {
        ++known_count;
        continue;
      }
      if (++failed <= 10) {
        std::string msg;
        for (size_t i = 0; i < v.problems.size() && i < 5; ++i) msg += "\n  " + v.problems[i].ToString();
        ADD_FAILURE() << path.lexically_relative(testutil::SharedData()) << ":" << msg;
      }
    }
  }
  EXPECT_EQ(failed, 0u) << relative;
  if (known != nullptr) {
    EXPECT_EQ(known_count, known->expected) << relative;
  }
  EXPECT_GT(count, 0u) << relative;
  Total().objects += count;
  Total().seconds += seconds;
  std::printf("[ stix ] %-60s %7zu objects, %8.0f objects/s\n", relative.c_str(), count,
              seconds > 0 ? count / seconds : 0.0);
  return count;
}

TEST(RealData, IcsAttack21Bundle) { EXPECT_GT(ValidateAll("stix/mitre-attack/ics-attack-18.1.json"), 1000u); }

TEST(RealData, Capec21) { EXPECT_GT(ValidateAll("stix/mitre-capec/capec-2.1.objects.jsonl.zst"), 2000u); }

TEST(RealData, EnterpriseAttack20) {
  EXPECT_GT(ValidateAll("stix/mitre-attack/enterprise-attack-18.1.stix20.objects.jsonl.zst"), 20000u);
}

TEST(RealData, OasisExamples) { ValidateAll("stix/oasis-examples"); }

TEST(RealData, PythonStix2ScoExamples) { ValidateAll("stix/python-stix2-sco-examples-bundle.json"); }

TEST(RealData, PythonStix2V21Filesystem) { ValidateAll("stix/python-stix2-v21-filesystem"); }

TEST(RealData, Unit42Playbooks20) {
  // Decision: 31 identity objects of these playbooks (11 files) carry
  // "identity_class": ["unknown"], a list. STIX 2.0 section 3.5 (and 2.1
  // section 4.5) defines identity_class as a string (open vocabulary
  // identity-class-ov), required in 2.0: a list is not an open-vocabulary
  // value, so these objects are rejected; everything else must pass.
  static constexpr KnownInvalid kIdentityClassList{"identity_class", "must be a string", 31};
  ValidateAll("stix/unit42-playbooks", &kIdentityClassList);
}

TEST(RealData, ZzThroughput) {
  const Tally& t = Total();
  std::printf("[ stix ] all real data: %zu objects in %.3f s = %.0f objects/s\n", t.objects, t.seconds,
              t.seconds > 0 ? t.objects / t.seconds : 0.0);
}

}  // namespace
}  // namespace cordon::stix
