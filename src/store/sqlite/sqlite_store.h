// The embedded default backend: SQLite in WAL mode.
//
// One writer connection (serialised by a mutex), one reader connection per
// calling thread, so readers are never blocked by a writer. synchronous=FULL:
// a write returns only after it is durable.
#pragma once

#include <filesystem>
#include <memory>

#include "store/store.h"

namespace cordon::store {

struct SqliteOptions {
  // Page cache per connection, in KiB (bounds resident memory).
  int cache_kib = 16 * 1024;
  // Who copies the WAL back into the database file:
  //  kOnCommit:    the commit that passes ~32 MiB of WAL does, on the
  //                writer's thread (SQLite's automatic checkpoint);
  //  kAlsoWhenIdle: the same, and a thread of the store with a connection of
  //                its own checkpoints when this store has not committed for a
  //                second: it copies what other processes (`cordon import`)
  //                committed, without competing with the store's own writes
  //                (measured: a checkpointer running beside a busy writer cost
  //                ~10 % of ingest throughput on two cores);
  //  kDeferred:    none while open: a process that writes one large
  //                transaction leaves it to a running server's idle
  //                checkpointer, or to its own close if it is the last
  //                connection (SQLite checkpoints then).
  enum class Checkpoint { kOnCommit, kAlsoWhenIdle, kDeferred };
  Checkpoint checkpoint = Checkpoint::kOnCommit;
  // A bulk write (BeginBulkWrite) that finds no other connection on the
  // database runs under a rollback journal, and the database returns to WAL
  // after it: its pages go to the database file once, instead of into the
  // WAL and again by a checkpoint (a 1,000,000-indicator import: 14.1 ->
  // 11.3 s, 2 GB less written). With another connection open (a running
  // server) it stays in the WAL. Meanwhile, other processes can read; a new
  // writer waits for the bulk write (busy timeout).
  bool bulk_without_wal = false;
};

// Opens (creating if needed, migrating the schema) the store at `path`.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::filesystem::path& path,
                                               const SqliteOptions& options = {});

}  // namespace cordon::store
