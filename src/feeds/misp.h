// MISP events and feeds as Candidates.
//
// Accepted documents: {"Event": {...}}, {"response": [{"Event": {...}}, ...]}
// (API exports), a bare event object, or an array of {"Event": ...}. Every
// attribute of the event and of its objects ("Object"[].Attribute) becomes a
// candidate through FromTyped (feeds/indicator.h), with these rules:
//  - to_ids false: skipped (context, not an indicator; MISP's own export to
//    IDS formats leaves them out too), reported with the count of skipped;
//  - deleted attributes: skipped;
//  - distribution: the attribute's, or the event's when it says 5 (inherit).
//    0 (your organisation only) and 4 (sharing group) are skipped unless
//    MispOptions::include_restricted: a shared collection must not receive
//    what the producer restricted;
//  - tags of the event and the attribute become labels, except tlp:* tags,
//    which set the candidate's TLP (the most restrictive wins; tlp:white and
//    tlp:clear are TLP:CLEAR, tlp:amber+strict is AMBER+STRICT);
//  - comment becomes the description, first_seen (RFC 3339) valid_from.
// An attribute type without a STIX mapping, or a bad value, is a Rejection
// naming the event and attribute uuid.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "feeds/indicator.h"

namespace cordon::feeds {

struct MispOptions {
  bool include_restricted = false;  // import distribution 0 and 4 too
};

// One JSON document (see above). InvalidArgument when it is not JSON (e.g.
// truncated) or holds no event: nothing is parsed then.
Result<Parsed> ParseMispEvents(std::string_view json, const MispOptions& options);

// A MISP feed directory: manifest.json (event uuid -> summary) plus one
// <uuid>.json per event. A missing or broken event file fails the whole feed.
Result<Parsed> ParseMispFeed(const std::string& dir, const MispOptions& options);

// The TLP of a tag name ("tlp:amber", "TLP:CLEAR"); kNone if not a TLP tag.
stix::Tlp TlpOfTag(std::string_view tag);

}  // namespace cordon::feeds
