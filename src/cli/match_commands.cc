// match: running logs against the node's indicators, writing alerts and sightings.
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <ctime>

#include "absl/strings/str_format.h"

#include "base/json_writer.h"
#include "cli/common.h"
#include "events/decoder.h"
#include "events/input.h"
#include "events/sightings.h"
#include "federation/identity.h"
#include "federation/signature.h"
#include "ingest/ingest.h"
#include "match/index.h"
#include "match/loader.h"

namespace cordon::cli {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void OnStopSignal(int) { g_stop.store(true); }

struct MatchOptions {
  std::string data, api_root = kDefaultApiRoot;
  std::vector<std::string> collections;
  std::string indicators_file;
  std::string format;
  bool follow = false;
  std::string sightings_to;
  std::string alerts;
  int64_t window_seconds = 3600;
  double reload_seconds = 5;
  std::vector<std::string> logs;
};

// --- indicators -------------------------------------------------------------

// `stdin_bundle`: the indicators read from standard input once (--indicators -),
// so that a rebuild under --follow sees them again.
Result<std::shared_ptr<const match::Index>> BuildIndex(store::Store* st, const MatchOptions& o,
                                                       const std::string& stdin_bundle, std::ostream* report) {
  match::IndicatorLoader loader;
  for (const auto& c : o.collections) CORDON_RETURN_IF_ERROR(loader.AddCollection(*st, c));
  if (o.indicators_file == "-") {
    CORDON_RETURN_IF_ERROR(loader.AddJson(stdin_bundle, "-"));
  } else if (!o.indicators_file.empty()) {
    CORDON_RETURN_IF_ERROR(loader.AddFile(o.indicators_file));
  }
  CORDON_ASSIGN_OR_RETURN(auto index, match::Index::Build(loader.Take()));
  if (report) {
    *report << "indicators: " << index->report().Summary() << "\n";
    for (const auto& p : loader.report().problems) {
      *report << "  left out " << p.source << " " << p.id << ": " << p.reason << "\n";
    }
    for (const auto& r : index->report().rejected) *report << "  rejected " << r.id << ": " << r.reason << "\n";
    for (const auto& w : index->report().warnings) *report << "  warning " << w.id << ": " << w.reason << "\n";
  }
  return index;
}

// What the indicator collections held at the last build: rebuilding is due
// when objects were added (date_added beyond the newest seen) or deleted (count).
struct SourceState {
  std::map<std::string, std::pair<int64_t, Timestamp>> per_collection;  // count, newest date_added
};

// Updates `state`; true if anything changed since the previous call.
Result<bool> SourcesChanged(store::Store& st, const MatchOptions& o, SourceState* state) {
  bool changed = false;
  for (const auto& c : o.collections) {
    CORDON_ASSIGN_OR_RETURN(int64_t n, st.CountObjects(c));
    auto& [count, newest] = state->per_collection[c];
    store::ObjectQuery q;
    q.collection = c;
    q.version.all = true;
    q.added_after = newest;
    q.limit = 1000;
    q.with_bytes = false;
    while (true) {
      CORDON_ASSIGN_OR_RETURN(store::Page page, st.QueryObjects(q));
      for (const auto& item : page.items) {
        if (newest < item.date_added) newest = item.date_added;
        changed = true;
      }
      if (!page.more) break;
      q.after_cursor = page.next_cursor;
    }
    if (n != count) changed = true;
    count = n;
  }
  return changed;
}

// --- node identity and sightings ---------------------------------------------

// Turns a rendered sighting into the bytes stored (identity: unsigned).
// Must be deterministic: the same object gives the same bytes, so that a
// re-run can tell an unchanged sighting from a new version.
using SightingSigner = std::function<Result<std::string>(std::string_view object_json)>;

struct SightingIdentity {
  std::string id;         // identity--..., created_by_ref and where_sighted_refs of the sightings
  SightingSigner signer;  // empty: unsigned
};

// Who the sightings are made by, its objects stored in the sightings
// collection so that references resolve:
//  - a node with a federation identity (DATA/identity.json + key, `cordon
//    identity init`): that identity; every sighting is signed with its key at
//    creation (detached Ed25519, federation/signature.h), so it verifies
//    wherever it goes; the extension-definition is stored beside it;
//  - otherwise DATA/node-identity.json (created on first use), unsigned.
// A federation identity that cannot be loaded (missing or exposed key) is an
// error rather than a silent fallback to unsigned sightings.
Result<SightingIdentity> SightingsIdentity(const std::string& data, store::Store& st, const std::string& collection) {
  std::vector<std::string> objects;
  SightingIdentity out;
  if (fs::exists(fs::path(data) / "identity.json")) {
    CORDON_ASSIGN_OR_RETURN(federation::NodeIdentity node, federation::LoadIdentity(data));
    CORDON_ASSIGN_OR_RETURN(std::string definition, federation::SignedExtensionDefinition(node));
    objects = {node.object_json, std::move(definition)};
    out.id = node.id;
    out.signer = [key = node.key, id = node.id](std::string_view json) { return federation::Sign(json, key, id); };
  } else {
    fs::path file = fs::path(data) / "node-identity.json";
    std::string json;
    if (fs::exists(file)) {
      std::ifstream f(file);
      json.assign(std::istreambuf_iterator<char>(f), {});
    } else {
      char host[256] = "cordon node";
      gethostname(host, sizeof host - 1);
      json = events::NewNodeIdentityJson(std::string("cordon node ") + host);
      std::ofstream f(file);
      f << json;
      if (!f) return absl::UnavailableError("cannot write " + file.string());
    }
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::string_view id;
    if (parser.parse(json).get(doc) != simdjson::SUCCESS || doc["id"].get(id) != simdjson::SUCCESS ||
        !id.starts_with("identity--")) {
      return absl::InvalidArgumentError(file.string() + ": not a STIX identity object");
    }
    out.id = std::string(id);
    objects = {std::move(json)};
  }
  std::vector<std::string_view> views(objects.begin(), objects.end());
  CORDON_ASSIGN_OR_RETURN(auto report, ingest::IngestObjects(st, collection, views, stix::DefaultVersion::kInfer));
  for (const auto& r : report.objects) {
    if (r.outcome == ingest::ObjectOutcome::kRejected) {
      return absl::InvalidArgumentError("storing the node identity " + r.id + ": " + r.reason);
    }
  }
  return out;
}

class SightingWriter {
 public:
  SightingWriter(store::Store& st, std::string collection, events::SightingAggregator& agg, SightingSigner signer)
      : st_(st), collection_(std::move(collection)), agg_(agg), signer_(std::move(signer)) {}

