#include "federation/sync.h"

#include <simdjson.h>

#include <atomic>
#include <thread>
#include <unordered_map>

#include "audit/audit_log.h"
#include "base/json_writer.h"
#include "federation/agreement.h"
#include "federation/signature.h"
#include "federation/sync_client.h"
#include "ingest/ingest.h"
#include "store/sqlite/db.h"

namespace cordon::federation {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS sync_checkpoint(peer TEXT NOT NULL, direction TEXT NOT NULL,"
    " collection TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(peer, direction, collection));"
    "CREATE TABLE IF NOT EXISTS sync_rejected(peer TEXT NOT NULL, collection TEXT NOT NULL,"
    " object_id TEXT NOT NULL, version TEXT NOT NULL, reason TEXT NOT NULL, at TEXT NOT NULL);";

// The types of our own analysis a partner gets back.
const std::vector<std::string> kPushTypes = {"sighting", "report", "note", "opinion"};

bool Retryable(const Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
}

// What an object of ours refers to and who made it.
struct OwnObjectRefs {
  std::string created_by;
  std::vector<std::string> refs;  // sighting_of_ref, object_refs
};

OwnObjectRefs ReadRefs(const std::string& json) {
  OwnObjectRefs out;
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  simdjson::ondemand::object obj;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS || doc.get_object().get(obj) != simdjson::SUCCESS) {
    return out;
  }
  for (auto field : obj) {
    std::string_view key, v;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) break;
    if (key == "created_by_ref") {
      if (field.value().get_string().get(v) == simdjson::SUCCESS) out.created_by = std::string(v);
    } else if (key == "sighting_of_ref") {
      if (field.value().get_string().get(v) == simdjson::SUCCESS) out.refs.emplace_back(v);
    } else if (key == "object_refs") {
      simdjson::ondemand::array arr;
      if (field.value().get_array().get(arr) != simdjson::SUCCESS) continue;
      for (auto el : arr) {
        if (el.get_string().get(v) == simdjson::SUCCESS) out.refs.emplace_back(v);
      }
    }
  }
  return out;
}

// Counts from a TAXII status resource.
void StatusCounts(const std::string& json, int64_t& success, int64_t& failure) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return;
  int64_t v = 0;
  if (doc["success_count"].get_int64().get(v) == simdjson::SUCCESS) success = v;
  if (doc["failure_count"].get_int64().get(v) == simdjson::SUCCESS) failure = v;
}

}  // namespace

struct SyncEngine::Impl {
  std::string data_dir;
  store::Store* store;
  std::string our_identity;
  std::optional<NodeIdentity> identity;
  SyncOptions options;
  std::unique_ptr<PeerStore> peers;
  std::unique_ptr<sqlite::Connection> db;
  std::unique_ptr<audit::AuditLog> audit;  // every push is recorded before it is sent
  std::atomic<bool> stop{false};

  // `f` (returning Result<T>) retried with exponential back-off on transport errors.
  template <typename F>
  auto WithRetries(F&& f) -> decltype(f()) {
    auto backoff = options.first_backoff;
    for (int attempt = 1;; ++attempt) {
      auto r = f();
      if (r.ok() || !Retryable(r.status()) || attempt >= options.max_attempts || stop) return r;
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
  }

  Result<std::string> Checkpoint(const std::string& peer, const char* direction, const std::string& collection) {
    CORDON_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                            db->Prepare("SELECT value FROM sync_checkpoint WHERE peer=? AND direction=? AND collection=?"));
    sqlite::BindText(s, 1, peer);
    sqlite::BindText(s, 2, direction);
    sqlite::BindText(s, 3, collection);
    CORDON_ASSIGN_OR_RETURN(bool row, sqlite::Step(*db, s, "reading a sync checkpoint"));
    std::string v = row ? sqlite::ColumnText(s, 0) : "";
    sqlite3_reset(s);
    return v;
  }

