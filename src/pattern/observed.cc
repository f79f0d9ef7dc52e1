// Loading observed data (observed-data SDOs, bundles, bare SCOs) for the
// pattern evaluator. simdjson stays in this file: the DOM is converted into
// the evaluator's own JsonValue tree.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "base/time.h"
#include "pattern/eval_internal.h"
#include "pattern/evaluator.h"
#include "simdjson.h"

namespace cordon::pattern {
namespace internal {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads 1..max_digits digits at *pos.
bool ReadNum(std::string_view s, size_t* pos, int min_digits, int max_digits, int* out) {
  int n = 0, v = 0;
  while (*pos < s.size() && n < max_digits && IsDigit(s[*pos])) {
    v = v * 10 + (s[*pos] - '0');
    ++*pos;
    ++n;
  }
  if (n < min_digits) return false;
  *out = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

}  // namespace

Result<int64_t> ParseRefTimestamp(std::string_view text) {
  auto bad = [&](const char* why) {
    return absl::InvalidArgumentError("invalid timestamp '" + std::string(text) + "': " + why);
  };
  for (char c : text) {
    if (c >= 'a' && c <= 'z') return bad("lower-case letters are not allowed");
  }
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!ReadNum(text, &pos, 4, 4, &year) || !Expect(text, &pos, '-') ||
      !ReadNum(text, &pos, 1, 2, &month) || !Expect(text, &pos, '-') ||
      !ReadNum(text, &pos, 1, 2, &day) || !Expect(text, &pos, 'T') ||
      !ReadNum(text, &pos, 1, 2, &hour) || !Expect(text, &pos, ':') ||
      !ReadNum(text, &pos, 1, 2, &minute) || !Expect(text, &pos, ':') ||
      !ReadNum(text, &pos, 1, 2, &second)) {
    return bad("expected YYYY-MM-DDTHH:MM:SS[.ffffff]Z");
  }
  int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    size_t n = pos - start;
    if (n == 0) return bad("empty fraction");
    // The reference cuts fractions of 7+ digits to 6; 1-6 digits are read as
    // a fraction of a second.
    std::string_view frac = text.substr(start, n < 6 ? n : 6);
    for (char c : frac) micros = micros * 10 + (c - '0');
    for (size_t i = frac.size(); i < 6; ++i) micros *= 10;
  }
  if (!Expect(text, &pos, 'Z') || pos != text.size()) return bad("expected a 'Z' at the end");
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return bad("month out of range");
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (year < 1 || day < 1 || day > kDaysIn[month - 1] + (month == 2 && leap ? 1 : 0)) {
    return bad("day out of range");
  }
  if (hour > 23 || minute > 59 || second > 59) return bad("time out of range");
  int64_t secs = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return secs * 1000000 + micros;
}

}  // namespace internal

const JsonValue* JsonValue::Find(std::string_view key) const {
  if (kind != Kind::kObject) return nullptr;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] == key) return &items[i];
  }
  return nullptr;
}

const JsonValue* ObservationSet::Resolve(size_t obs, std::string_view ref) const {
  if (obs < local_.size()) {
    auto it = local_[obs].find(ref);
    if (it != local_[obs].end()) return it->second;
  }
  auto it = by_id_.find(ref);
  return it == by_id_.end() ? nullptr : it->second;
}

