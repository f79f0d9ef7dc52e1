#include "federation/agreement.h"

#include <simdjson.h>

#include <algorithm>
#include <iostream>
#include <unordered_set>

#include "base/json_writer.h"
#include "base/strings.h"
#include "federation/signature.h"

namespace cordon::federation {
namespace {

namespace dom = simdjson::dom;

// One parser per thread; the bytes need simdjson's padding, hence the copy.
Result<dom::element> ParseObject(std::string_view json) {
  thread_local std::unique_ptr<dom::parser> parser;
  thread_local std::string buffer;
  if (!parser) parser = std::make_unique<dom::parser>();
  buffer.assign(json.data(), json.size());
  buffer.resize(json.size() + simdjson::SIMDJSON_PADDING);
  dom::element e;
  if (parser->parse(buffer.data(), json.size(), false).get(e) || !e.is_object()) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  return e;
}

// The strictest TLP among the object's markings, granular ones included: a
// TLP:RED pattern in a TLP:GREEN indicator makes the whole object RED here
// (serving it with that property cut out would be the finer rule).
Tlp MaxTlp(dom::element object) {
  Tlp max = Tlp::kNone;
  dom::array refs;
  if (!object["object_marking_refs"].get(refs)) {
    for (auto ref : refs) {
      std::string_view id;
      if (!ref.get(id)) max = std::max(max, stix::TlpOfMarking(id));
    }
  }
  dom::array granular;
  if (!object["granular_markings"].get(granular)) {
    for (auto g : granular) {
      std::string_view id;
      if (!g["marking_ref"].get(id)) max = std::max(max, stix::TlpOfMarking(id));
    }
  }
  return max;
}

// Redacted properties a valid object of its type must still have: kept,
// their text replaced by kRedacted (the partner's validator would refuse a
// note without content, a report without name).
constexpr std::string_view kRedacted = "[redacted]";
bool RequiredText(std::string_view type, std::string_view key) {
  if (key == "content") return type == "note";
  if (key != "name") return false;
  for (std::string_view t : {"attack-pattern", "campaign", "course-of-action", "identity", "infrastructure",
                             "intrusion-set", "malware", "mutex", "report", "software", "threat-actor", "tool",
                             "vulnerability"}) {
    if (type == t) return true;
  }
  return false;
}

// Whether `id` ("<type>--<uuid>") names an object of a dropped type. Such ids
// are withheld too: an SCO's id is a UUIDv5 of its value, so a partner could
// confirm a guessed e-mail address from the bare id.
bool DroppedRef(const std::unordered_set<std::string>& drop_types, std::string_view id) {
  const size_t sep = id.find("--");
  return sep != std::string_view::npos && drop_types.count(std::string(id.substr(0, sep)));
}

// An object that cannot be served without a reference to a dropped type: a
// relationship or sighting of such an object, or a report (note, opinion,
// grouping, observed data) that refers to nothing else.
bool RequiresDroppedRef(const std::unordered_set<std::string>& drop_types, const std::string& type,
                        dom::element object) {
  auto dropped = [&](const char* key) {
    std::string_view id;
    return !object[key].get(id) && DroppedRef(drop_types, id);
  };
  if (type == "relationship") return dropped("source_ref") || dropped("target_ref");
  if (type == "sighting") return dropped("sighting_of_ref");
  dom::object inline_objects;  // STIX 2.0 observed-data: "objects" must keep at least one
  if (type == "observed-data" && !object["objects"].get(inline_objects)) {
    bool any = false;
    for (auto [k, v] : inline_objects) {
      (void)k;
      std::string_view t;
      if (v["type"].get(t) || !drop_types.count(std::string(t))) return false;
      any = true;
    }
    return any;
  }
  dom::array refs;
  if (object["object_refs"].get(refs)) return false;
  bool any = false;
  for (dom::element r : refs) {
    std::string_view id;
    if (r.get(id) || !DroppedRef(drop_types, id)) return false;
    any = true;
  }
  return any;
}

bool HasAll(const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), "*") != v.end(); }
bool Has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

Tlp ObjectTlp(std::string_view object_json) {
  auto e = ParseObject(object_json);
  return e.ok() ? MaxTlp(*e) : Tlp::kNone;
}

Agreement::Agreement(Peer peer, std::unordered_set<std::string> other_partners)
    : peer_(std::move(peer)),
      allowed_types_(peer_.allowed_types.begin(), peer_.allowed_types.end()),
      drop_types_(peer_.personal_data.drop_types.begin(), peer_.personal_data.drop_types.end()),
      redact_(peer_.personal_data.redact_properties.begin(), peer_.personal_data.redact_properties.end()),
      other_partners_(std::move(other_partners)),
      read_all_(HasAll(peer_.read_collections)),
      write_all_(HasAll(peer_.write_collections)) {
  if (peer_.personal_data.redact_free_text) {
    for (const char* p : kFreeTextProperties) redact_.insert(p);
  }
}