  Status SetCheckpoint(const std::string& peer, const char* direction, const std::string& collection,
                       const std::string& value) {
    CORDON_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                            db->Prepare("INSERT OR REPLACE INTO sync_checkpoint(peer, direction, collection, value)"
                                        " VALUES(?,?,?,?)"));
    sqlite::BindText(s, 1, peer);
    sqlite::BindText(s, 2, direction);
    sqlite::BindText(s, 3, collection);
    sqlite::BindText(s, 4, value);
    return sqlite::Done(*db, s, "writing a sync checkpoint");
  }

  Status RecordRejections(const std::string& peer, const std::string& collection, const ingest::Report& report) {
    if (report.rejected == 0) return absl::OkStatus();
    return db->InTransaction([&]() -> Status {
      CORDON_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                              db->Prepare("INSERT INTO sync_rejected(peer, collection, object_id, version, reason, at)"
                                          " VALUES(?,?,?,?,?,?)"));
      std::string now = FormatTimestamp(Now());
      for (const auto& o : report.objects) {
        if (o.outcome != ingest::ObjectOutcome::kRejected) continue;
        sqlite::BindText(s, 1, peer);
        sqlite::BindText(s, 2, collection);
        sqlite::BindText(s, 3, o.id);
        sqlite::BindText(s, 4, o.version);
        sqlite::BindText(s, 5, o.reason);
        sqlite::BindText(s, 6, now);
        CORDON_RETURN_IF_ERROR(sqlite::Done(*db, s, "recording a rejected object"));
      }
      return absl::OkStatus();
    });
  }

  Status Pull(TaxiiClient& client, const Peer& peer, const std::string& remote, const std::string& local,
              const ingest::ObjectCheck& check, SyncReport& report) {
    CORDON_ASSIGN_OR_RETURN(std::string added_after, Checkpoint(peer.name, "pull", remote));
    std::string next;
    while (!stop) {
      CORDON_ASSIGN_OR_RETURN(ObjectsPage page, WithRetries([&] {
                                return client.GetObjects(remote, added_after, next, options.page_size);
                              }));
      ++report.pages;
      auto ingested = ingest::IngestDocument(*store, local, page.body, check);
      if (!ingested.ok()) {
        return Status(ingested.status().code(), "storing a page from " + peer.name + " collection " + remote +
                                                    ": " + std::string(ingested.status().message()));
      }
      report.pulled_added += ingested->added;
      report.pulled_unchanged += ingested->unchanged;
      report.pulled_rejected += ingested->rejected;
      for (const auto& o : ingested->objects) {
        if (o.outcome == ingest::ObjectOutcome::kRejected && report.rejections.size() < 5) {
          report.rejections.push_back(o.id + ": " + o.reason);
        }
      }
      CORDON_RETURN_IF_ERROR(RecordRejections(peer.name, local, *ingested));
      // Stored durably: only now may the checkpoint move past this page.
      if (!page.date_added_last.empty() && page.date_added_last != added_after) {
        CORDON_RETURN_IF_ERROR(SetCheckpoint(peer.name, "pull", remote, page.date_added_last));
      }
      if (!page.more) break;
      if (!page.next.empty()) {
        next = page.next;  // same added_after, the partner's cursor
      } else if (!page.date_added_last.empty()) {
        added_after = page.date_added_last;
        next.clear();
      } else {
        return absl::DataLossError("partner " + peer.name + " answered more=true without next or date_added");
      }
    }
    return absl::OkStatus();
  }

  // The creator of the object `id` (searched in `collections`), cached.
  Result<std::string> CreatorOf(const std::string& id, const std::vector<std::string>& collections,
                                std::unordered_map<std::string, std::string>& cache) {
    if (auto it = cache.find(id); it != cache.end()) return it->second;
    std::string creator;
    for (const auto& col : collections) {
      CORDON_ASSIGN_OR_RETURN(store::Page p, store->QueryObjects({.collection = col, .ids = {id}, .limit = 1}));
      if (!p.items.empty()) {
        creator = ReadRefs(p.items.front().bytes).created_by;
        break;
      }
    }
    cache[id] = creator;
    return creator;
  }

  // Our objects that concern the partner, from the collections its --push
  // maps, go out as they would over TAXII to that partner: only what its
  // agreement lets it see (types, TLP ceiling, never TLP:RED, personal-data
  // types), its personal-data properties redacted; each envelope is audited
  // before it is sent.
  Status Push(TaxiiClient& client, const Peer& peer, const std::string& local, const std::string& remote,
              SyncReport& report) {
    const Agreement agreement(peer);
    CORDON_ASSIGN_OR_RETURN(std::string cp, Checkpoint(peer.name, "push", local));
    std::optional<Timestamp> added_after;
    if (!cp.empty()) {
      CORDON_ASSIGN_OR_RETURN(Timestamp t, ParseTimestamp(cp));
      added_after = t;
    }
    std::vector<std::string> where = {local};
    for (const auto& [r, l] : peer.pull) {
      if (l != local) where.push_back(l);
    }
    std::unordered_map<std::string, std::string> creators;
    int64_t cursor = 0;
    while (!stop) {
      store::ObjectQuery q{.collection = local, .added_after = added_after, .types = kPushTypes,
                           .after_cursor = cursor, .limit = options.push_batch};
      q.version.all = true;
      CORDON_ASSIGN_OR_RETURN(store::Page page, store->QueryObjects(q));
      if (page.items.empty()) break;
      std::string envelope = "{\"objects\":[";
      std::vector<std::string> ids;
      for (const auto& item : page.items) {
        OwnObjectRefs o = ReadRefs(item.bytes);
        if (o.created_by != our_identity) continue;  // only our own analysis goes back
        bool concerns_partner = false;
        for (const auto& ref : o.refs) {
          CORDON_ASSIGN_OR_RETURN(std::string creator, CreatorOf(ref, where, creators));
          if (creator == peer.identity_id) {
            concerns_partner = true;
            break;
          }
        }
        if (!concerns_partner) continue;
        if (!agreement.Visible(item.type, item.bytes)) {
          ++report.push_withheld;
          continue;
        }
        // As over TAXII: a version goes out only while the object's latest
        // version is visible (re-marked RED since, its history stays home).
        store::ObjectQuery latest_query{.collection = local, .ids = {item.id}, .limit = 1};
        latest_query.version.last = true;
        CORDON_ASSIGN_OR_RETURN(store::Page latest, store->QueryObjects(latest_query));
        if (!latest.items.empty() && latest.items.front().version != item.version &&
            !agreement.Visible(latest.items.front().type, latest.items.front().bytes)) {
          ++report.push_withheld;
          continue;
        }
        std::string served;
        agreement.AppendServed(item.bytes, served);  // drops our signature if it redacted anything
        if (served.find(kSignatureExtension) == std::string::npos) {
          CORDON_ASSIGN_OR_RETURN(served, Sign(served, identity->key, our_identity));
        }
        if (!ids.empty()) envelope += ',';
        envelope += served;
        ids.push_back(item.id);
      }
      envelope += "]}";
      if (!ids.empty()) {
        std::string details = "{\"collection\":";
        AppendJsonString(details, local);
        details += ",\"remote_collection\":";
        AppendJsonString(details, remote);
        details += "}";
        CORDON_RETURN_IF_ERROR(audit->Append(peer.name, "sync.push", ids, details));
        CORDON_ASSIGN_OR_RETURN(std::string status,
                                WithRetries([&] { return client.PostEnvelope(remote, envelope); }));
        int64_t ok = 0, failed = 0;
        StatusCounts(status, ok, failed);
        report.pushed += ok;
        report.push_failed += failed;
      }
      // Accepted by the partner (or nothing to send): advance.
      CORDON_RETURN_IF_ERROR(SetCheckpoint(peer.name, "push", local, FormatTimestamp(page.items.back().date_added)));
      if (!page.more) break;
      cursor = page.next_cursor;
    }
    return absl::OkStatus();
  }
};