  // Writes every sighting changed since the last flush as a new version,
  // except those whose stored latest version already says the same (same
  // counts and times: a re-run over the same logs writes nothing).
  Result<size_t> Flush() {
    auto changed = agg_.TakeChanged();
    if (changed.empty()) return 0;
    // The latest stored version of sightings this process has not written
    // yet (a re-run versions the same objects, keeping `created`).
    std::vector<std::string> unknown;
    for (const auto& s : changed) if (!stored_.contains(s.id)) unknown.push_back(s.id);
    simdjson::dom::parser parser;
    for (size_t i = 0; i < unknown.size(); i += 200) {
      store::ObjectQuery q;
      q.collection = collection_;
      q.ids.assign(unknown.begin() + i, unknown.begin() + std::min(unknown.size(), i + 200));
      q.limit = 1000;
      CORDON_ASSIGN_OR_RETURN(store::Page page, st_.QueryObjects(q));
      for (auto& o : page.items) {
        simdjson::dom::element doc;
        std::string_view created;
        if (parser.parse(o.bytes).get(doc) != simdjson::SUCCESS || doc["created"].get(created) != simdjson::SUCCESS) continue;
        auto t = ParseTimestamp(created);
        if (!t.ok()) continue;
        if (last_modified_ < o.version) last_modified_ = o.version;
        stored_[o.id] = Stored{*t, o.version, std::move(o.bytes)};
      }
    }
    Timestamp now = Now();
    now.ns -= now.ns % 1'000'000;  // rendered with millisecond precision
    if (now <= last_modified_) now.ns = last_modified_.ns + 1'000'000;
    std::vector<std::string> objects;
    std::vector<const events::SightingAggregator::Sighting*> sightings;
    objects.reserve(changed.size());
    for (const auto& s : changed) {
      auto it = stored_.find(s.id);
      if (it != stored_.end()) {
        // Rendered as the stored version would be: identical bytes => nothing new.
        CORDON_ASSIGN_OR_RETURN(std::string same, Finish(agg_.Render(s, it->second.created, it->second.modified)));
        if (same == it->second.bytes) continue;
      }
      Timestamp created = it != stored_.end() ? it->second.created : now;
      CORDON_ASSIGN_OR_RETURN(std::string object, Finish(agg_.Render(s, created, now)));
      objects.push_back(std::move(object));
      sightings.push_back(&s);
    }
    if (objects.empty()) return 0;
    last_modified_ = now;
    std::vector<std::string_view> views(objects.begin(), objects.end());
    CORDON_ASSIGN_OR_RETURN(auto report, ingest::IngestObjects(st_, collection_, views, stix::DefaultVersion::kInfer));
    if (report.rejected > 0) {
      for (const auto& r : report.objects) {
        if (r.outcome == ingest::ObjectOutcome::kRejected) {
          return absl::InternalError("sighting " + r.id + " rejected: " + r.reason);
        }
      }
    }
    for (size_t i = 0; i < objects.size(); ++i) {
      auto [it, fresh] = stored_.try_emplace(sightings[i]->id, Stored{now, now, {}});
      it->second.modified = now;
      it->second.bytes = std::move(objects[i]);
    }
    written_ += static_cast<size_t>(report.added);
    return static_cast<size_t>(report.added);
  }
  size_t written() const { return written_; }

