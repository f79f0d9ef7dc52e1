#include "match/loader.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "simdjson.h"
#include "stix/bundle.h"

namespace cordon::match {
namespace {

std::string_view StringField(simdjson::dom::object obj, const char* key) {
  std::string_view v;
  if (obj[key].get_string().get(v) != simdjson::SUCCESS) return {};
  return v;
}

}  // namespace

Status IndicatorLoader::AddJson(std::string_view json, std::string_view source) {
  size_t first = json.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && json[first] == '[') {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    simdjson::dom::array arr;
    auto err = parser.parse(padded).get_array().get(arr);
    if (err) return absl::InvalidArgumentError(absl::StrFormat("%s: %s", source, simdjson::error_message(err)));
    for (simdjson::dom::element e : arr) {
      if (!e.is_object())
        return absl::InvalidArgumentError(absl::StrFormat("%s: an element of the list is not an object", source));
      AddObject(simdjson::minify(e), source);
    }
    return absl::OkStatus();
  }
  auto list = stix::SplitObjects(json);
  if (!list.ok()) return absl::InvalidArgumentError(absl::StrFormat("%s: %s", source, list.status().message()));
  if (list->type != "bundle" && list->objects.empty() && !list->type.empty()) {
    AddObject(json, source);  // a single object
    return absl::OkStatus();
  }
  for (std::string_view obj : list->objects) AddObject(obj, source);
  return absl::OkStatus();
}

Status IndicatorLoader::AddFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrFormat("cannot read indicators file %s", path));
  std::stringstream buf;
  buf << in.rdbuf();
  return AddJson(buf.str(), path);
}

Status IndicatorLoader::AddCollection(store::Store& store, const std::string& collection) {
  store::ObjectQuery q;
  q.collection = collection;
  q.types = {"indicator"};
  q.version.last = true;
  q.limit = 1000;
  std::string source = "collection " + collection;
  while (true) {
    CORDON_ASSIGN_OR_RETURN(store::Page page, store.QueryObjects(q));
    for (const store::StoredObject& o : page.items) AddObject(o.bytes, source);
    if (!page.more) break;
    q.after_cursor = page.next_cursor;
  }
  return absl::OkStatus();
}

void IndicatorLoader::AddObject(std::string_view json, std::string_view source) {
  ++report_.objects;
  simdjson::padded_string padded(json);
  simdjson::dom::object obj;
  auto problem = [&](std::string id, std::string reason) {
    report_.problems.push_back({std::string(source), std::move(id), std::move(reason)});
  };
  if (parser_.parse(padded).get_object().get(obj) != simdjson::SUCCESS) {
    problem("", "object is not valid JSON");
    return;
  }
  if (StringField(obj, "type") != "indicator") return;
  ++report_.indicators;
  std::string id(StringField(obj, "id"));
  std::string_view pattern_type = StringField(obj, "pattern_type");
  std::string_view spec_version = StringField(obj, "spec_version");
  if (!pattern_type.empty() && pattern_type != "stix") {
    ++report_.not_stix;
    return;
  }
  IndicatorSpec spec;
  spec.id = id;
  spec.pattern = std::string(StringField(obj, "pattern"));
  if (spec.pattern.empty()) {
    problem(id, "no pattern");
    return;
  }
  spec.version = spec_version == "2.1" ? pattern::Version::k21 : pattern::Version::k20;
  std::string_view valid_from = StringField(obj, "valid_from");
  if (valid_from.empty()) {
    problem(id, "no valid_from");
    return;
  }
  auto from = ParseTimestamp(valid_from);
  if (!from.ok()) {
    problem(id, absl::StrFormat("valid_from: %s", from.status().message()));
    return;
  }
  spec.valid_from = *from;
  std::string_view valid_until = StringField(obj, "valid_until");
  if (!valid_until.empty()) {
    auto until = ParseTimestamp(valid_until);
    if (!until.ok()) {
      problem(id, absl::StrFormat("valid_until: %s", until.status().message()));
      return;
    }
    spec.valid_until = *until;
  }
  // The sightings of this indicator are marked with its strictest TLP,
  // granular markings included (federation::Agreement reads them the same way).
  simdjson::dom::array markings;
  if (obj["object_marking_refs"].get_array().get(markings) == simdjson::SUCCESS) {
    for (simdjson::dom::element m : markings) {
      std::string_view ref;
      if (m.get_string().get(ref) == simdjson::SUCCESS) spec.tlp = std::max(spec.tlp, stix::TlpOfMarking(ref));
    }
  }
  if (obj["granular_markings"].get_array().get(markings) == simdjson::SUCCESS) {
    for (simdjson::dom::element g : markings) {
      std::string_view ref;
      if (g["marking_ref"].get_string().get(ref) == simdjson::SUCCESS) spec.tlp = std::max(spec.tlp, stix::TlpOfMarking(ref));
    }
  }
  bool revoked = false;
  if (obj["revoked"].get_bool().get(revoked) == simdjson::SUCCESS) spec.revoked = revoked;
  std::string_view version_text = StringField(obj, "modified");
  if (version_text.empty()) version_text = StringField(obj, "created");
  int64_t version_ns = 0;
  if (auto v = ParseTimestamp(version_text); v.ok()) version_ns = v->ns;

  auto [it, inserted] = by_id_.try_emplace(id, entries_.size());
  if (inserted) {
    entries_.push_back({std::move(spec), version_ns});
    return;
  }
  ++report_.superseded;
  Entry& old = entries_[it->second];
  if (version_ns > old.version_ns) old = Entry{std::move(spec), version_ns};
}

std::vector<IndicatorSpec> IndicatorLoader::Take() {
  std::vector<IndicatorSpec> out;
  out.reserve(entries_.size());
  for (Entry& e : entries_) out.push_back(std::move(e.spec));
  entries_.clear();
  by_id_.clear();
  return out;
}

}  // namespace cordon::match