SyncEngine::SyncEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SyncEngine::~SyncEngine() = default;

Result<std::unique_ptr<SyncEngine>> SyncEngine::Open(const std::string& data_dir, store::Store& store,
                                                     std::optional<NodeIdentity> identity, SyncOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->data_dir = data_dir;
  impl->store = &store;
  if (identity) impl->our_identity = identity->id;
  impl->identity = std::move(identity);
  impl->options = options;
  CORDON_ASSIGN_OR_RETURN(impl->peers, PeerStore::Open(FederationDbPath(data_dir)));
  CORDON_ASSIGN_OR_RETURN(impl->db, sqlite::Connection::Open(FederationDbPath(data_dir)));
  CORDON_RETURN_IF_ERROR(impl->db->Exec(kSchema));
  CORDON_ASSIGN_OR_RETURN(impl->audit, audit::AuditLog::Open(audit::AuditLogPath(data_dir)));
  return std::unique_ptr<SyncEngine>(new SyncEngine(std::move(impl)));
}

void SyncEngine::RequestStop() { impl_->stop = true; }

Result<std::string> SyncEngine::PullCheckpoint(const std::string& peer, const std::string& remote_collection) {
  return impl_->Checkpoint(peer, "pull", remote_collection);
}

SyncReport SyncEngine::SyncPeer(const Peer& peer, const std::vector<Peer>& all) {
  SyncReport report;
  report.peer = peer.name;
  TaxiiClientOptions co{.url = peer.url, .user = peer.remote_user, .password = peer.remote_password,
                        .ca_file = peer.ca_file, .connect_timeout = impl_->options.connect_timeout,
                        .io_timeout = impl_->options.io_timeout};
  auto client = TaxiiClient::Create(co);
  if (!client.ok()) {
    report.errors.push_back(std::string(client.status().message()));
    return report;
  }
  ingest::ObjectCheck check = SignatureCheckFor(all);
  for (const auto& [remote, local] : peer.pull) {
    if (Status s = impl_->Pull(**client, peer, remote, local, check, report); !s.ok()) {
      report.errors.push_back("pull " + remote + " -> " + local + ": " + std::string(s.message()));
    }
  }
  if (!impl_->our_identity.empty() && !peer.identity_id.empty()) {
    for (const auto& [local, remote] : peer.push) {
      if (Status s = impl_->Push(**client, peer, local, remote, report); !s.ok()) {
        report.errors.push_back("push " + local + " -> " + remote + ": " + std::string(s.message()));
      }
    }
  }
  return report;
}