 private:
  struct Stored {
    Timestamp created, modified;
    std::string bytes;  // of the latest version
  };
  Result<std::string> Finish(std::string object) {
    if (!signer_) return object;
    return signer_(object);
  }

  store::Store& st_;
  std::string collection_;
  events::SightingAggregator& agg_;
  SightingSigner signer_;
  std::map<std::string, Stored, std::less<>> stored_;
  Timestamp last_modified_;
  size_t written_ = 0;
};

class Sink final : public match::HitSink {
 public:
  Sink(std::ostream* alerts, events::SightingAggregator* agg) : alerts_(alerts), agg_(agg) {}
  void OnHit(const match::Event& event, const match::Hit& hit) override {
    ++hits_;
    if (alerts_) {
      buf_.clear();
      events::AppendAlertJson(buf_, hit.indicator_id(), hit.key, event);
      alerts_->write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    }
    if (agg_) agg_->Add(hit.indicator_id(), event.time, hit.tlp);
  }
  uint64_t hits() const { return hits_; }

 private:
  std::ostream* alerts_;
  events::SightingAggregator* agg_;
  std::string buf_;
  uint64_t hits_ = 0;
};

int Match(Context& c, const MatchOptions& o) {
  auto format = events::ParseFormat(o.format);
  if (!format.ok()) return c.Fail(format.status());
  if (o.collections.empty() && o.indicators_file.empty()) {
    return c.Fail(absl::InvalidArgumentError("no indicators: give --collection ID and/or --indicators BUNDLE"));
  }
  if (o.indicators_file == "-" && std::find(o.logs.begin(), o.logs.end(), "-") != o.logs.end()) {
    return c.Fail(absl::InvalidArgumentError("standard input cannot hold both --indicators and a log"));
  }
  if (o.window_seconds <= 0) return c.Fail(absl::InvalidArgumentError("--window must be > 0 seconds"));
  auto st = OpenExisting(o.data);
  if (!st.ok()) return c.Fail(st.status());
  store::Store& store = **st;
  auto cols = store.ListCollections(o.api_root);
  if (!cols.ok()) return c.Fail(cols.status());
  auto require_collection = [&](const std::string& id) -> Status {
    for (const auto& col : *cols) if (col.id == id) return absl::OkStatus();
    return absl::NotFoundError("no collection '" + id + "' in API root /" + o.api_root + "/");
  };
  for (const auto& id : o.collections) if (auto s = require_collection(id); !s.ok()) return c.Fail(s);
  if (!o.sightings_to.empty()) if (auto s = require_collection(o.sightings_to); !s.ok()) return c.Fail(s);

  // Outputs first: a bad --alerts path or an unusable identity fails before
  // the (possibly long) index build, not after it.
  std::unique_ptr<std::ofstream> alert_file;
  std::ostream* alerts = nullptr;
  if (!o.alerts.empty()) {
    if (o.alerts == "-") {
      alerts = &c.out;
    } else {
      alert_file = std::make_unique<std::ofstream>(o.alerts, std::ios::app);
      if (!*alert_file) return c.Fail(absl::UnavailableError("cannot open --alerts file '" + o.alerts + "'"));
      alerts = alert_file.get();
    }
  }
  std::unique_ptr<events::SightingAggregator> agg;
  std::unique_ptr<SightingWriter> writer;
  if (!o.sightings_to.empty()) {
    auto identity = SightingsIdentity(o.data, store, o.sightings_to);
    if (!identity.ok()) return c.Fail(identity.status());
    agg = std::make_unique<events::SightingAggregator>(o.window_seconds, identity->id);
    writer = std::make_unique<SightingWriter>(store, o.sightings_to, *agg, std::move(identity->signer));
  }

  // Snapshot the sources before building, so a change during the build is seen by the reloader.
  SourceState sources;
  if (auto ch = SourcesChanged(store, o, &sources); !ch.ok()) return c.Fail(ch.status());
  std::string stdin_bundle;
  if (o.indicators_file == "-") {
    auto text = ReadAll("-", c.in);
    if (!text.ok()) return c.Fail(text.status());
    stdin_bundle = std::move(*text);
  }
  auto index = BuildIndex(&store, o, stdin_bundle, &c.err);
  if (!index.ok()) return c.Fail(index.status());
  match::IndexHolder holder(*index);

  Sink sink(alerts, agg.get());
  match::Matcher matcher(holder);

  // Following: a background thread rebuilds the index when the collections
  // change and swaps it in; the matcher picks it up before its next event.
  std::atomic<bool> done{false};
  std::mutex mu;
  std::condition_variable cv;
  std::thread reloader;
  std::atomic<uint64_t> reloads{0};
  if (o.follow && !o.collections.empty()) {
    ::signal(SIGINT, OnStopSignal);
    ::signal(SIGTERM, OnStopSignal);
    reloader = std::thread([&] {
      auto own = OpenExisting(o.data);
      if (!own.ok()) return;
      SourceState state = sources;
      std::unique_lock<std::mutex> lock(mu);
      while (!done.load()) {
        cv.wait_for(lock, std::chrono::duration<double>(o.reload_seconds), [&] { return done.load(); });
        if (done.load()) break;
        auto changed = SourcesChanged(**own, o, &state);
        if (!changed.ok() || !*changed) continue;
        auto next = BuildIndex(own->get(), o, stdin_bundle, nullptr);
        if (!next.ok()) continue;
        holder.Swap(*next);
        ++reloads;
      }
    });
  } else if (o.follow) {
    ::signal(SIGINT, OnStopSignal);
    ::signal(SIGTERM, OnStopSignal);
  }

  events::DecodeOptions dopt;
  dopt.follow = o.follow;
  dopt.errors = &c.err;
  dopt.stop = [] { return g_stop.load(); };
  auto last_flush = std::chrono::steady_clock::now();
  Status flush_status;
  auto maybe_flush = [&](bool force) {
    if (!writer || !flush_status.ok()) return;
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last_flush < std::chrono::duration<double>(o.reload_seconds)) return;
    last_flush = now;
    if (alerts) alerts->flush();
    auto r = writer->Flush();
    if (!r.ok()) flush_status = r.status();
  };
  dopt.on_idle = [&] {
    if (alerts) alerts->flush();
    maybe_flush(false);
  };
  events::DecodeStats stats;
  uint64_t n_events = 0;
  timespec cpu0{}, cpu1{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
  Status run = events::DecodeInputs(o.logs, *format, dopt, [&](const match::Event& e) {
    matcher.Match(e, sink);
    // A followed stream that never idles still flushes on time.
    if (o.follow && (++n_events & 4095) == 0) maybe_flush(false);
  }, &stats);
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
  double match_cpu = static_cast<double>(cpu1.tv_sec - cpu0.tv_sec) + (cpu1.tv_nsec - cpu0.tv_nsec) / 1e9;
  if (reloader.joinable()) {
    done.store(true);
    cv.notify_all();
    reloader.join();
  }
  if (alerts) alerts->flush();
  maybe_flush(true);
  c.err << stats.lines << " lines, " << stats.events << " events, " << stats.malformed << " malformed, "
        << sink.hits() << " hits";
  if (writer) c.err << ", " << writer->written() << " sighting versions written to " << o.sightings_to;
  if (reloads.load() > 0) c.err << ", " << reloads.load() << " index reloads";
  // CPU time of the reading/decoding/matching thread alone (not the index build).
  c.err << "; read+decode+match " << absl::StrFormat("%.3f", match_cpu) << " s CPU ("
        << absl::StrFormat("%.0f", match_cpu > 0 ? static_cast<double>(stats.bytes) / 1048576.0 / match_cpu : 0.0)
        << " MB/s)";
  c.err << "\n";
  if (!run.ok()) return c.Fail(run);
  if (!flush_status.ok()) return c.Fail(flush_status);
  return 0;
}

}  // namespace