bool Agreement::MayRead(const std::string& c) const { return read_all_ || Has(peer_.read_collections, c); }
bool Agreement::MayWrite(const std::string& c) const { return write_all_ || Has(peer_.write_collections, c); }

bool Agreement::Visible(std::string_view type, std::string_view bytes) const {
  std::string t(type);
  if (!allowed_types_.empty() && !allowed_types_.count(t)) return false;
  if (drop_types_.count(t)) return false;
  auto e = ParseObject(bytes);
  if (!e.ok()) return false;  // cannot tell its markings: not served
  Tlp tlp = MaxTlp(*e);
  if (tlp == Tlp::kNone) tlp = Tlp::kClear;
  if (tlp == Tlp::kRed || tlp > peer_.tlp_ceiling) return false;
  if (tlp >= Tlp::kAmber && !other_partners_.empty()) {
    std::string_view creator;
    if (!(*e)["created_by_ref"].get(creator) && other_partners_.count(std::string(creator))) return false;
  }
  return drop_types_.empty() || !RequiresDroppedRef(drop_types_, t, *e);
}

namespace {

// What a partner gets for one top-level property of an object of `type`: as
// stored, nothing, or `text`, by its personal-data rules.
enum class Edit { kKeep, kDrop, kReplace };

struct PersonalDataEdits {
  const std::unordered_set<std::string>& redact;
  const std::unordered_set<std::string>& drop_types;
  bool free_text;

  Edit Property(std::string_view type, dom::object obj, std::string_view key, dom::element value,
                std::string* text) const;
  Edit ObservedObjects(dom::element objects, std::string* text) const;
  // Appends `obj` as the partner gets it; true if any property was edited.
  // `drop_signature`: our signature extension goes too (a top-level object
  // that was edited: the signature would no longer verify).
  bool AppendObject(std::string_view type, dom::object obj, bool drop_signature, std::string* out) const;
};

Edit PersonalDataEdits::Property(std::string_view type, dom::object obj, std::string_view key, dom::element value,
                                 std::string* text) const {
  if (redact.count(std::string(key))) {
    if (!RequiredText(type, key)) return Edit::kDrop;
    AppendJsonString(*text, kRedacted);
    return Edit::kReplace;
  }
  if (key == "objects" && type == "observed-data" && value.is_object()) return ObservedObjects(value, text);
  if (!drop_types.empty() && key.ends_with("_ref")) {
    std::string_view id;
    if (!value.get(id) && DroppedRef(drop_types, id)) return Edit::kDrop;  // optional ones (Visible withholds the rest)
  }
  if (!drop_types.empty() && key.ends_with("_refs") && value.is_array()) {
    const dom::array ids = value.get_array().value_unsafe();
    bool any = false;
    for (dom::element e : ids) {
      std::string_view id;
      any = any || (!e.get(id) && DroppedRef(drop_types, id));
    }
    if (any) {
      *text = "[";
      for (dom::element e : ids) {
        std::string_view id;
        if (!e.get(id) && DroppedRef(drop_types, id)) continue;
        if (text->size() > 1) *text += ',';
        *text += simdjson::to_string(e);
      }
      *text += ']';
      // A list left empty goes (STIX forbids empty lists; the required ones,
      // object_refs, withhold the whole object: RequiresDroppedRef).
      return text->size() == 2 ? Edit::kDrop : Edit::kReplace;
    }
  }
  if (!free_text) return Edit::kKeep;
  // Custom properties can hold anything, personal data included.
  if (key.starts_with("x_")) return Edit::kDrop;
  if (key == "name" && type == "identity") {
    std::string_view cls;
    if (!obj["identity_class"].get(cls) && cls == "individual") {
      AppendJsonString(*text, kRedacted);  // required: kept, as a placeholder
      return Edit::kReplace;
    }
  }
  if (key == "external_references" && value.is_array()) {
    // Each reference's free-text description goes; its source, URL and ids stay.
    const dom::array refs = value.get_array().value_unsafe();
    bool any = false;
    for (dom::element ref : refs) {
      any = any || (ref.is_object() && !ref["description"].error());
    }
    if (!any) return Edit::kKeep;
    *text = "[";
    for (dom::element ref : refs) {
      if (text->size() > 1) *text += ',';
      if (!ref.is_object()) {
        *text += simdjson::to_string(ref);
        continue;
      }
      *text += '{';
      bool first = true;
      const dom::object fields = ref.get_object().value_unsafe();
      // A reference needs a description, url or external_id: one with only a
      // description keeps it, as a placeholder.
      const bool bare = ref["url"].error() && ref["external_id"].error();
      for (auto [k, v] : fields) {
        if (k == "description" && bare) {
          if (!first) *text += ',';
          first = false;
          *text += "\"description\":";
          AppendJsonString(*text, kRedacted);
          continue;
        }
        if (k == "description") continue;
        if (!first) *text += ',';
        first = false;
        AppendJsonString(*text, k);
        *text += ':';
        *text += simdjson::to_string(v);
      }
      *text += '}';
    }
    *text += ']';
    return Edit::kReplace;
  }
  return Edit::kKeep;
}

// STIX 2.0 observed-data carries its observables inline ("objects": {"0":
// {...}}): the dropped types go from there too.
Edit PersonalDataEdits::ObservedObjects(dom::element objects, std::string* text) const {
  // The dropped types go; the others are edited by the same rules as a
  // top-level object (free text, custom properties, references).
  const dom::object members = objects.get_object().value_unsafe();
  bool edited = false;
  *text = "{";
  for (auto [k, v] : members) {
    std::string_view t;
    if (!v["type"].get(t) && drop_types.count(std::string(t))) {
      edited = true;
      continue;
    }
    if (text->size() > 1) *text += ',';
    AppendJsonString(*text, k);
    *text += ':';
    if (!v.is_object()) {
      *text += simdjson::to_string(v);
      continue;
    }
    edited |= AppendObject(t, v.get_object().value_unsafe(), /*drop_signature=*/false, text);
  }
  *text += '}';
  return edited ? Edit::kReplace : Edit::kKeep;
}

bool PersonalDataEdits::AppendObject(std::string_view type, dom::object obj, bool drop_signature,
                                     std::string* out) const {
  bool edited = false;
  *out += '{';
  bool first = true;
  std::string text;
  for (auto [key, value] : obj) {
    text.clear();
    const Edit edit = Property(type, obj, key, value, &text);
    if (edit == Edit::kDrop) {
      edited = true;
      continue;
    }
    if (edit == Edit::kReplace) {
      edited = true;
    } else if (drop_signature && key == "extensions" && value.is_object()) {
      text = "{";
      const dom::object exts = value.get_object().value_unsafe();
      for (auto [k, v] : exts) {
        if (k == kSignatureExtension) continue;
        if (text.size() > 1) text += ',';
        AppendJsonString(text, k);
        text += ':';
        text += simdjson::to_string(v);
      }
      if (text.size() == 1) continue;  // nothing but our signature
      text += '}';
    } else {
      text = simdjson::to_string(value);
    }
    if (!first) *out += ',';
    first = false;
    AppendJsonString(*out, key);
    *out += ':';
    *out += text;
  }
  *out += '}';
  return edited;
}

}  // namespace