Result<std::vector<SyncReport>> SyncEngine::SyncOnce(const std::string& only_peer) {
  CORDON_ASSIGN_OR_RETURN(auto snapshot, impl_->peers->Snapshot());
  const std::vector<Peer>& all = snapshot->peers;
  std::vector<SyncReport> reports;
  bool found = only_peer.empty();
  for (const auto& bad : snapshot->unreadable) {  // reported, not synced; the others go on
    if (!only_peer.empty() && bad.name != only_peer) continue;
    found = true;
    SyncReport r;
    r.peer = bad.name;
    r.errors.push_back("the peer's record cannot be read (" + bad.why + "): not synced; `peer remove` it and add it again");
    reports.push_back(std::move(r));
  }
  for (const auto& p : all) {
    if (!only_peer.empty() && p.name != only_peer) continue;
    found = true;
    if (p.url.empty() || impl_->stop) continue;
    reports.push_back(SyncPeer(p, all));
  }
  if (!found) return absl::NotFoundError("no peer named '" + only_peer + "'");
  return reports;
}

std::string FormatSyncReport(const SyncReport& r) {
  std::string s = r.peer + ": pulled " + std::to_string(r.pulled_added) + " new, " +
                  std::to_string(r.pulled_unchanged) + " unchanged, " + std::to_string(r.pulled_rejected) +
                  " rejected in " + std::to_string(r.pages) + " pages; pushed " + std::to_string(r.pushed) +
                  " (" + std::to_string(r.push_failed) + " refused)";
  if (r.push_withheld) s += ", " + std::to_string(r.push_withheld) + " withheld by the agreement";
  for (const auto& e : r.rejections) s += "\n  rejected " + e;
  for (const auto& e : r.errors) s += "\n  error: " + e;
  return s;
}

Result<std::vector<SyncRejection>> ListRejections(const std::string& data_dir, const std::string& peer, int limit) {
  CORDON_ASSIGN_OR_RETURN(auto db, sqlite::Connection::Open(FederationDbPath(data_dir)));
  CORDON_RETURN_IF_ERROR(db->Exec(kSchema));
  // rowid order is insertion order (the table is append-only).
  CORDON_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                          db->Prepare("SELECT at, peer, collection, object_id, version, reason FROM sync_rejected"
                                      " WHERE ?1 = '' OR peer = ?1 ORDER BY rowid DESC LIMIT ?2"));
  sqlite::BindText(s, 1, peer);
  sqlite3_bind_int64(s, 2, limit);
  std::vector<SyncRejection> out;
  while (true) {
    CORDON_ASSIGN_OR_RETURN(bool row, sqlite::Step(*db, s, "reading sync rejections"));
    if (!row) break;
    out.push_back({sqlite::ColumnText(s, 0), sqlite::ColumnText(s, 1), sqlite::ColumnText(s, 2),
                   sqlite::ColumnText(s, 3), sqlite::ColumnText(s, 4), sqlite::ColumnText(s, 5)});
  }
  sqlite3_reset(s);
  return out;
}

std::string FormatRejection(const SyncRejection& r) {
  return r.at + " " + r.peer + " " + r.collection + " " + r.object_id + " " + (r.version.empty() ? "-" : r.version) +
         ": " + r.reason;
}

}  // namespace cordon::federation
