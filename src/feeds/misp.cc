#include "feeds/misp.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/strings.h"
#include "simdjson.h"

namespace cordon::feeds {
namespace {

namespace dom = simdjson::dom;
using stix::Tlp;

Status Invalid(const std::string& m) { return absl::InvalidArgumentError(m); }

std::string_view Str(dom::element e, const char* key) {
  std::string_view s;
  if (e[key].get_string().get(s)) return {};
  return s;
}

// MISP writes numbers and booleans as JSON numbers, booleans or strings.
std::optional<int64_t> Int(dom::element e, const char* key) {
  dom::element v;
  if (e[key].get(v)) return std::nullopt;
  int64_t i;
  if (!v.get_int64().get(i)) return i;
  std::string_view s;
  if (!v.get_string().get(s) && !s.empty()) {
    int64_t n = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return std::nullopt;
      n = n * 10 + (c - '0');
    }
    return n;
  }
  return std::nullopt;
}

bool Bool(dom::element e, const char* key) {
  dom::element v;
  if (e[key].get(v)) return false;
  bool b;
  if (!v.get_bool().get(b)) return b;
  auto i = Int(e, key);
  return i && *i != 0;
}

struct Tags {
  std::vector<std::string> labels;
  Tlp tlp = Tlp::kNone;
};

void ReadTags(dom::element holder, Tags& out) {
  dom::array tags;
  if (holder["Tag"].get_array().get(tags)) return;
  for (dom::element t : tags) {
    std::string_view name = Str(t, "name");
    if (name.empty()) continue;
    Tlp tlp = TlpOfTag(name);
    if (tlp != Tlp::kNone) {
      out.tlp = std::max(out.tlp, tlp);
    } else {
      out.labels.emplace_back(name);
    }
  }
}

class EventReader {
 public:
  EventReader(const MispOptions& o, Parsed& out) : options_(o), out_(out) {}

  void Event(dom::element ev) {
    event_uuid_ = std::string(Str(ev, "uuid"));
    event_distribution_ = Int(ev, "distribution").value_or(5);
    event_tags_ = Tags{};
    ReadTags(ev, event_tags_);
    dom::array attrs;
    if (!ev["Attribute"].get_array().get(attrs)) {
      for (dom::element a : attrs) Attribute(a);
    }
    dom::array objects;
    if (!ev["Object"].get_array().get(objects)) {
      for (dom::element o : objects) {
        if (Bool(o, "deleted")) continue;
        dom::array oattrs;
        if (o["Attribute"].get_array().get(oattrs)) continue;
        for (dom::element a : oattrs) Attribute(a);
      }
    }
  }

 private:
  void Attribute(dom::element a) {
    std::string uuid(Str(a, "uuid"));
    std::string where = "event " + (event_uuid_.empty() ? "(no uuid)" : event_uuid_) + " attribute " +
                        (uuid.empty() ? "(no uuid)" : uuid);
    std::string_view type = Str(a, "type");
    std::string_view value = Str(a, "value");
    if (Bool(a, "deleted")) {
      out_.skipped.push_back({where, std::string(value), "deleted"});
      return;
    }
    if (!Bool(a, "to_ids")) {
      out_.skipped.push_back({where, std::string(value), "to_ids is false"});
      return;
    }
    int64_t dist = Int(a, "distribution").value_or(5);
    if (dist == 5) dist = event_distribution_;
    if ((dist == 0 || dist == 4) && !options_.include_restricted) {
      out_.skipped.push_back({where, std::string(value),
                              dist == 0 ? "distribution 0 (your organisation only)"
                                        : "distribution 4 (sharing group)"});
      return;
    }
    if (type.empty()) {
      out_.rejected.push_back({where, std::string(value), "attribute has no type"});
      return;
    }
    auto c = FromTyped(type, value);
    if (!c.ok()) {
      out_.rejected.push_back({where, std::string(value),
                               "type '" + std::string(type) + "': " + std::string(c.status().message())});
      return;
    }
    Tags tags = event_tags_;
    ReadTags(a, tags);
    c->labels = std::move(tags.labels);
    c->tlp = tags.tlp;
    c->description = std::string(Str(a, "comment"));
    if (std::string_view fs = Str(a, "first_seen"); !fs.empty()) {
      // MISP writes microseconds and an offset ("2021-01-01T00:00:00.000000+00:00").
      std::string t(fs);
      if (t.ends_with("+00:00")) t = t.substr(0, t.size() - 6) + "Z";
      if (auto ts = ParseTimestamp(t); ts.ok()) c->first_seen = *ts;
    }
    c->where = std::move(where);
    out_.items.push_back(std::move(*c));
  }

