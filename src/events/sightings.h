// Alerts and STIX 2.1 sightings from matcher hits.
//
// Sightings aggregate hits per (indicator, time window of the event time): one
// sighting object per pair with `count`, `first_seen`, `last_seen`,
// `sighting_of_ref` and `where_sighted_refs` = the node's identity. Its id is
// name-based (uuid v5 of indicator, window start and identity), so that
// running again over the same logs produces the same ids with the same counts:
// never a second sighting counted on top. (`cordon match` stores a new version
// only when counts or times differ from the stored one; signing, if any, is
// its caller's: events does not depend on federation.) Counts are those of
// this process's run over its inputs.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/time.h"
#include "match/event.h"
#include "stix/object.h"

namespace cordon::events {

// One alert as a JSON line (with '\n'): indicator id, matched value and its
// observable type and field (null for indicators decided by full evaluation
// only), event time, source file and line.
void AppendAlertJson(std::string& out, std::string_view indicator_id, const match::Key* key,
                     const match::Event& event);

class SightingAggregator {
 public:
  // `window_seconds` > 0; `identity_id` is "identity--<uuid>".
  SightingAggregator(int64_t window_seconds, std::string identity_id);

  // `tlp`: the sighted indicator's; the sighting carries it as its marking
  // (a sighting is shared no wider than what it sights).
  void Add(std::string_view indicator_id, Timestamp event_time, stix::Tlp tlp = stix::Tlp::kNone);

  struct Sighting {
    std::string id;  // "sighting--<uuid v5>"
    std::string indicator_id;
    Timestamp window_start, first_seen, last_seen;
    uint64_t count = 0;
    stix::Tlp tlp = stix::Tlp::kNone;  // the strictest seen for the indicator
  };
  // Sightings added to or created since the last call (all, on the first).
  std::vector<Sighting> TakeChanged();
  size_t size() const { return entries_.size(); }

  // The STIX object. `created` must be <= `modified`.
  std::string Render(const Sighting& s, Timestamp created, Timestamp modified) const;
  const std::string& identity_id() const { return identity_id_; }

  // The deterministic id of the sighting of `indicator_id` by `identity_id`
  // in the window starting at `window_start`.
  static std::string SightingId(std::string_view indicator_id, Timestamp window_start,
                                std::string_view identity_id);

 private:
  struct Entry {
    Sighting s;
    bool changed = true;
  };
  int64_t window_ns_;
  std::string identity_id_;
  std::map<std::pair<std::string, int64_t>, Entry, std::less<>> entries_;
  std::string key_scratch_;
};

// A new STIX identity object for this node (random id), as JSON.
std::string NewNodeIdentityJson(std::string_view name);

}  // namespace cordon::events
