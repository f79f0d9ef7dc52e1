#include "feeds/importer.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <future>
#include <iterator>
#include <span>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "base/json_writer.h"
#include "base/strings.h"
#include "base/uuid.h"
#include "ingest/ingest.h"
#include "pattern/pattern.h"
#include "simdjson.h"

namespace cordon::feeds {
namespace {

using stix::Tlp;

constexpr size_t kLookupBatch = 500;  // ids per store query when reading stored versions
constexpr int64_t kScanRatio = 8;     // scan the collection when ids >= 1/8 of its versions
constexpr int kScanPage = 10000;
constexpr int kFracDigits = 6;        // timestamps written with microseconds
constexpr size_t kWriteSlice = 8192;  // items built (and written) per slice
constexpr size_t kSlicesAhead = 2;    // slices built ahead of the writer

Status Invalid(const std::string& m) { return absl::InvalidArgumentError(m); }

std::string Ts(Timestamp t) { return FormatTimestamp(t, kFracDigits); }

// An id of the form type--uuid as a hash key: the uuid's 128 bits and whether
// it is an identity (the other ids an import looks up are indicators). Far
// cheaper to hash and compare than the text, whose first 11 bytes are alike.
struct IdKey {
  uint64_t hi = 0, lo = 0;
  bool identity = false;
  friend bool operator==(const IdKey&, const IdKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const IdKey& k) {
    return H::combine(std::move(h), k.hi, k.lo, k.identity);
  }
};

// nullopt when `id` is not type--uuid (it is then none an import looks up).
// Called for every id an import makes and every stored row it scans.
std::optional<IdKey> KeyOf(std::string_view id) {
  static constexpr auto kHex = [] {
    std::array<uint8_t, 256> t{};
    t.fill(0xff);
    for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<uint8_t>(c);
    for (int c = 0; c < 6; ++c) t['a' + c] = static_cast<uint8_t>(10 + c);
    return t;
  }();
  constexpr size_t kUuid = 36;
  if (id.size() < kUuid + 3) return std::nullopt;
  const size_t at = id.size() - kUuid - 2;  // the "--"
  if (id[at] != '-' || id[at + 1] != '-') return std::nullopt;
  const char* u = id.data() + at + 2;
  if (u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-') return std::nullopt;
  IdKey key;
  key.identity = id.substr(0, at) == "identity";
  uint8_t bad = 0;
  auto hex = [&](uint64_t& half, const char* from, int n) {
    for (int k = 0; k < n; ++k) {
      const uint8_t v = kHex[static_cast<unsigned char>(from[k])];
      bad |= v;  // 0xff marks a non-digit; digits are < 16
      half = half << 4 | (v & 15);
    }
  };
  hex(key.hi, u, 8);
  hex(key.hi, u + 9, 4);
  hex(key.hi, u + 14, 4);
  hex(key.lo, u + 19, 4);
  hex(key.lo, u + 24, 12);
  if (bad & 0xf0) return std::nullopt;
  return key;
}

// The latest stored versions of the ids an import looks up; their bytes sit
// in blocks of an arena (a few allocations for a million, none copied twice).
class StoredVersions {
 public:
  struct Version {
    std::string_view bytes;  // in the arena; empty until found (Expect)
    Timestamp modified;
  };
  // Only versions of `keys` are kept from now on (a scan that passes over
  // other ids): one hash probe per scanned row instead of a set and a map.
  void Expect(std::span<const IdKey> keys) {
    expecting_ = true;
    versions_.reserve(keys.size());
    for (const IdKey& k : keys) versions_.try_emplace(k);
  }
  void Add(const IdKey& key, std::string_view bytes, Timestamp modified) {
    auto it = versions_.find(key);
    if (it == versions_.end()) {
      if (expecting_) return;
      it = versions_.try_emplace(key).first;
    } else if (!it->second.bytes.empty()) {
      return;  // the first row seen is kept
    }
    if (blocks_.empty() || blocks_.back().capacity() - blocks_.back().size() < bytes.size()) {
      blocks_.emplace_back().reserve(std::max(kBlockBytes, bytes.size()));
    }
    std::string& block = blocks_.back();  // appended within its capacity: earlier views stay valid
    block.append(bytes);
    it->second = Version{std::string_view(block).substr(block.size() - bytes.size()), modified};
  }
  const Version* Find(const IdKey& key) const {
    if (versions_.empty()) return nullptr;  // a first import
    auto it = versions_.find(key);
    return it == versions_.end() || it->second.bytes.empty() ? nullptr : &it->second;
  }
  const Version* Find(std::string_view id) const {
    auto key = KeyOf(id);
    return key ? Find(*key) : nullptr;
  }

 private:
  static constexpr size_t kBlockBytes = size_t{8} << 20;
  std::deque<std::string> blocks_;
  absl::flat_hash_map<IdKey, Version> versions_;
  bool expecting_ = false;
};

// A string property of a stored object ("" if absent).
std::string StringProp(simdjson::dom::parser& parser, std::string_view bytes, const char* key) {
  simdjson::dom::element doc;
  std::string_view s;
  if (parser.parse(bytes).get(doc) || doc[key].get_string().get(s)) return "";
  return std::string(s);
}

bool IsRevoked(simdjson::dom::parser& parser, std::string_view bytes) {
  simdjson::dom::element doc;
  bool revoked = false;
  return !parser.parse(bytes).get(doc) && !doc["revoked"].get_bool().get(revoked) && revoked;
}

// valid_until of an object written by this importer (it follows the fragment).
Timestamp ValidUntilOf(simdjson::dom::parser& parser, std::string_view bytes) {
  constexpr std::string_view kKey = "\"valid_until\":\"";
  size_t at = bytes.rfind(kKey);
  std::string text;
  if (at != std::string_view::npos) {
    size_t end = bytes.find('"', at + kKey.size());
    text = bytes.substr(at + kKey.size(), end == std::string_view::npos ? 0 : end - at - kKey.size());
  } else {
    text = StringProp(parser, bytes, "valid_until");
  }
  auto t = ParseTimestamp(text);
  return t.ok() ? *t : Timestamp{};
}

// Reads the latest stored version of each id (absent ids are not found).
// When the ids are a good part of the collection, one sequential pass over its
// latest indicators is much cheaper than a probe per id (random reads).
// `keys[k]` is KeyOf(ids[k]).
Result<StoredVersions> LookUp(store::Store& store, const std::string& collection,
                              const std::vector<std::string_view>& ids, std::span<const IdKey> keys,
                              int64_t collection_size) {
  StoredVersions out;
  if (static_cast<int64_t>(ids.size()) * kScanRatio >= collection_size) {
    out.Expect(keys);
    store::ObjectQuery q;
    q.collection = collection;
    q.types = {"indicator", "identity"};
    q.version.last = true;
    q.limit = kScanPage;
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(store::PageEnd end, store.ScanObjects(q, [&](const store::ObjectRow& row) {
        if (auto key = KeyOf(row.id)) out.Add(*key, row.bytes, row.version);
      }));
      if (!end.more) break;
      q.after_cursor = end.next_cursor;
    }
    return out;
  }
  for (size_t start = 0; start < ids.size(); start += kLookupBatch) {
    store::ObjectQuery q;
    q.collection = collection;
    q.ids.assign(ids.begin() + start, ids.begin() + std::min(ids.size(), start + kLookupBatch));
    q.version.last = true;
    q.limit = static_cast<int>(q.ids.size()) + 1;
    CORDON_RETURN_IF_ERROR(store.ScanObjects(q, [&](const store::ObjectRow& row) {
      if (auto key = KeyOf(row.id)) out.Add(*key, row.bytes, row.version);
    }).status());
  }
  return out;
}

// The properties compared between versions, as written: everything after
// "modified" up to the timestamps that follow it.
// *text_ok: every string of it was well-formed UTF-8.
std::string Fragment(const Candidate& c, const std::string& identity_id, const ImportOptions& o, bool* text_ok) {
  // Labels sorted and without repeats; views, so a row's labels are not copied.
  absl::InlinedVector<std::string_view, 8> labels(o.labels.begin(), o.labels.end());
  labels.insert(labels.end(), c.labels.begin(), c.labels.end());
  size_t label_bytes = 0;
  for (std::string_view l : labels) label_bytes += l.size() + 3;
  std::string f;
  f.reserve(identity_id.size() + c.value.size() + c.description.size() + c.pattern.size() + label_bytes + 280);
  f.append(",\"created_by_ref\":\"").append(identity_id).append("\",\"name\":");
  bool ok = AppendJsonString(f, c.value);
  if (!c.description.empty()) {
    f += ",\"description\":";
    ok &= AppendJsonString(f, c.description);
  }
  f += ",\"indicator_types\":[\"malicious-activity\"],\"pattern\":";
  ok &= AppendJsonString(f, c.pattern);
  f += ",\"pattern_type\":\"stix\",\"pattern_version\":\"2.1\"";
  if (!labels.empty()) {
    std::sort(labels.begin(), labels.end());
    labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
    f += ",\"labels\":[";
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) f += ',';
      ok &= AppendJsonString(f, labels[i]);
    }
    f += ']';
  }
  if (o.confidence) f.append(",\"confidence\":").append(std::to_string(*o.confidence));
  Tlp tlp = std::max(c.tlp, o.tlp);
  if (tlp != Tlp::kNone) f.append(",\"object_marking_refs\":[\"").append(stix::TlpMarkingId(tlp)).append("\"]");
  f += ",\"valid_from\":";
  *text_ok = ok;
  return f;
}

