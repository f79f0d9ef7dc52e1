// Collect(): from the store and the decisions in force to the exported values.
#include <simdjson.h>

#include <unordered_set>

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

Status ReadFields(simdjson::ondemand::parser& parser, std::string& bytes, IndicatorFields& f) {
  bytes.reserve(bytes.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::document doc;
  if (parser.iterate(bytes.data(), bytes.size(), bytes.capacity()).get(doc) != simdjson::SUCCESS) {
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

}  // namespace

Result<ExportSet> Collect(store::Store& store, std::vector<decide::Decision> in_force, const WarningCheck& warning,
                          Timestamp now) {
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

  simdjson::ondemand::parser parser;
  // Values of allowed indicators; values that must never be blocked.
  std::vector<Entry> allowed_entries;
  std::vector<Entry> blocked;
  std::vector<std::string> allowed_ids;

  CORDON_ASSIGN_OR_RETURN(auto roots, store.ListApiRoots());
  for (const auto& root : roots) {
    CORDON_ASSIGN_OR_RETURN(auto collections, store.ListCollections(root.name));
    for (const auto& col : collections) {
      store::ObjectQuery q;
      q.collection = col.id;
      q.types = {"indicator"};
      q.version.last = true;
      q.limit = kPage;
      while (true) {
        CORDON_ASSIGN_OR_RETURN(auto page, store.QueryObjects(q));
        for (auto& obj : page.items) {
          ++set.stats.indicators;
          IndicatorFields f;
          if (Status st = ReadFields(parser, obj.bytes, f); !st.ok()) {
            return absl::InternalError("collection " + col.id + ", object " + obj.id + ": " +
                                       std::string(st.message()));
          }
          const decide::Decision* d = resolver.Effective(obj.id, f.source, col.id);
          if (!d || d->action == decide::Action::kMonitor) continue;
          if (f.pattern_type != "stix") {
            if (d->action == decide::Action::kBlock) ++set.stats.not_reducible;
            continue;
          }
          bool expired = f.revoked;
          if (!f.valid_until.empty()) {
            auto until = ParseTimestamp(f.valid_until);
            if (until.ok()) {
              if (*until <= now) expired = true;
              else note_change(*until);
            }
          }
          if (expired && d->action == decide::Action::kBlock) {
            ++set.stats.expired;
            continue;
          }
          uint32_t index = static_cast<uint32_t>(set.indicators.size());
          auto values = ValuesOf(f.pattern, f.spec_version == "2.0", index);
          if (!values.ok()) {
            if (d->action == decide::Action::kBlock) ++set.stats.not_reducible;
            continue;
          }
          if (d->action == decide::Action::kAllow) {
            for (auto& e : *values) allowed_entries.push_back(std::move(e));
            continue;
          }
          ++set.stats.blocked;
          // The resolver holds a copy of set.decisions in the same order.
          const decide::Decision* own = &set.decisions[static_cast<size_t>(d - resolver.decisions().data())];
          set.indicators.push_back({std::string(f.id), std::string(f.source), col.id, std::move(obj.bytes), own});
          for (auto& e : *values) blocked.push_back(std::move(e));
        }
        if (!page.more) break;
        q.after_cursor = page.next_cursor;
      }
    }
  }

  std::unordered_set<EntryKey, EntryKeyHash> excluded;
  for (const auto& e : allowed_entries) excluded.insert({e.kind, e.value});
  std::unordered_set<EntryKey, EntryKeyHash> seen;
  seen.reserve(blocked.size());
  set.entries.reserve(blocked.size());
  for (auto& e : blocked) {
    EntryKey key{e.kind, e.value};
    if (excluded.contains(key)) {
      ++set.stats.allowed;
      continue;
    }
    if (warning && warning(e.kind, e.value)) {
      ++set.stats.warning_listed;
      continue;
    }
    if (seen.contains(key)) continue;
    set.entries.push_back(std::move(e));  // reserved: no reallocation, views into values stay valid
    seen.insert({set.entries.back().kind, set.entries.back().value});
  }
  return set;
}

}  // namespace cordon::exporter