void AddMatchCommands(Registrar& r) {
  auto o = std::make_shared<MatchOptions>();
  Context& c = r.c;
  auto& action = r.action;
  auto* cmd = r.app.add_subcommand("match", "match logs against the node's indicators: alerts and sightings");
  AddDataOption(cmd, o->data);
  cmd->add_option("--api-root", o->api_root, "API root of the collections")->capture_default_str();
  cmd->add_option("--collection", o->collections, "collection whose indicators to match (repeatable)");
  cmd->add_option("--indicators", o->indicators_file, "STIX bundle (or JSON list) of indicators ('-' = stdin)");
  cmd->add_option("--format", o->format, "log format: zeek (TSV or JSON), eve, lines")->required();
  cmd->add_flag("--follow", o->follow, "keep reading growing files (survives rotation); stop with SIGINT/SIGTERM");
  cmd->add_option("--sightings-to", o->sightings_to,
                  "collection to write STIX sightings into (signed with the node's key if it has an identity)");
  cmd->add_option("--alerts", o->alerts, "append alerts as JSON lines to FILE ('-' = stdout)");
  cmd->add_option("--window", o->window_seconds, "sighting aggregation window in seconds")->capture_default_str();
  cmd->add_option("--reload-seconds", o->reload_seconds,
                  "with --follow: how often to re-read indicators and flush sightings")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 3600.0));
  cmd->add_option("logs", o->logs, "log files ('-' = stdin)")->required();
  cmd->callback([o, &c, &action] { action = [o, &c] { return Match(c, *o); }; });
}

}  // namespace cordon::cli