void Agreement::AppendServed(std::string_view bytes, std::string& out) const {
  if (redact_.empty() && drop_types_.empty()) {
    out += bytes;
    return;
  }
  auto e = ParseObject(bytes);
  if (!e.ok()) {
    out += bytes;  // Visible() already refused such bytes; kept for completeness
    return;
  }
  dom::object obj = e->get_object().value_unsafe();
  std::string_view type;
  if (obj["type"].get(type)) type = {};
  const PersonalDataEdits edits{redact_, drop_types_, peer_.personal_data.redact_free_text};
  bool edited = false;
  std::string text;
  for (auto [key, value] : obj) {
    text.clear();
    if (edits.Property(type, obj, key, value, &text) != Edit::kKeep) {
      edited = true;
      break;
    }
  }
  if (!edited) {
    out += bytes;
    return;
  }
  edits.AppendObject(type, obj, /*drop_signature=*/true, &out);
}

Status CheckSignature(std::string_view object_json,
                      const std::unordered_map<std::string, std::pair<std::string, std::string>>& signers) {
  if (signers.empty()) return absl::OkStatus();
  auto e = ParseObject(object_json);
  if (!e.ok()) return absl::OkStatus();  // validation reports malformed objects
  std::string_view creator;
  if ((*e)["created_by_ref"].get(creator)) return absl::OkStatus();
  auto it = signers.find(std::string(creator));
  if (it == signers.end()) return absl::OkStatus();
  if (it->second.second.empty()) {
    return absl::UnauthenticatedError("created_by_ref " + std::string(creator) + " is partner '" + it->second.first +
                                      "', whose record cannot be read: its objects are refused until it is fixed");
  }
  Status st = Verify(object_json, it->second.second);
  if (st.ok()) return st;
  return absl::UnauthenticatedError("created_by_ref " + std::string(creator) + " is partner '" + it->second.first +
                                    "', which requires signatures: " + std::string(st.message()));
}