// Timestamps as text (formatted once per import for the common values).
std::string IndicatorJson(const std::string& id, const std::string& created, const std::string& modified,
                          const std::string& fragment, const std::string& valid_from,
                          const std::string& valid_until) {
  std::string j;
  j.reserve(fragment.size() + 220);
  j += "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"";
  j += id;
  j += "\",\"created\":\"";
  j += created;
  j += "\",\"modified\":\"";
  j += modified;
  j += '"';
  j += fragment;
  j += '"';
  j += valid_from;
  j += "\",\"valid_until\":\"";
  j += valid_until;
  j += "\"}";
  return j;
}

// The ObjectInfo stix::ValidateObject would read from the indicator
// IndicatorJson writes for `c` (ImporterTest.BuiltObjectsAreWhatValidationReads
// holds the two together).
stix::ObjectInfo BuiltInfo(const std::string& id, Timestamp created, Timestamp modified, const Candidate& c,
                           const ImportOptions& o) {
  stix::ObjectInfo info;
  info.id = id;
  info.type = "indicator";
  info.spec_version = stix::SpecVersion::k21;
  info.created = created;
  info.modified = modified;
  info.confidence = o.confidence;
  info.tlp = std::max(c.tlp, o.tlp);
  if (info.tlp != Tlp::kNone) info.object_marking_refs.emplace_back(stix::TlpMarkingId(info.tlp));
  return info;
}