  const MispOptions& options_;
  Parsed& out_;
  std::string event_uuid_;
  int64_t event_distribution_ = 5;
  Tags event_tags_;
};

Status ParseInto(std::string_view json, const MispOptions& options, Parsed& out, const std::string& what) {
  dom::parser parser;
  simdjson::padded_string padded(json);
  dom::element doc;
  if (auto err = parser.parse(padded).get(doc)) {
    return Invalid(what + "not a JSON document (" + simdjson::error_message(err) + ")");
  }
  EventReader reader(options, out);
  int events = 0;
  auto one = [&](dom::element wrapper) {
    dom::element ev;
    if (!wrapper["Event"].get(ev) && ev.is_object()) {
      reader.Event(ev);
      ++events;
    }
  };
  dom::array arr;
  if (!doc.get_array().get(arr)) {
    for (dom::element e : arr) one(e);
  } else if (!doc["response"].get_array().get(arr)) {
    for (dom::element e : arr) one(e);
  } else if (doc.is_object() && !doc["Event"].error()) {
    one(doc);
  } else if (doc.is_object() && (!doc["Attribute"].error() || !doc["info"].error())) {
    reader.Event(doc);
    ++events;
  }
  if (events == 0) return Invalid(what + "no MISP event in the document (expected {\"Event\": {...}})");
  return absl::OkStatus();
}

Result<std::string> ReadFile(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return absl::NotFoundError("cannot read '" + p.string() + "'");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

Tlp TlpOfTag(std::string_view tag) {
  std::string t = ToLower(Trim(tag));
  if (!t.starts_with("tlp:")) return Tlp::kNone;
  t = t.substr(4);
  if (t == "white" || t == "clear") return Tlp::kClear;
  if (t == "green") return Tlp::kGreen;
  if (t == "amber") return Tlp::kAmber;
  if (t == "amber+strict") return Tlp::kAmberStrict;
  if (t == "red") return Tlp::kRed;
  return Tlp::kNone;
}

Result<Parsed> ParseMispEvents(std::string_view json, const MispOptions& options) {
  Parsed out;
  CORDON_RETURN_IF_ERROR(ParseInto(json, options, out, ""));
  return out;
}

Result<Parsed> ParseMispFeed(const std::string& dir, const MispOptions& options) {
  namespace fs = std::filesystem;
  CORDON_ASSIGN_OR_RETURN(std::string manifest, ReadFile(fs::path(dir) / "manifest.json"));
  dom::parser parser;
  simdjson::padded_string padded(manifest);
  dom::object obj;
  if (auto err = parser.parse(padded).get(obj)) {
    return Invalid("manifest.json: not a JSON object (" + std::string(simdjson::error_message(err)) + ")");
  }
  std::vector<std::string> uuids;
  for (auto [key, value] : obj) uuids.emplace_back(key);
  std::sort(uuids.begin(), uuids.end());
  Parsed out;
  for (const auto& uuid : uuids) {
    if (uuid.find('/') != std::string::npos || uuid.find("..") != std::string::npos) {
      return Invalid("manifest.json: event key '" + uuid + "' is not a uuid");
    }
    std::string name = uuid + ".json";
    CORDON_ASSIGN_OR_RETURN(std::string text, ReadFile(fs::path(dir) / name));
    CORDON_RETURN_IF_ERROR(ParseInto(text, options, out, name + ": "));
  }
  return out;
}

}  // namespace cordon::feeds