ingest::ObjectCheck SignatureCheckFor(const std::vector<Peer>& peers) {
  auto signers = std::make_shared<std::unordered_map<std::string, std::pair<std::string, std::string>>>();
  for (const Peer& p : peers) {
    if (p.require_signatures) (*signers)[p.identity_id] = {p.name, p.public_key};
  }
  if (signers->empty()) return nullptr;
  return [signers](std::string_view json, const stix::ObjectInfo&) { return CheckSignature(json, *signers); };
}

namespace {

// What a partner whose agreement cannot be read gets: nothing.
class RefuseAll : public taxii::PeerView {
 public:
  bool MayRead(const std::string&) const override { return false; }
  bool MayWrite(const std::string&) const override { return false; }
  bool Visible(std::string_view, std::string_view) const override { return false; }
  void AppendServed(std::string_view, std::string&) const override {}
};

}  // namespace

struct FederationPolicy::State {
  std::unordered_map<std::string, std::shared_ptr<const Agreement>> by_user;
  std::unordered_map<std::string, std::pair<std::string, std::string>> signers;  // identity -> (peer, key)
  // Fail closed: when the peers cannot be read at all, nobody can tell a
  // partner from an analyst, and every user is refused everything until they
  // can; a partner whose own record does not parse is refused everything.
  bool refuse_everyone = false;
  std::unordered_set<std::string> refused;
};

FederationPolicy::FederationPolicy(std::shared_ptr<PeerStore> peers, std::shared_ptr<audit::AuditLog> audit)
    : peers_(std::move(peers)), audit_(std::move(audit)), state_(std::make_shared<State>()) {}

std::shared_ptr<const FederationPolicy::State> FederationPolicy::Current() {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (loaded_ && now - checked_ < kRefresh) return state_;
  checked_ = now;
  loaded_ = true;
  auto snapshot = peers_->Snapshot();
  if (!snapshot.ok()) {
    std::cerr << "cordon: federation: cannot read the peers' agreements, refusing every user until they can be read: "
              << snapshot.status().message() << std::endl;
    auto state = std::make_shared<State>();
    state->refuse_everyone = true;
    state_ = std::move(state);
    state_source_ = nullptr;
    return state_;
  }
  if (snapshot->get() == state_source_) return state_;
  auto state = std::make_shared<State>();
  std::unordered_set<std::string> identities;
  for (const Peer& p : (*snapshot)->peers) {
    if (!p.identity_id.empty()) identities.insert(p.identity_id);
  }
  for (const auto& bad : (*snapshot)->unreadable) {
    if (!bad.identity_id.empty()) identities.insert(bad.identity_id);
  }
  for (const Peer& p : (*snapshot)->peers) {
    std::unordered_set<std::string> others = identities;
    others.erase(p.identity_id);
    state->by_user[p.name] = std::make_shared<const Agreement>(p, std::move(others));
    if (p.require_signatures) state->signers[p.identity_id] = {p.name, p.public_key};
  }
  for (const auto& bad : (*snapshot)->unreadable) {
    std::cerr << "cordon: federation: unreadable peer record, refusing that partner everything: " << bad.name << ": "
              << bad.why << std::endl;
    state->refused.insert(bad.name);
    // Still a partner for the others' rules: its AMBER objects are not passed
    // on, and objects claiming to be its are refused (its key is unknown now).
    if (!bad.identity_id.empty()) state->signers[bad.identity_id] = {bad.name, ""};
  }
  state_ = std::move(state);
  state_source_ = snapshot->get();
  return state_;
}

std::shared_ptr<const taxii::PeerView> FederationPolicy::ViewFor(const store::User& user) {
  auto state = Current();
  if (state->refuse_everyone || state->refused.count(user.name)) {
    static const auto refuse = std::make_shared<const RefuseAll>();
    return refuse;
  }
  auto it = state->by_user.find(user.name);
  if (it == state->by_user.end()) return nullptr;
  return it->second;
}

ingest::ObjectCheck FederationPolicy::IngestCheck() {
  auto state = Current();
  if (state->signers.empty()) return nullptr;
  return [state](std::string_view json, const stix::ObjectInfo&) { return CheckSignature(json, state->signers); };
}

Status FederationPolicy::Record(const taxii::PeerAccess& a) {
  if (!audit_) return absl::OkStatus();
  std::string action = "taxii." + ToLower(a.method) + "." + std::string(a.endpoint);
  std::string details = "{\"path\":";
  AppendJsonString(details, a.path);
  details += ",\"http_status\":" + std::to_string(a.http_status) + "}";
  Status st = audit_->Append(a.user, action, a.ids, details);
  if (!st.ok()) std::cerr << "cordon: audit: " << st.message() << " (the answer was withheld)" << std::endl;
  return st;
}

}  // namespace cordon::federation