// An import's indicators are admitted without parsing them back: they were
// built from a template whose only free parts are escaped strings and the
// pattern, so what can be wrong with one is its pattern (checked with the
// parser validation uses, same message) or text that is not UTF-8 (a CSV or
// list in another encoding, or a source name: `text_ok` false, as
// AppendJsonString found while building). CheckBuilt runs right after an
// object is built, while its candidate is still in cache; `pattern` is null
// for the source identity. "" when the object is fine.
std::string CheckBuilt(const std::string* pattern, bool text_ok) {
  if (!text_ok) return "the feed's text is not valid UTF-8";
  if (pattern) {
    if (Status st = pattern::Validate(*pattern, pattern::Version::k21); !st.ok()) {
      return "pattern: invalid STIX pattern: " + std::string(st.message());
    }
  }
  return "";
}

// The batch of a slice's built objects: objects[k] is described by infos[k]
// and was found wrong for problems[k] (CheckBuilt; "" if fine).
ingest::Batch AdmitBuilt(const std::vector<std::string>& objects, std::vector<stix::ObjectInfo> infos,
                         std::vector<std::string> problems) {
  ingest::Batch b;
  b.report.objects.resize(objects.size());
  b.valid.reserve(objects.size());
  b.valid_index.reserve(objects.size());
  for (size_t k = 0; k < objects.size(); ++k) {
    ingest::ObjectReport& r = b.report.objects[k];
    r.id = infos[k].id;
    if (infos[k].modified) r.version = FormatTimestamp(*infos[k].modified);
    if (!problems[k].empty()) {
      r.outcome = ingest::ObjectOutcome::kRejected;
      r.reason = std::move(problems[k]);
      continue;
    }
    b.valid_index.push_back(k);
    b.valid.push_back(store::NewObject{objects[k], std::move(infos[k])});
  }
  return b;
}

