// Thin RAII layer over the SQLite C API shared by every module that keeps state
// in an SQLite file (the object store, and any module with tables of its own):
// a connection with cached prepared statements, error mapping to Status, and
// schema migrations recorded in PRAGMA user_version.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"

namespace cordon::sqlite {

// SQLite's current error on `db` as a Status: busy/locked/full/I/O errors are
// Unavailable (worth retrying later), everything else Internal.
Status SqlError(sqlite3* db, const std::string& what);

// SQLite's automatic checkpoint interval on writers, in pages (~128 MiB with
// the 16 KiB pages of a database cordon creates, ~32 MiB with 4 KiB pages)
// rather than SQLite's 1,000, so index pages that many transactions touch are
// copied into the database file once, not each time.
inline constexpr int kAutocheckpointPages = 8192;

struct ConnectionOptions {
  int cache_kib = 16 * 1024;  // page cache, bounds resident memory
  bool writer = false;        // sets WAL mode and the checkpoint interval
  // Writer only: SQLite's automatic checkpoint after a commit that leaves at
  // least this many WAL pages; 0 = none here (another thread or process does it).
  int autocheckpoint_pages = kAutocheckpointPages;
};

// A connection with its prepared statements cached by SQL text. Not thread-safe:
// one thread at a time (SQLITE_OPEN_NOMUTEX).
class Connection {
 public:
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Opens (creating if needed) `path` with synchronous=FULL, foreign keys on and
  // a 10 s busy timeout.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, const ConnectionOptions& options = {});

  Status Exec(const std::string& sql);

  // A reset statement for `sql` (fixed text), compiled once per connection and
  // kept for the connection's life.
  Result<sqlite3_stmt*> Prepare(const std::string& sql) { return PrepareIn(static_, sql, SIZE_MAX); }

  // The same for SQL built per request (filter shapes): a bounded cache, which
  // may finalize other dynamic statements, so a caller uses one at a time.
  Result<sqlite3_stmt*> PrepareDynamic(const std::string& sql) { return PrepareIn(dynamic_, sql, 128); }

  sqlite3* db() { return db_; }

  // Resets every statement left mid-result, ending the read transaction it
  // holds (a reader would otherwise keep seeing an old WAL snapshot).
  void ResetBusy();

  // Runs `f` (returning Status) inside BEGIN IMMEDIATE ... COMMIT; rolls back
  // if `f` or the commit fails.
  template <typename F>
  Status InTransaction(F&& f) {
    CORDON_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st = f();
    if (st.ok()) st = Exec("COMMIT");
    if (!st.ok()) Exec("ROLLBACK").IgnoreError();
    return st;
  }

 private:
  using Cache = std::unordered_map<std::string, sqlite3_stmt*>;
  Connection() = default;
  Result<sqlite3_stmt*> PrepareIn(Cache& cache, const std::string& sql, size_t bound);

  sqlite3* db_ = nullptr;
  Cache static_, dynamic_;
};

// Brings the schema of `c` to migrations.size(): migration i (0-based) takes
// user_version i to i+1, each in one transaction, so a crash leaves the previous
// version intact. Fails if the file is newer than `migrations`. `what` names the
// database in messages ("the store", "the federation state").
Status Migrate(Connection& c, std::span<const char* const> migrations, const std::string& what);

void BindText(sqlite3_stmt* s, int i, std::string_view v);
// Without a copy: `v` must outlive the statement's next reset or rebind.
void BindTextStatic(sqlite3_stmt* s, int i, std::string_view v);
std::string ColumnText(sqlite3_stmt* s, int i);
// Without a copy: valid until the statement's next step, reset or finalize.
std::string_view ColumnView(sqlite3_stmt* s, int i);
std::string_view BlobView(sqlite3_stmt* s, int i);

// Runs `s` to completion (for statements without result rows) and resets it.
Status Done(Connection& c, sqlite3_stmt* s, const char* what);

// One step: true for a row, false at the end, else the error (statement reset).
Result<bool> Step(Connection& c, sqlite3_stmt* s, const char* what);

}  // namespace cordon::sqlite
