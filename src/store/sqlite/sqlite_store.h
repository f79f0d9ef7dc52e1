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
};

// Opens (creating if needed, migrating the schema) the store at `path`.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::filesystem::path& path,
                                               const SqliteOptions& options = {});

}  // namespace cordon::store