// One slice of an import, built and validated off the writing thread: the
// objects to write and the report entries it gave, each tagged with its item.
struct Slice {
  std::vector<std::string> objects;
  std::vector<size_t> object_item;  // the item of objects[k]; SIZE_MAX for the identity
  std::vector<bool> is_update;      // objects[k] is a new version of a stored indicator
  std::vector<stix::ObjectInfo> infos;  // what objects[k] is, known from building it
  std::vector<std::string> problems;     // why objects[k] is wrong (CheckBuilt), "" if it is not
  ingest::Batch batch;              // objects admitted (views into `objects`)
  // Adds a built object, checked at once (CheckBuilt: `pattern` is null for
  // the source identity).
  void Add(std::string json, size_t item, bool update, stix::ObjectInfo info, const std::string* pattern,
           bool text_ok) {
    problems.push_back(CheckBuilt(pattern, text_ok));
    objects.push_back(std::move(json));
    object_item.push_back(item);
    is_update.push_back(update);
    infos.push_back(std::move(info));
  }
  int unchanged = 0;
  std::vector<std::pair<size_t, Rejection>> rejections, skips;
  std::vector<std::pair<size_t, WarningReport>> warnings;
};

// CORDON_IMPORT_TIMING=1 prints the time of each phase to stderr (profiling).
struct PhaseTimer {
  bool on = std::getenv("CORDON_IMPORT_TIMING") != nullptr;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  void Mark(const char* phase) {
    if (!on) return;
    auto t = std::chrono::steady_clock::now();
    std::fprintf(stderr, "import phase %-10s %8.3f s\n", phase, std::chrono::duration<double>(t - last).count());
    last = t;
  }
};

}  // namespace

std::string SourceIdentityId(std::string_view source) {
  return "identity--" + NewUuid5(kFeedNamespace, "source:" + std::string(source));
}

std::string IndicatorId(std::string_view identity_id, std::string_view pattern) {
  std::string name;
  name.reserve(identity_id.size() + 1 + pattern.size());
  name.append(identity_id).append("\n").append(pattern);
  return "indicator--" + NewUuid5(kFeedNamespace, name);
}

Result<int64_t> ParseDuration(std::string_view text) {
  text = Trim(text);
  if (text.empty()) return Invalid("empty duration");
  int64_t unit = 86400;
  switch (text.back()) {
    case 'd': unit = 86400; text.remove_suffix(1); break;
    case 'h': unit = 3600; text.remove_suffix(1); break;
    case 'm': unit = 60; text.remove_suffix(1); break;
    case 's': unit = 1; text.remove_suffix(1); break;
    case 'w': unit = 7 * 86400; text.remove_suffix(1); break;
    default: break;
  }
  int64_t n = 0;
  if (text.empty() || text.size() > 6) return Invalid("duration '" + std::string(text) + "' is not like 30d, 12h");
  for (char c : text) {
    if (c < '0' || c > '9') return Invalid("duration is not like 30d, 12h, 90m, 3600s");
    n = n * 10 + (c - '0');
  }
  if (n == 0) return Invalid("a lifetime must be positive");
  return n * unit * 1000000000;
}

