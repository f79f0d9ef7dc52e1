// Sync with partner nodes: pull their collections into ours and push our own
// sightings/reports back to the partner whose indicator they concern.
//
// Crash safety (kill -9 at any moment converges, nothing lost or duplicated):
//  - pull: a page is stored through ingest (one durable store transaction,
//    upserts keyed by (id, version), so re-storing it is "unchanged"), and only
//    then is the checkpoint (the page's X-TAXII-Date-Added-Last) committed in
//    DATA/federation.db; a crash in between re-fetches that page.
//  - push: an envelope is POSTed and accepted (the partner upserts by (id,
//    version) too) before the push checkpoint (our date_added) advances.
// Objects the partner sends that fail validation or the signature rule are
// recorded in the sync_rejected table and counted, never fatal.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "federation/identity.h"
#include "federation/peers.h"
#include "store/store.h"

namespace cordon::federation {

struct SyncOptions {
  int page_size = 1000;
  int push_batch = 500;
  int max_attempts = 5;  // per request, with exponential back-off
  std::chrono::milliseconds first_backoff{200};
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds io_timeout{30000};
};

struct SyncReport {
  std::string peer;
  int64_t pulled_added = 0, pulled_unchanged = 0, pulled_rejected = 0, pages = 0;
  int64_t pushed = 0, push_failed = 0;
  int64_t push_withheld = 0;  // concerned the partner, but its agreement does not let it see them
  std::vector<std::string> rejections;  // the first few "id: reason" (all are in sync_rejected)
  std::vector<std::string> errors;  // per (peer, collection) failures; others went on
};

// The node-local state of sync (checkpoints, rejections) in DATA/federation.db.
class SyncEngine {
 public:
  // `identity`: the node's own (nullopt => nothing is pushed). Pushed objects
  // not yet signed are signed with its key on the way out (partners may
  // require signatures), the local copy staying as it is.
  static Result<std::unique_ptr<SyncEngine>> Open(const std::string& data_dir, store::Store& store,
                                                  std::optional<NodeIdentity> identity, SyncOptions options = {});
  ~SyncEngine();

  // Pull then push for every peer with a url (or only `only_peer`). NotFound if
  // `only_peer` does not exist. Per-collection errors land in the report.
  Result<std::vector<SyncReport>> SyncOnce(const std::string& only_peer = "");
  SyncReport SyncPeer(const Peer& peer, const std::vector<Peer>& all);

  // Makes a running SyncOnce return after its current request (shutdown).
  void RequestStop();

  // The pull checkpoint of (peer, remote collection) ("" if none).
  Result<std::string> PullCheckpoint(const std::string& peer, const std::string& remote_collection);

 private:
  struct Impl;
  explicit SyncEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

std::string FormatSyncReport(const SyncReport& r);

// One object a partner sent that was not stored (table sync_rejected).
struct SyncRejection {
  std::string at;  // RFC 3339, when the sync refused it
  std::string peer, collection, object_id, version, reason;
};

// The last `limit` rejections recorded by sync in DATA/federation.db, newest
// first; only those of `peer` if not empty. Empty if nothing was ever rejected.
Result<std::vector<SyncRejection>> ListRejections(const std::string& data_dir, const std::string& peer = "",
                                                  int limit = 20);
std::string FormatRejection(const SyncRejection& r);

}  // namespace cordon::federation
