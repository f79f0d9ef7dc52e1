// Warning lists: known-good values (top sites, public resolvers, reserved and
// private ranges, cloud providers) in the MISP warning-list JSON format
// (github.com/MISP/misp-warninglists: name, description, version, type,
// matching_attributes, list).
//
// Imports report indicators that hit a warning list; exports never block them.
// A node keeps its lists as validated copies in DATA/warninglists/<slug>.json;
// WarningLists::Load reads them all once and answers Check() from hash sets
// (string lists), a suffix walk over labels (hostname lists) and per-length
// prefix tables (CIDR lists), so checking one value costs a few hash probes.
//
// Matching rules (MISP's, made precise for normalised values):
//  - string:    the value equals an entry (entries lowercased, as MISP
//               compares case-insensitively; a trailing dot is dropped).
//  - substring: the value contains an entry (lowercase).
//  - hostname:  the domain equals an entry or is a subdomain of it; a leading
//               dot on an entry (".example.com") means the same. For URL and
//               e-mail values the host / domain part is checked.
//  - cidr:      an IP value lies in an entry (a plain address is a /32 or
//               /128); a CIDR value hits when it lies inside an entry or
//               contains an entry (blocking it would block known-good
//               addresses). Entries with host bits set are masked.
//  - regex:     an ECMAScript regex (PHP-style delimiters "/.../i" are
//               understood) searched in the value.
// A list applies to the kinds its matching_attributes name (MISP attribute
// types, see KindsForMispType); no matching_attributes = every kind.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cordon::feeds {

// What an indicator value is. Check() expects the value in the canonical form
// of cordon::normalize (Domain, FormatIp, FormatPrefix, Url, Email, Hash).
enum class ValueKind : uint8_t { kDomain, kIp, kCidr, kUrl, kEmail, kHash };
inline constexpr int kValueKindCount = 6;
std::string_view ValueKindName(ValueKind k);

// Bit set of ValueKinds (1 << kind) that a MISP attribute type is checked as
// ("ip-dst|port" -> kIp|kCidr, "domain|ip" -> kDomain|kIp|kCidr, ...); 0 for
// types warning lists do not concern.
uint32_t KindsForMispType(std::string_view misp_type);

enum class ListType : uint8_t { kString, kSubstring, kHostname, kCidr, kRegex };
std::string_view ListTypeName(ListType t);

// One parsed, validated warning list.
struct WarningList {
  std::string name;
  std::string description;
  int64_t version = 0;
  ListType type = ListType::kString;
  std::vector<std::string> matching_attributes;
  std::vector<std::string> entries;  // as given
  uint32_t kinds = 0;                // from matching_attributes (all kinds if none)
};

// Parses and validates a MISP warning-list document. InvalidArgument names
// the property or the entry (index and value) at fault: not JSON, missing
// name/list/type, unknown type, an entry that is not a string, a CIDR entry
// that is no address, a regex that does not compile.
Result<WarningList> ParseWarningList(std::string_view json);

struct WarningHit {
  std::string list;   // WarningList::name
  std::string entry;  // the entry that matched, as given in the list
};

// An immutable, thread-safe index over a set of lists.
class WarningLists {
 public:
  WarningLists();
  ~WarningLists();
  WarningLists(WarningLists&&) noexcept;
  WarningLists& operator=(WarningLists&&) noexcept;

  static WarningLists Build(std::vector<WarningList> lists);
  // Every list stored in DATA/warninglists (none stored = an empty index).
  static Result<WarningLists> Load(const std::string& data_dir);

  // A hit for a normalised value, if any list matches. Rules are tried in the
  // order exact (string), hostname suffix (longest name first), cidr,
  // substring, regex; within a rule, on a value listed twice, the list first
  // in name order is reported.
  std::optional<WarningHit> Check(ValueKind kind, std::string_view value) const;

  size_t list_count() const;
  bool empty() const { return list_count() == 0; }

 private:
  struct Index;
  std::unique_ptr<Index> index_;
};

// --- the node's stored lists (DATA/warninglists/) ---

struct StoredList {
  std::string slug;  // file stem: the name to remove it by
  WarningList list;
};

// "List of RFC 1918 CIDR blocks" -> "list-of-rfc-1918-cidr-blocks".
std::string Slug(std::string_view name);

// Validates `json` and stores it as DATA/warninglists/<slug of its name>.json
// (atomically: temporary file, fsync, rename); replaces a list of the same
// name. Returns what was stored.
Result<StoredList> AddStoredList(const std::string& data_dir, std::string_view json);
// Stored lists in slug order.
Result<std::vector<StoredList>> ListStored(const std::string& data_dir);
// Removes the list whose slug or name is `name` (NotFound otherwise).
Status RemoveStored(const std::string& data_dir, const std::string& name);

}  // namespace cordon::feeds
