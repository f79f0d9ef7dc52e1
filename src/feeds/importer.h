// Candidates (feeds/indicator.h) into a collection as versioned STIX 2.1
// indicators, all-or-nothing.
//
// Identity: every import names its source; the source is a STIX identity
// (identity--uuid5(kFeedNamespace, "source:" + name)) written once and
// referenced as created_by_ref. Indicator ids are uuid5(kFeedNamespace,
// identity id + "\n" + pattern): the same source and normalised value always
// give the same indicator.
//
// Versions: the stored latest version of each id is compared with what the
// import would write, on every property but the timestamps (name, pattern,
// description, labels, confidence, markings, source):
//  - different: a new version (created and valid_from kept, modified = now,
//    valid_until = now + lifetime) — reported as updated;
//  - equal, and more than half of the lifetime left before the stored
//    valid_until: unchanged, nothing written (so a daily feed does not make a
//    version a day);
//  - equal, but less than half of the lifetime left (or expired): renewed as
//    a new version with valid_until = now + lifetime — reported as updated.
// Entries no longer in a feed are left alone: they expire at valid_until.
//
// All objects of one import are validated (stix::ValidateObject, as every
// object entering a store) and written in ONE store transaction (a
// store::BulkWrite): slices of items, in id order, are built and validated on
// other threads while the writer stores the previous slice. Report entries
// come in input order.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "feeds/indicator.h"
#include "feeds/warninglist.h"
#include "store/store.h"

namespace cordon::feeds {

// Namespace of cordon's content-derived ids (identities of sources, feed indicators).
inline constexpr std::string_view kFeedNamespace = "4d2f6a0e-3c1b-5e8f-9a7d-0b6c2e4f8a13";

struct ImportOptions {
  std::string source;              // required: the source's name
  std::optional<int> confidence;   // 0..100
  stix::Tlp tlp = stix::Tlp::kNone;  // marking; an entry's own TLP wins when more restrictive
  int64_t valid_for_ns = int64_t{30} * 86400 * 1000000000;  // lifetime (valid_until - now)
  std::vector<std::string> labels;  // added to every indicator
  std::optional<Timestamp> now;     // the clock (tests); default Now()
};

struct WarningReport {
  std::string where;
  std::string value;
  WarningHit hit;
};

struct ImportReport {
  std::string identity_id;
  int added = 0, updated = 0, unchanged = 0, rejected = 0, skipped = 0;
  std::vector<Rejection> rejections;  // parser's and the import's, with reasons
  std::vector<Rejection> skips;       // on purpose (to_ids false, duplicates, ...)
  std::vector<WarningReport> warnings;  // imported indicators that hit a warning list
};

std::string SourceIdentityId(std::string_view source);
std::string IndicatorId(std::string_view identity_id, std::string_view pattern);

// Parses "30d", "12h", "90m", "3600s" (or a bare number of days).
Result<int64_t> ParseDuration(std::string_view text);
// "clear", "white", "green", "amber", "amber+strict", "red" (any case, "tlp:" optional).
Result<stix::Tlp> ParseTlp(std::string_view text);

// Imports `parsed` into `collection`. Errors (bad options, store failures)
// mean nothing was written.
Result<ImportReport> ImportCandidates(store::Store& store, const std::string& collection, Parsed parsed,
                                      const ImportOptions& options, const WarningLists& warning_lists);

}  // namespace cordon::feeds
