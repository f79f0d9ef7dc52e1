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
  //  kOnCommit:   the commit that passes ~32 MiB of WAL does, on the writer's
  //               thread (short-lived commands, tests);
  //  kBackground: a thread of the store, with a connection of its own, when a
  //               commit passes ~32 MiB and at least once a second (a server:
  //               commits do not wait for it, and it also copies what other
  //               processes, e.g. `cordon import`, committed);
  //  kDeferred:   none while open: a process that writes one large
  //               transaction leaves it to a running server's checkpointer, or
  //               to its own close if it is the last connection (SQLite
  //               checkpoints then).
  enum class Checkpoint { kOnCommit, kBackground, kDeferred };
  Checkpoint checkpoint = Checkpoint::kOnCommit;
};

// Opens (creating if needed, migrating the schema) the store at `path`.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::filesystem::path& path,
                                               const SqliteOptions& options = {});

}  // namespace cordon::store
