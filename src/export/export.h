// Enforcement exports: the values of blocked indicators, rendered for DNS
// resolvers (RPZ), IDS sensors (Suricata, Zeek), firewalls (nftables), and as
// CSV, plain lists and STIX bundles.
//
// Collect() applies the resolution rule of decide/decide.h over every
// indicator of the store (last versions): an indicator's values are exported
// when its effective decision is `block`, it is not revoked, its valid_until
// (if any) is in the future, its pattern reduces to values that decide it
// (an OR of equality / subnet / domain-suffix tests), and each value is on no
// warning list and is not also a value of an indicator whose effective
// decision is `allow`. Every render is deterministic: the same store and
// decisions give byte-identical output, so a digest tells whether anything
// changed (and an RPZ serial moves only then).
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "decide/decide.h"
#include "store/store.h"

namespace cordon::exporter {

enum class Format : uint8_t { kRpz, kSuricata, kZeek, kNftables, kCsv, kPlain, kStix };
Result<Format> ParseFormat(std::string_view name);
std::string_view FormatName(Format f);

// One exportable value, normalised (normalize/normalize.h forms).
struct Entry {
  enum class Kind : uint8_t {
    kDomain,        // the name itself (and its subtree if the decision says --subdomains)
    kDomainSuffix,  // strictly below `value` (pattern LIKE '%.value'): the subtree only
    kIp,            // a single address (FormatIp)
    kCidr,          // a block (FormatPrefix), never a single address
    kUrl,
    kEmail,
    kHash,          // value = lowercase hex; hash_algo = "MD5", "SHA-1", "SHA-256", "SHA-512"
  };
  Kind kind = Kind::kDomain;
  bool ipv6 = false;  // kIp / kCidr
  std::string value;
  const char* hash_algo = "";  // kHash: a static name
  uint32_t indicator = 0;  // index into ExportSet::indicators
};
std::string_view KindName(Entry::Kind k);

// A warning-list check: the name of the list `value` is on, or nullopt.
// `subtree`: the export would block every name below the domain `value` too
// (a domain suffix, or a decision with --subdomains), so a listed name below
// it is a hit as well.
using WarningCheck =
    std::function<std::optional<std::string>(Entry::Kind kind, std::string_view value, bool subtree)>;

struct ExportedIndicator {
  std::string id;
  std::string_view source;      // created_by_ref, may be empty (points into ExportSet::names)
  std::string_view collection;  // where it was found (points into ExportSet::names)
  std::string bytes;            // the stored JSON; kept only when Collect is asked to (STIX bundle)
  const decide::Decision* decision = nullptr;  // the effective block (points into ExportSet::decisions)
};

struct ExportStats {
  int64_t indicators = 0;      // last versions examined
  int64_t blocked = 0;         // indicators whose values were exported
  int64_t not_reducible = 0;   // blocked, but the pattern is no plain set of values
  int64_t expired = 0;         // blocked, but revoked or past valid_until
  int64_t warning_listed = 0;  // values dropped by a warning list
  int64_t allowed = 0;         // values dropped because an allowed indicator has them
};

struct ExportSet {
  std::vector<decide::Decision> decisions;  // all decisions in force
  std::deque<std::string> names;            // source and collection ids, each once (stable addresses)
  std::vector<ExportedIndicator> indicators;
  std::vector<Entry> entries;  // store order, each (kind, value) once
  // The earliest time after `now` at which a decision or indicator expiry
  // changes the result (nullopt: none); --watch regenerates then.
  std::optional<Timestamp> next_change;
  ExportStats stats;
};

// What Collect reads of each indicator (last versions), all but its decision.
// `export --watch` keeps one between exports, so that a change of decisions
// alone re-reads nothing from the store (on a million indicators the read is
// ~2 s, the resolution ~0.1 s); the caller clears it when a collection changes.
struct IndicatorCache {
  struct Indicator {
    std::string id;
    std::string_view source, collection;  // into `names`
    std::optional<Timestamp> valid_until;
    bool revoked = false;
    bool stix = false;       // pattern_type stix
    bool reducible = false;  // stix, and the pattern's values decide it
    uint32_t first_value = 0, values = 0;  // range of `entries`
  };
  bool filled = false;
  std::deque<std::string> names;
  std::vector<Indicator> indicators;
  std::vector<Entry> entries;  // an indicator's values: [first_value, first_value + values)
  void Clear() { *this = IndicatorCache(); }
};

// `keep_bytes`: keep each exported indicator's JSON (only the STIX render needs
// it; the cache is then neither read nor filled). `cache`: read from it when
// filled, else fill it from the store (nullptr: read the store, keep nothing).
Result<ExportSet> Collect(store::Store& store, std::vector<decide::Decision> in_force, const WarningCheck& warning,
                          Timestamp now, bool keep_bytes, IndicatorCache* cache = nullptr);

struct RenderOptions {
  int64_t serial = 0;           // RPZ SOA serial
  // RPZ: the zone's name at the resolvers. A trigger whose name under it would
  // pass DNS's 255-byte limit is left out (a resolver would refuse the zone).
  std::string rpz_zone = "rpz.local";
  // Suricata: the rules load their IP lists as NAME.ipv4.lst / NAME.ipv6.lst
  // (Render writes them with suffixes ".ipv4.lst"/".ipv6.lst"; NAME is the
  // output's file name, so rules and lists sit side by side).
  std::string dataset_basename = "cordon.rules";
};

// One file of a render; `suffix` is appended to the output path ("" = the file itself).
struct OutputFile {
  std::string suffix;
  std::string content;
};

// The RPZ render holds this token where the serial goes, so that a digest of
// the content can be taken before the serial is chosen.
inline constexpr std::string_view kSerialToken = "@SERIAL@";
std::vector<OutputFile> Render(Format format, const ExportSet& set, const RenderOptions& options);

// Replaces `path` with `content` atomically: a temporary file in the same
// directory is written and fsynced, renamed over `path`, and the directory is
// fsynced; readers see the old file or the new one, never a mix.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view content);

// Runs `command` through /bin/sh -c and waits; an error if it cannot start or
// exits non-zero (with its status).
Status RunCommand(const std::string& command);

}  // namespace cordon::exporter
