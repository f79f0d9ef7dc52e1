// Collect(): from the store and the decisions in force to the exported values.
#include <simdjson.h>

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <span>
#include <thread>

#include "export/export.h"
#include "export/values.h"

namespace cordon::exporter {
namespace {

constexpr int kPage = 5000;

// The properties of an indicator that decide its export.
struct IndicatorFields {
  std::string_view id, source, pattern, pattern_type, spec_version, valid_until;
  bool revoked = false;
};

// `f` points into `buffer` (reused across calls: no allocation per object).
Status ReadFields(simdjson::ondemand::parser& parser, std::string_view bytes, std::string& buffer,
                  IndicatorFields& f) {
  buffer.assign(bytes);
  buffer.reserve(bytes.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document doc;
  if (parser.iterate(buffer.data(), buffer.size(), buffer.capacity()).get(doc) != simdjson::SUCCESS) {
    return absl::InternalError("stored indicator is not JSON");
  }
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return absl::InternalError("stored indicator is not an object");
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return absl::InternalError("bad key");
    std::string_view* target = nullptr;
    if (key == "id") target = &f.id;
    else if (key == "created_by_ref") target = &f.source;
    else if (key == "pattern") target = &f.pattern;
    else if (key == "pattern_type") target = &f.pattern_type;
    else if (key == "spec_version") target = &f.spec_version;
    else if (key == "valid_until") target = &f.valid_until;
    if (target) {
      if (field.value().get_string().get(*target) != simdjson::SUCCESS) {
        return absl::InternalError("property '" + std::string(key) + "' is not a string");
      }
    } else if (key == "revoked") {
      bool b = false;
      if (field.value().get_bool().get(b) == simdjson::SUCCESS) f.revoked = b;
    }
  }
  return absl::OkStatus();
}

struct EntryKey {
  Entry::Kind kind;
  std::string_view value;
  bool operator==(const EntryKey&) const = default;
};
struct EntryKeyHash {
  size_t operator()(const EntryKey& k) const {
    return std::hash<std::string_view>{}(k.value) * 31 + static_cast<size_t>(k.kind);
  }
};

// A page of indicators copied out of the store into one buffer: two
// allocations per page rather than two per object (ScanObjects' rows are
// views, valid only inside its callback, and this page crosses threads).
struct RowBatch {
  struct Row {
    size_t id, id_size, bytes, bytes_size;  // offsets into `arena`
  };
  std::string arena;
  std::vector<Row> rows;

  std::string_view Id(const Row& r) const { return {arena.data() + r.id, r.id_size}; }
  std::string_view Bytes(const Row& r) const { return {arena.data() + r.bytes, r.bytes_size}; }
};

// Reads a collection's indicators (last versions) page by page on a thread of
// its own, a few pages ahead of the caller: reading the store (SQLite, copies)
// and parsing patterns then share the two cores.
class PageReader {
 public:
  PageReader(store::Store& store, const std::string& collection) {
    thread_ = std::thread([this, &store, collection] { Run(store, collection); });
  }
  ~PageReader() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // The next page; nullopt at the end.
  Result<std::optional<RowBatch>> Next() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || done_; });
    if (queue_.empty()) {
      if (!status_.ok()) return status_;
      return std::optional<RowBatch>();
    }
    RowBatch page = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return std::optional<RowBatch>(std::move(page));
  }

 private:
  static constexpr size_t kAhead = 3;
  void Run(store::Store& store, const std::string& collection) {
    store::ObjectQuery q;
    q.collection = collection;
    q.types = {"indicator"};
    q.version.last = true;
    q.limit = kPage;
    Status status;
    size_t arena_hint = 0;
    while (true) {
      RowBatch page;
      page.arena.reserve(arena_hint);
      page.rows.reserve(kPage);
      auto end = store.ScanObjects(q, [&page](const store::ObjectRow& row) {
        const size_t at = page.arena.size();
        page.rows.push_back({at, row.id.size(), at + row.id.size(), row.bytes.size()});
        page.arena += row.id;
        page.arena += row.bytes;
      });
      arena_hint = std::max(arena_hint, page.arena.size());
      std::unique_lock lock(mu_);
      if (!end.ok()) {
        status = end.status();
        break;
      }
      q.after_cursor = end->next_cursor;
      cv_.wait(lock, [&] { return queue_.size() < kAhead || stop_; });
      if (stop_) break;
      queue_.push_back(std::move(page));
      cv_.notify_all();
      if (!end->more) break;
    }
    std::lock_guard lock(mu_);
    status_ = status;
    done_ = true;
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<RowBatch> queue_;
  bool done_ = false, stop_ = false;
  Status status_;
  std::thread thread_;
};

