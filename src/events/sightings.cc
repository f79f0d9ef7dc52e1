#include "events/sightings.h"

#include <algorithm>

#include "base/json_writer.h"
#include "base/uuid.h"
#include "normalize/normalize.h"

namespace cordon::events {
namespace {

// The namespace of cordon's name-based sighting ids (a fixed random UUID).
constexpr std::string_view kSightingNamespace = "6f0b3c2e-8d4a-4e0b-9a57-3c1d2b7e9f10";

std::string Time(Timestamp t) { return FormatTimestamp(t, 3); }

}  // namespace

void AppendAlertJson(std::string& out, std::string_view indicator_id, const match::Key* key,
                     const match::Event& event) {
  out += "{\"indicator\":";
  AppendJsonString(out, indicator_id);
  if (key == nullptr) {
    out += ",\"value\":null,\"type\":null,\"field\":null";
  } else {
    out += ",\"value\":";
    if (key->type == match::KeyType::kIp) {
      AppendJsonString(out, normalize::FormatIp(key->ip));
    } else if (key->type == match::KeyType::kPort) {
      out += std::to_string(key->number);
    } else {
      AppendJsonString(out, key->text);
    }
    out += ",\"type\":";
    AppendJsonString(out, match::KeyTypeName(key->type));
    out += ",\"field\":";
    AppendJsonString(out, key->field);
  }
  out += ",\"time\":\"";
  out += FormatTimestamp(event.time, 6);
  out += "\",\"source\":";
  AppendJsonString(out, event.source);
  out += ",\"line\":";
  out += std::to_string(event.line);
  out += "}\n";
}

SightingAggregator::SightingAggregator(int64_t window_seconds, std::string identity_id)
    : window_ns_(window_seconds * 1'000'000'000), identity_id_(std::move(identity_id)) {}

std::string SightingAggregator::SightingId(std::string_view indicator_id, Timestamp window_start,
                                           std::string_view identity_id) {
  std::string name(indicator_id);
  name += '|';
  name += FormatTimestamp(window_start, 0);
  name += '|';
  name += identity_id;
  return "sighting--" + NewUuid5(kSightingNamespace, name);
}

void SightingAggregator::Add(std::string_view indicator_id, Timestamp t, stix::Tlp tlp) {
  // The window's start, rounding down; the span's first window starts at its
  // first instant (where t.ns minus the remainder would overflow).
  int64_t rem = t.ns % window_ns_, start;
  if (rem < 0) rem += window_ns_;
  if (__builtin_sub_overflow(t.ns, rem, &start)) start = INT64_MIN;
  key_scratch_.assign(indicator_id);
  auto it = entries_.find(std::make_pair(key_scratch_, start));
  if (it == entries_.end()) {
    Entry e;
    e.s.indicator_id = key_scratch_;
    e.s.window_start = Timestamp{start, 0};
    e.s.first_seen = e.s.last_seen = t;
    e.s.id = SightingId(indicator_id, e.s.window_start, identity_id_);
    it = entries_.emplace(std::make_pair(key_scratch_, start), std::move(e)).first;
  } else {
    Sighting& s = it->second.s;
    if (t < s.first_seen) s.first_seen = t;
    if (s.last_seen < t) s.last_seen = t;
  }
  ++it->second.s.count;
  it->second.s.tlp = std::max(it->second.s.tlp, tlp);
  it->second.changed = true;
}

std::vector<SightingAggregator::Sighting> SightingAggregator::TakeChanged() {
  std::vector<Sighting> out;
  for (auto& [k, e] : entries_) {
    if (!e.changed) continue;
    out.push_back(e.s);
    e.changed = false;
  }
  return out;
}

std::string SightingAggregator::Render(const Sighting& s, Timestamp created, Timestamp modified) const {
  std::string out = "{\"type\":\"sighting\",\"spec_version\":\"2.1\",\"id\":\"" + s.id + "\",\"created\":\"" +
                    Time(created) + "\",\"modified\":\"" + Time(modified) + "\",\"created_by_ref\":";
  AppendJsonString(out, identity_id_);
  out += ",\"first_seen\":\"" + Time(s.first_seen) + "\",\"last_seen\":\"" + Time(s.last_seen) +
         "\",\"count\":" + std::to_string(s.count) + ",\"sighting_of_ref\":";
  AppendJsonString(out, s.indicator_id);
  out += ",\"where_sighted_refs\":[";
  AppendJsonString(out, identity_id_);
  out += "]";
  if (s.tlp != stix::Tlp::kNone) {
    out += ",\"object_marking_refs\":[";
    AppendJsonString(out, stix::TlpMarkingId(s.tlp));
    out += "]";
  }
  out += "}";
  return out;
}

std::string NewNodeIdentityJson(std::string_view name) {
  std::string now = Time(Now());
  std::string out = "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"identity--" + NewUuid4() +
                    "\",\"created\":\"" + now + "\",\"modified\":\"" + now + "\",\"name\":";
  AppendJsonString(out, name);
  out += ",\"identity_class\":\"organization\",\"description\":\"cordon node that reports sightings\"}";
  return out;
}

}  // namespace cordon::events