namespace {

// `text`: where the value's strings are copied to (and past them on return);
// room for all of them is the caller's.
std::string_view CopyTo(std::string_view from, char*& text) {
  std::memcpy(text, from.data(), from.size());
  std::string_view copy(text, from.size());
  text += from.size();
  return copy;
}

JsonValue Convert(simdjson::dom::element e, char*& text) {
  JsonValue v;
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
      v.kind = JsonValue::Kind::kArray;
      simdjson::dom::array arr;
      if (e.get_array().get(arr) != simdjson::SUCCESS) break;
      v.items.reserve(arr.size());  // O(1) in simdjson's tape (saturates at 2^24 - 1)
      for (simdjson::dom::element item : arr) {
        v.items.push_back(Convert(item, text));
      }
      break;
    }
    case simdjson::dom::element_type::OBJECT: {
      v.kind = JsonValue::Kind::kObject;
      simdjson::dom::object obj;
      if (e.get_object().get(obj) != simdjson::SUCCESS) break;
      v.keys.reserve(obj.size());
      v.items.reserve(obj.size());
      for (simdjson::dom::key_value_pair field : obj) {
        v.keys.push_back(CopyTo(field.key, text));
        v.items.push_back(Convert(field.value, text));
      }
      break;
    }
    case simdjson::dom::element_type::INT64:
      v.kind = JsonValue::Kind::kInt;
      if (e.get_int64().get(v.int_value) != simdjson::SUCCESS) break;
      break;
    case simdjson::dom::element_type::UINT64:
      // Beyond int64: kept as a float (loses precision past 2^53).
      v.kind = JsonValue::Kind::kFloat;
      {
        uint64_t u = 0;
        if (e.get_uint64().get(u) != simdjson::SUCCESS) break;
        v.float_value = static_cast<double>(u);
      }
      break;
    case simdjson::dom::element_type::DOUBLE:
      v.kind = JsonValue::Kind::kFloat;
      if (e.get_double().get(v.float_value) != simdjson::SUCCESS) break;
      break;
    case simdjson::dom::element_type::STRING:
      v.kind = JsonValue::Kind::kString;
      {
        std::string_view sv;
        if (e.get_string().get(sv) != simdjson::SUCCESS) break;
        v.string_value = CopyTo(sv, text);
      }
      break;
    case simdjson::dom::element_type::BOOL:
      v.kind = JsonValue::Kind::kBool;
      if (e.get_bool().get(v.bool_value) != simdjson::SUCCESS) break;
      break;
    case simdjson::dom::element_type::NULL_VALUE:
      v.kind = JsonValue::Kind::kNull;
      break;
  }
  return v;
}

std::string_view StringMember(const JsonValue& obj, std::string_view key) {
  const JsonValue* v = obj.Find(key);
  return v != nullptr && v->kind == JsonValue::Kind::kString ? v->string_value : std::string_view();
}

// Object types that are not cyber observables (SDOs, SROs, meta objects).
bool IsNonObservableType(std::string_view t) {
  static const std::unordered_set<std::string_view> kTypes = {
      "attack-pattern", "campaign", "course-of-action", "grouping", "identity", "incident",
      "indicator", "infrastructure", "intrusion-set", "location", "malware", "malware-analysis",
      "note", "observed-data", "opinion", "report", "threat-actor", "tool", "vulnerability",
      "relationship", "sighting", "marking-definition", "language-content",
      "extension-definition", "bundle"};
  return kTypes.contains(t);
}

// Microseconds to a Timestamp, saturating past year 2262.
int64_t ToNs(int64_t us) {
  constexpr int64_t kMax = INT64_MAX / 1000;
  return us > kMax ? INT64_MAX : us < -kMax ? INT64_MIN : us * 1000;
}

Status Bad(std::string msg) { return absl::InvalidArgumentError("observed data: " + msg); }

}  // namespace