// Reads every collection's indicators (last versions) and calls
// `visit(indicator, bytes)` for each, its values appended to `values` from
// indicator.first_value on (`visit` may keep or drop them). Source and
// collection names are kept in `names`.
template <typename Visit>
Status ReadIndicators(store::Store& store, std::deque<std::string>& names, std::vector<Entry>& values, Visit&& visit) {
  simdjson::ondemand::parser parser;
  std::string buffer;
  IndicatorCache::Indicator ind;
  CORDON_ASSIGN_OR_RETURN(auto roots, store.ListApiRoots());
  for (const auto& root : roots) {
    CORDON_ASSIGN_OR_RETURN(auto collections, store.ListCollections(root.name));
    for (const auto& col : collections) {
      std::string_view collection = names.emplace_back(col.id);
      std::string_view last_source;  // feeds come from few sources: intern the last one seen
      PageReader reader(store, col.id);
      while (true) {
        CORDON_ASSIGN_OR_RETURN(auto page, reader.Next());
        if (!page) break;
        for (const RowBatch::Row& row : page->rows) {
          const std::string_view id = page->Id(row), bytes = page->Bytes(row);
          IndicatorFields f;
          if (Status st = ReadFields(parser, bytes, buffer, f); !st.ok()) {
            return absl::InternalError("collection " + col.id + ", object " + std::string(id) + ": " +
                                       std::string(st.message()));
          }
          if (f.source != last_source) {
            last_source = f.source.empty() ? std::string_view() : std::string_view(names.emplace_back(f.source));
          }
          ind.id = id;
          ind.source = last_source;
          ind.collection = collection;
          ind.revoked = f.revoked;
          ind.valid_until.reset();
          if (!f.valid_until.empty()) {
            if (auto until = ParseTimestamp(f.valid_until); until.ok()) ind.valid_until = *until;
          }
          ind.stix = f.pattern_type == "stix";
          ind.reducible = false;
          ind.first_value = static_cast<uint32_t>(values.size());
          if (ind.stix) ind.reducible = AppendValuesOf(f.pattern, f.spec_version == "2.0", 0, values).ok();
          ind.values = static_cast<uint32_t>(values.size()) - ind.first_value;
          visit(ind, bytes);
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

Result<ExportSet> Collect(store::Store& store, std::vector<decide::Decision> in_force, const WarningCheck& warning,
                          Timestamp now, bool keep_bytes, IndicatorCache* cache) {
  ExportSet set;
  set.decisions = std::move(in_force);
  auto note_change = [&](Timestamp t) {
    if (t > now && (!set.next_change || t < *set.next_change)) set.next_change = t;
  };
  for (const auto& d : set.decisions) {
    if (d.expires) note_change(*d.expires);
  }
  decide::Resolver resolver(set.decisions);
  if (!resolver.AnyBlock()) return set;  // nothing can be exported: skip reading the store

  // Values of allowed indicators; values that must never be blocked.
  std::vector<Entry> allowed_entries;
  // The set's own copies of the cache's source and collection names.
  absl::flat_hash_map<const char*, std::string_view> names;
  auto own_name = [&](std::string_view cached) -> std::string_view {
    if (cached.empty()) return {};
    auto [it, added] = names.try_emplace(cached.data());
    if (added) it->second = set.names.emplace_back(cached);
    return it->second;
  };
  // Applies the decisions to one indicator; `consume`: its id and values may be moved from.
  auto consider = [&](IndicatorCache::Indicator& ind, std::span<Entry> values, std::string_view bytes, bool consume) {
    ++set.stats.indicators;
    const decide::Decision* d = resolver.Effective(ind.id, ind.source, ind.collection);
    if (!d || d->action == decide::Action::kMonitor) return;
    const bool allow = d->action == decide::Action::kAllow;
    if (!ind.stix) {
      if (!allow) ++set.stats.not_reducible;
      return;
    }
    bool expired = ind.revoked;
    if (ind.valid_until) {
      if (*ind.valid_until <= now) expired = true;
      else note_change(*ind.valid_until);
    }
    if (expired && !allow) {
      ++set.stats.expired;
      return;
    }
    if (!ind.reducible) {
      if (!allow) ++set.stats.not_reducible;
      return;
    }
    std::vector<Entry>& into = allow ? allowed_entries : set.entries;
    const auto index = static_cast<uint32_t>(set.indicators.size());
    for (Entry& e : values) (consume ? into.emplace_back(std::move(e)) : into.emplace_back(e)).indicator = index;
    if (allow) return;
    ++set.stats.blocked;
    // The resolver holds a copy of set.decisions in the same order.
    const decide::Decision* own = &set.decisions[static_cast<size_t>(d - resolver.decisions().data())];
    set.indicators.push_back({consume ? std::move(ind.id) : ind.id, own_name(ind.source), own_name(ind.collection),
                              keep_bytes ? std::string(bytes) : std::string(), own});
  };

  if (keep_bytes || !cache) {
    // One pass over the store, nothing kept.
    std::deque<std::string> read_names;
    std::vector<Entry> values;
    CORDON_RETURN_IF_ERROR(ReadIndicators(store, read_names, values, [&](auto& ind, std::string_view bytes) {
      consider(ind, std::span(values).subspan(ind.first_value), bytes, /*consume=*/true);
      values.clear();
    }));
  } else {
    if (!cache->filled) {
      Status st = ReadIndicators(store, cache->names, cache->entries, [&](const auto& ind, std::string_view) {
        cache->indicators.push_back(ind);
      });
      if (!st.ok()) {
        cache->Clear();  // never half-filled
        return st;
      }
      cache->filled = true;
    }
    set.entries.reserve(cache->entries.size());
    set.indicators.reserve(cache->indicators.size());
    for (auto& ind : cache->indicators) {
      consider(ind, std::span(cache->entries).subspan(ind.first_value, ind.values), {}, /*consume=*/false);
    }
  }

  absl::flat_hash_set<EntryKey, EntryKeyHash> excluded;
  for (const auto& e : allowed_entries) excluded.insert({e.kind, e.value});
  // Compact set.entries in place: drop excluded and repeated values, keep order.
  std::vector<Entry>& entries = set.entries;
  absl::flat_hash_set<EntryKey, EntryKeyHash> seen;  // views into entries[0, kept)
  seen.reserve(entries.size());
  size_t kept = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    Entry& e = entries[i];
    EntryKey key{e.kind, e.value};
    if (!excluded.empty() && excluded.contains(key)) {
      ++set.stats.allowed;
      continue;
    }
    bool subtree = e.kind == Entry::Kind::kDomainSuffix ||
                   (e.kind == Entry::Kind::kDomain && set.indicators[e.indicator].decision->subdomains);
    if (warning && warning(e.kind, e.value, subtree)) {
      ++set.stats.warning_listed;
      continue;
    }
    if (seen.contains(key)) continue;
    if (kept != i) entries[kept] = std::move(e);
    seen.insert({entries[kept].kind, entries[kept].value});
    ++kept;
  }
  entries.resize(kept);
  return set;
}

}  // namespace cordon::exporter