Result<Tlp> ParseTlp(std::string_view text) {
  std::string t = ToLower(Trim(text));
  if (t.starts_with("tlp:")) t = t.substr(4);
  if (t == "clear" || t == "white") return Tlp::kClear;
  if (t == "green") return Tlp::kGreen;
  if (t == "amber") return Tlp::kAmber;
  if (t == "amber+strict") return Tlp::kAmberStrict;
  if (t == "red") return Tlp::kRed;
  return Invalid("unknown TLP '" + std::string(text) + "' (clear, green, amber, amber+strict, red)");
}

Result<ImportReport> ImportCandidates(store::Store& store, const std::string& collection, Parsed parsed,
                                      const ImportOptions& o, const WarningLists& warning_lists) {
  if (Trim(o.source).empty()) return Invalid("an import needs a source name (--source)");
  if (o.confidence && (*o.confidence < 0 || *o.confidence > 100)) return Invalid("confidence must be 0..100");
  if (o.valid_for_ns <= 0) return Invalid("the lifetime must be positive");
  const Timestamp now{o.now ? o.now->ns : Now().ns, kFracDigits};
  const Timestamp valid_until{now.ns + o.valid_for_ns, kFracDigits};

  PhaseTimer timer;
  ImportReport report;
  report.identity_id = SourceIdentityId(Trim(o.source));
  report.rejections = std::move(parsed.rejected);
  report.skips = std::move(parsed.skipped);

  std::vector<Candidate>& items = parsed.items;
  // Report entries tagged with their item, put in input order at the end.
  std::vector<std::pair<size_t, Rejection>> rejections, skips;
  std::vector<std::pair<size_t, WarningReport>> warnings;

  // Ids (a SHA-1 each) on two cores.
  std::vector<std::string> ids(items.size());
  std::vector<IdKey> keys(items.size());  // KeyOf(ids[i])
  // With each id, its sort key: the uuid's first 64 bits, then input position.
  std::vector<std::pair<uint64_t, uint32_t>> keyed(items.size());
  {
    auto compute = [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        ids[i] = IndicatorId(report.identity_id, items[i].pattern);
        keys[i] = KeyOf(ids[i]).value_or(IdKey{});
        keyed[i] = {keys[i].hi, static_cast<uint32_t>(i)};
      }
    };
    auto second_half = std::async(std::launch::async, compute, items.size() / 2, items.size());
    compute(0, items.size() / 2);
    second_half.get();
  }
  // Items are written in id order: the store's (collection, id, version)
  // index is then filled front to back rather than at random places (ids are
  // hashes). Sorted by the uuids' first 64 bits, then input position, so one
  // indicator per pattern is kept (the first) and later duplicates, which sort
  // right after it, are skipped.
  std::vector<uint32_t> order;
  {
    std::sort(keyed.begin(), keyed.end());
    order.reserve(keyed.size());
    for (size_t n = 0, run = 0; n < keyed.size(); ++n) {
      if (n == 0 || keyed[n].first != keyed[n - 1].first) run = order.size();  // ids sharing a prefix
      const uint32_t i = keyed[n].second;
      auto first = std::find_if(order.begin() + run, order.end(), [&](uint32_t k) { return ids[k] == ids[i]; });
      if (first != order.end()) {
        skips.push_back({i, {items[i].where, items[i].value, "duplicate of " + items[*first].where}});
        continue;
      }
      order.push_back(i);
    }
  }

  timer.Mark("ids");
  StoredVersions stored;
  CORDON_ASSIGN_OR_RETURN(int64_t count, store.CountObjects(collection));
  if (count > 0) {
    std::vector<std::string_view> wanted;
    std::vector<IdKey> wanted_keys;
    wanted.reserve(order.size() + 1);
    wanted_keys.reserve(order.size() + 1);
    wanted.push_back(report.identity_id);
    wanted_keys.push_back(KeyOf(report.identity_id).value_or(IdKey{}));
    for (uint32_t i : order) {
      wanted.push_back(ids[i]);
      wanted_keys.push_back(keys[i]);
    }
    CORDON_ASSIGN_OR_RETURN(stored, LookUp(store, collection, wanted, wanted_keys, count));
  }

  timer.Mark("lookup");
  std::optional<std::string> identity;
  bool identity_text_ok = true;
  if (!stored.Find(report.identity_id)) {
    identity = "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"" + report.identity_id +
               "\",\"created\":\"" + Ts(now) + "\",\"modified\":\"" + Ts(now) + "\",\"name\":";
    identity_text_ok = AppendJsonString(*identity, Trim(o.source));
    *identity += ",\"identity_class\":\"organization\"}";
  }

  const int64_t renew_before = o.valid_for_ns / 2;
  const std::string now_text = Ts(now), valid_until_text = Ts(valid_until);
  const Timestamp now_written = *ParseTimestamp(now_text);  // `now` as the objects carry it
  stix::ObjectInfo identity_info;  // what validation would read from `identity`
  identity_info.id = report.identity_id;
  identity_info.type = "identity";
  identity_info.created = identity_info.modified = now_written;
  // Builds and validates the objects of order[begin, end): pure, so it runs on
  // a second core while the store writes the previous slice.
  auto build = [&](size_t begin, size_t end) {
    Slice slice;
    simdjson::dom::parser parser;
    if (begin == 0 && identity) {
      slice.Add(*identity, SIZE_MAX, /*update=*/false, identity_info, nullptr, identity_text_ok);
    }
    for (size_t n = begin; n < end; ++n) {
      const size_t i = order[n];
      const Candidate& c = items[i];
      bool text_ok = true;
      std::string fragment = Fragment(c, report.identity_id, o, &text_ok);
      const StoredVersions::Version* version = stored.Find(keys[i]);
      if (!version) {
        if (c.first_seen && c.first_seen->ns >= valid_until.ns) {
          slice.rejections.push_back({i, {c.where, c.value, "first_seen is after the end of the lifetime"}});
          continue;
        }
        slice.Add(IndicatorJson(ids[i], now_text, now_text, fragment,
                                c.first_seen ? Ts(Timestamp{c.first_seen->ns, kFracDigits}) : now_text,
                                valid_until_text),
                  i, /*update=*/false, BuiltInfo(ids[i], now_written, now_written, c, o), &c.pattern, text_ok);
      } else {
        const std::string_view bytes = version->bytes;
        bool same = bytes.find(fragment) != std::string_view::npos;
        if (same && ValidUntilOf(parser, bytes).ns > now.ns + renew_before) {  // no subtraction: valid_until may saturate
          ++slice.unchanged;
        } else if (IsRevoked(parser, bytes)) {
          // Revoked in the store (by an analyst or a decision): a feed does not bring it back.
          slice.skips.push_back({i, {c.where, c.value, "revoked in the store"}});
        } else {
          Timestamp modified = now;
          if (modified.ns <= version->modified.ns) modified.ns = version->modified.ns + 1000;  // strictly later (µs)
          std::string created = StringProp(parser, bytes, "created");
          std::string valid_from = StringProp(parser, bytes, "valid_from");
          if (created.empty()) created = Ts(now);
          if (valid_from.empty()) valid_from = created;
          Timestamp until{std::max(valid_until.ns, modified.ns + o.valid_for_ns), kFracDigits};
          const std::string modified_text = Ts(modified);
          slice.Add(IndicatorJson(ids[i], created, modified_text, fragment, valid_from, Ts(until)), i,
                    /*update=*/true,
                    BuiltInfo(ids[i], ParseTimestamp(created).value_or(Timestamp{}), *ParseTimestamp(modified_text),
                              c, o),
                    &c.pattern, text_ok);
        }
      }
      for (const ValueCheck& check : c.checks) {
        if (auto hit = warning_lists.Check(check.kind, check.value)) {
          slice.warnings.push_back({i, {c.where, c.value, std::move(*hit)}});
          break;
        }
      }
    }
    slice.batch = AdmitBuilt(slice.objects, std::move(slice.infos), std::move(slice.problems));
    return slice;
  };

  {
    CORDON_ASSIGN_OR_RETURN(std::unique_ptr<store::BulkWrite> write, store.BeginBulkWrite(collection));
    // Up to kSlicesAhead slices are built (on other threads) while this one
    // writes; the writer is the bottleneck of a first import, the builders
    // that of a re-import (nothing to write).
    std::deque<std::future<Slice>> ahead;
    size_t next_begin = 0;
    bool launched = false;  // a first slice even when there is no item (the identity)
    auto launch = [&] {
      while (ahead.size() < kSlicesAhead && (next_begin < order.size() || !launched)) {
        const size_t end = std::min(order.size(), next_begin + kWriteSlice);
        ahead.push_back(std::async(std::launch::async, build, next_begin, end));
        next_begin = end;
        launched = true;
      }
    };
    launch();
    // A written slice (8,192 JSON objects and their reports) is freed on
    // another thread: its frees cost the writer, the critical path, ~10 %.
    std::future<void> disposal;
    double writer_idle_s = 0;  // waiting for builders (CORDON_IMPORT_TIMING)
    while (!ahead.empty()) {
      const auto wait_start = std::chrono::steady_clock::now();
      Slice slice = ahead.front().get();
      writer_idle_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - wait_start).count();
      ahead.pop_front();
      launch();
      if (!slice.batch.valid.empty()) {
        CORDON_ASSIGN_OR_RETURN(store::PutResult put, write->Put(slice.batch.valid));
        slice.batch.Record(put);
      }
      report.unchanged += slice.unchanged;
      for (size_t k = 0; k < slice.objects.size(); ++k) {
        const size_t i = slice.object_item[k];
        if (i == SIZE_MAX) continue;  // the identity
        const ingest::ObjectReport& r = slice.batch.report.objects[k];
        switch (r.outcome) {
          case ingest::ObjectOutcome::kAdded: ++(slice.is_update[k] ? report.updated : report.added); break;
          case ingest::ObjectOutcome::kUnchanged: ++report.unchanged; break;
          case ingest::ObjectOutcome::kRejected:
            rejections.push_back({i, {items[i].where, items[i].value, r.reason}});
            break;
        }
      }
      std::move(slice.rejections.begin(), slice.rejections.end(), std::back_inserter(rejections));
      std::move(slice.skips.begin(), slice.skips.end(), std::back_inserter(skips));
      std::move(slice.warnings.begin(), slice.warnings.end(), std::back_inserter(warnings));
      if (disposal.valid()) disposal.get();
      // Moved into the task's own local: the frees run on its thread (the
      // moved-from capture, destroyed with the future's state, is empty).
      disposal = std::async(std::launch::async, [done = std::move(slice)]() mutable { Slice drop = std::move(done); });
    }
    if (disposal.valid()) disposal.get();
    if (timer.on) std::fprintf(stderr, "import writer idle (waiting for builders) %.3f s\n", writer_idle_s);
    timer.Mark("write");
    CORDON_RETURN_IF_ERROR(write->Commit());
  }
  timer.Mark("commit");
  auto append_in_input_order = [](auto& tagged, auto& out) {
    std::stable_sort(tagged.begin(), tagged.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [i, entry] : tagged) out.push_back(std::move(entry));
  };
  append_in_input_order(rejections, report.rejections);
  append_in_input_order(skips, report.skips);
  append_in_input_order(warnings, report.warnings);
  report.rejected = static_cast<int>(report.rejections.size());
  report.skipped = static_cast<int>(report.skips.size());
  return report;
}

}  // namespace cordon::feeds