Result<ObservationSet> LoadObserved(std::string_view json, Version version) {
  // One parser per thread, kept: its buffers are allocated once, not per call
  // (the matcher loads a record's observed data for each evaluation).
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(json.data(), json.size()).get(doc); err != simdjson::SUCCESS) {
    return Bad(std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  ObservationSet set;
  set.version_ = version;
  // An unescaped string is never longer than its JSON form, and the forms
  // do not overlap: the input's size holds them all.
  set.text_.push_back(std::make_unique_for_overwrite<char[]>(json.size() + 1));
  char* text = set.text_.back().get();

  // Flatten: array items, bundles' objects (one level of nesting each way).
  std::vector<const JsonValue*> objects;
  auto add_top = [&](simdjson::dom::element e) -> Status {
    if (e.type() != simdjson::dom::element_type::OBJECT) {
      return Bad("expected a JSON object, a bundle or a list of them");
    }
    set.storage_.push_back(std::make_unique<JsonValue>(Convert(e, text)));
    const JsonValue* v = set.storage_.back().get();
    if (StringMember(*v, "type") == "bundle") {
      const JsonValue* objs = v->Find("objects");
      if (objs == nullptr) return Status();
      if (objs->kind != JsonValue::Kind::kArray) return Bad("bundle 'objects' is not a list");
      for (const JsonValue& o : objs->items) {
        if (o.kind != JsonValue::Kind::kObject) return Bad("bundle member is not an object");
        objects.push_back(&o);
      }
    } else {
      objects.push_back(v);
    }
    return Status();
  };
  if (simdjson::dom::array top; doc.get_array().get(top) == simdjson::SUCCESS) {
    for (simdjson::dom::element e : top) {
      CORDON_RETURN_IF_ERROR(add_top(e));
    }
  } else {
    CORDON_RETURN_IF_ERROR(add_top(doc));
  }

  bool any_observed_data = false;
  set.by_id_.reserve(objects.size());
  for (const JsonValue* o : objects) {
    std::string_view id = StringMember(*o, "id");
    if (!id.empty()) set.by_id_.emplace(id, o);  // first one wins
    if (StringMember(*o, "type") == "observed-data") any_observed_data = true;
  }

  for (const JsonValue* o : objects) {
    std::string_view type = StringMember(*o, "type");
    // observed-data, or (as the 2.0 reference accepts) any other container
    // carrying number_observed, e.g. "cybox-container" test objects.
    bool container = type == "observed-data" || o->Find("number_observed") != nullptr;
    Observation obs;
    absl::flat_hash_map<std::string_view, const JsonValue*> local;
    obs.id = std::string(StringMember(*o, "id"));
    if (container) {
      const JsonValue* first = o->Find("first_observed");
      const JsonValue* last = o->Find("last_observed");
      const JsonValue* number = o->Find("number_observed");
      std::string what = obs.id.empty() ? std::string("observed-data") : obs.id;
      if (first == nullptr || last == nullptr || number == nullptr) {
        return Bad(what + " must have first_observed, last_observed and number_observed");
      }
      if (first->kind != JsonValue::Kind::kString || last->kind != JsonValue::Kind::kString) {
        return Bad(what + ": first_observed / last_observed must be timestamp strings");
      }
      auto f = internal::ParseRefTimestamp(first->string_value);
      if (!f.ok()) return Bad(what + ": first_observed: " + std::string(f.status().message()));
      auto l = internal::ParseRefTimestamp(last->string_value);
      if (!l.ok()) return Bad(what + ": last_observed: " + std::string(l.status().message()));
      obs.first_observed_us = *f;
      obs.last_observed_us = *l;
      obs.first_observed.ns = ToNs(*f);
      obs.last_observed.ns = ToNs(*l);
      if (*f > *l) return Bad(what + ": first_observed is after last_observed");
      if (number->kind != JsonValue::Kind::kInt || number->int_value < 1) {
        return Bad(what + ": number_observed must be an integer >= 1");
      }
      obs.number_observed = number->int_value;
      if (const JsonValue* embedded = o->Find("objects"); embedded != nullptr) {
        if (embedded->kind != JsonValue::Kind::kObject) {
          return Bad(what + ": 'objects' must be a dictionary");
        }
        for (size_t i = 0; i < embedded->keys.size(); ++i) {
          if (embedded->items[i].kind != JsonValue::Kind::kObject) continue;
          obs.object_keys.emplace_back(embedded->keys[i]);
          obs.objects.push_back(&embedded->items[i]);
          local.emplace(embedded->keys[i], &embedded->items[i]);
        }
      }
      if (const JsonValue* refs = o->Find("object_refs"); refs != nullptr) {
        if (refs->kind != JsonValue::Kind::kArray) {
          return Bad(what + ": 'object_refs' must be a list");
        }
        for (const JsonValue& r : refs->items) {
          if (r.kind != JsonValue::Kind::kString) return Bad(what + ": object_refs holds a non-string");
          if (local.contains(r.string_value)) continue;
          auto it = set.by_id_.find(r.string_value);
          if (it == set.by_id_.end()) continue;  // not in the input: nothing to match
          obs.object_keys.emplace_back(r.string_value);
          obs.objects.push_back(it->second);
          local.emplace(r.string_value, it->second);
        }
      }
    } else if (!any_observed_data && !type.empty() && !IsNonObservableType(type)) {
      // A bare SCO: one observation of itself, at load time.
      obs.first_observed = obs.last_observed = Now();
      obs.first_observed_us = obs.last_observed_us = obs.first_observed.ns / 1000;
      obs.number_observed = 1;
      const std::string_view key = obs.id.empty() ? std::string_view("0") : StringMember(*o, "id");
      obs.object_keys.emplace_back(key);
      obs.objects.push_back(o);
      local.emplace(key, o);
    } else {
      continue;
    }
    set.observations_.push_back(std::move(obs));
    set.local_.push_back(std::move(local));
  }
  return set;
}

ObservedDataBuilder::ObservedDataBuilder(Version version, std::string_view id, Timestamp time, size_t objects) {
  set_.version_ = version;
  set_.storage_.reserve(objects);
  observation_.object_keys.reserve(objects);
  observation_.objects.reserve(objects);
  observation_.id = std::string(id);
  // As "YYYY-MM-DDTHH:MM:SS.ffffffZ" read back: cut to microseconds, down.
  int64_t us = time.ns / 1000;
  if (time.ns % 1000 < 0) --us;
  observation_.first_observed_us = observation_.last_observed_us = us;
  observation_.first_observed.ns = observation_.last_observed.ns = ToNs(us);
  observation_.number_observed = 1;
}

std::string_view ObservedDataBuilder::Copy(std::string_view text) {
  if (text.empty()) return {};
  if (text.size() > room_) {
    room_ = std::max<size_t>(1024, text.size());
    set_.text_.push_back(std::make_unique_for_overwrite<char[]>(room_));
    free_ = set_.text_.back().get();
  }
  room_ -= text.size();
  return CopyTo(text, free_);
}

JsonValue ObservedDataBuilder::String(std::string_view text) {
  JsonValue v;
  v.kind = JsonValue::Kind::kString;
  v.string_value = Copy(text);
  return v;
}

JsonValue ObservedDataBuilder::Int(int64_t value) {
  JsonValue v;
  v.kind = JsonValue::Kind::kInt;
  v.int_value = value;
  return v;
}

JsonValue ObservedDataBuilder::Object() {
  JsonValue v;
  v.kind = JsonValue::Kind::kObject;
  return v;
}

JsonValue ObservedDataBuilder::Array() {
  JsonValue v;
  v.kind = JsonValue::Kind::kArray;
  return v;
}

JsonValue* ObservedDataBuilder::Add(JsonValue* object, std::string_view name, JsonValue value) {
  object->keys.push_back(Copy(name));
  object->items.push_back(std::move(value));
  return &object->items.back();
}

JsonValue* ObservedDataBuilder::AddObject(std::string_view type, std::string_view id) {
  set_.storage_.push_back(std::make_unique<JsonValue>(Object()));
  JsonValue* o = set_.storage_.back().get();
  o->keys.reserve(4);
  o->items.reserve(4);
  Add(o, "type", String(type));
  Add(o, "spec_version", String("2.1"));
  const std::string_view key = Add(o, "id", String(id))->string_value;
  observation_.object_keys.emplace_back(key);
  observation_.objects.push_back(o);
  return o;
}

ObservationSet ObservedDataBuilder::Finish() && {
  absl::flat_hash_map<std::string_view, const JsonValue*> local;
  local.reserve(observation_.objects.size());
  for (size_t i = 0; i < observation_.objects.size(); ++i) local.emplace(observation_.object_keys[i], observation_.objects[i]);
  // by_id_ stays empty: every object is the observation's own (local_).
  set_.observations_.push_back(std::move(observation_));
  set_.local_.push_back(std::move(local));
  return std::move(set_);
}

}  // namespace cordon::pattern
