// Feed entries before they become STIX: one Candidate per indicator value,
// with its STIX pattern built from the normalised value, and the values a
// warning list is checked against. Parsers (feeds/parsers.h, feeds/misp.h)
// produce them; feeds/importer.h turns them into versioned indicators.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "feeds/warninglist.h"
#include "stix/object.h"

namespace cordon::feeds {

struct ValueCheck {
  ValueKind kind;
  std::string value;  // normalised
};

struct Candidate {
  std::string where;    // "line 12", "event <uuid> attribute <uuid>": for reports
  std::string value;    // the indicator's value as shown (the indicator's name)
  std::string pattern;  // STIX 2.1 pattern over normalised values
  std::vector<ValueCheck> checks;  // what warning lists are asked about
  std::vector<std::string> labels;  // from the feed (MISP tags, a CSV column)
  stix::Tlp tlp = stix::Tlp::kNone;  // from the feed (MISP tlp:* tags)
  std::string description;          // from the feed (MISP comment, a CSV column)
  std::optional<Timestamp> first_seen;
};

// An entry not imported, with why.
struct Rejection {
  std::string where;
  std::string value;
  std::string reason;
};

// What a parser read: candidates in input order, entries rejected (invalid:
// the import exits non-zero) and entries skipped on purpose (MISP to_ids
// false, restricted distribution, hosts-file localhost lines: reported, not
// errors).
struct Parsed {
  std::vector<Candidate> items;
  std::vector<Rejection> rejected;
  std::vector<Rejection> skipped;
};

// A candidate for a value of known kind; `raw` is normalised first (IDN to
// punycode, canonical IP text, ...). kCidr accepts a plain address too (it
// becomes an address indicator); a CIDR with host bits set is an error.
Result<Candidate> FromKind(ValueKind kind, std::string_view raw);

// The kind a plain-list line looks like: "scheme://" → URL, 32/40/64/128 hex
// digits → hash, "a/n" → CIDR, an address → IP, "x@y" → e-mail, else domain.
ValueKind DetectKind(std::string_view raw);

// A candidate for a MISP attribute type (ip-src, ip-dst|port, domain|ip,
// filename|sha256, ...) or one of cordon's kind names (domain, ip, cidr, url,
// email, md5, sha1, sha256, sha512, hash). NotFound for a type with no STIX
// pattern mapping (the message says so); InvalidArgument for a bad value.
Result<Candidate> FromTyped(std::string_view type, std::string_view raw);

// `s` as a STIX pattern string literal body ('\'' and '\\' escaped).
std::string PatternLiteral(std::string_view s);

}  // namespace cordon::feeds
