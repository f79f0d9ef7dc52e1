#include "store/sqlite/db.h"

namespace cordon::sqlite {

Status SqlError(sqlite3* db, const std::string& what) {
  std::string msg = "sqlite: " + what + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
  int code = db ? (sqlite3_errcode(db) & 0xff) : SQLITE_NOMEM;
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_FULL || code == SQLITE_IOERR) {
    return absl::UnavailableError(msg);
  }
  return absl::InternalError(msg);
}

Connection::~Connection() {
  for (auto* cache : {&static_, &dynamic_}) {
    for (auto& [sql, stmt] : *cache) sqlite3_finalize(stmt);
  }
  sqlite3_close(db_);
}

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& path, const ConnectionOptions& options) {
  // No memory statistics: with them every sqlite3_malloc takes one
  // process-wide mutex, and the server's io threads queued on it (futex
  // waits). Must precede SQLite's initialisation; if something initialised
  // it first, the call fails and changes nothing.
  static const bool configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  (void)configured;
  auto c = std::unique_ptr<Connection>(new Connection);
  if (sqlite3_open_v2(path.c_str(), &c->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return SqlError(c->db_, "cannot open '" + path + "'");
  }
  sqlite3_extended_result_codes(c->db_, 1);
  sqlite3_busy_timeout(c->db_, 10000);
  // synchronous=FULL on every connection: the last one to close checkpoints.
  std::string pragmas = "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-" +
                        std::to_string(options.cache_kib) + ";";
  if (options.writer) {
    // journal_size_limit: a WAL that grew for one large import is cut back to
    // 64 MiB when it is next reset, instead of keeping its size on disk.
    pragmas = "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA journal_size_limit=67108864; PRAGMA wal_autocheckpoint=" +
              std::to_string(options.autocheckpoint_pages) + "; " + pragmas;
  }
  CORDON_RETURN_IF_ERROR(c->Exec(pragmas));
  return c;
}

Status Connection::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    return SqlError(db_, sql.size() > 60 ? sql.substr(0, 60) + "..." : sql);
  }
  return absl::OkStatus();
}

void Connection::ResetBusy() {
  for (sqlite3_stmt* s = sqlite3_next_stmt(db_, nullptr); s; s = sqlite3_next_stmt(db_, s)) {
    if (sqlite3_stmt_busy(s)) sqlite3_reset(s);
  }
}

Result<sqlite3_stmt*> Connection::PrepareIn(Cache& cache, const std::string& sql, size_t bound) {
  auto it = cache.find(sql);
  if (it != cache.end()) {
    sqlite3_reset(it->second);
    sqlite3_clear_bindings(it->second);
    return it->second;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    return SqlError(db_, "prepare '" + sql + "'");
  }
  if (cache.size() >= bound) {
    for (auto& [s, st] : cache) sqlite3_finalize(st);
    cache.clear();
  }
  cache.emplace(sql, stmt);
  return stmt;
}

Status Migrate(Connection& c, std::span<const char* const> migrations, const std::string& what) {
  CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare("PRAGMA user_version"));
  CORDON_ASSIGN_OR_RETURN(bool row, Step(c, s, "read schema version"));
  int version = row ? sqlite3_column_int(s, 0) : 0;
  sqlite3_reset(s);
  const int latest = static_cast<int>(migrations.size());
  if (version > latest) {
    return absl::FailedPreconditionError("the schema of " + what + " (version " + std::to_string(version) +
                                         ") is newer than this cordon understands (" + std::to_string(latest) +
                                         ")");
  }
  for (int v = version; v < latest; ++v) {
    Status st = c.Exec(std::string("BEGIN IMMEDIATE;") + migrations[v] + "PRAGMA user_version=" +
                       std::to_string(v + 1) + "; COMMIT;");
    if (!st.ok()) {
      c.Exec("ROLLBACK").IgnoreError();
      return absl::Status(st.code(), "migrating the schema of " + what + " to version " + std::to_string(v + 1) +
                                         ": " + std::string(st.message()));
    }
  }
  return absl::OkStatus();
}

void BindText(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void BindTextStatic(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s, i)) : std::string();
}

std::string_view ColumnView(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? std::string_view(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s, i)) : std::string_view();
}
std::string_view BlobView(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  return p ? std::string_view(static_cast<const char*>(p), sqlite3_column_bytes(s, i)) : std::string_view();
}

Status Done(Connection& c, sqlite3_stmt* s, const char* what) {
  int rc = sqlite3_step(s);
  Status st = rc == SQLITE_DONE ? absl::OkStatus() : SqlError(c.db(), what);
  sqlite3_reset(s);
  return st;
}

Result<bool> Step(Connection& c, sqlite3_stmt* s, const char* what) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status st = SqlError(c.db(), what);
  sqlite3_reset(s);
  return st;
}

}  // namespace cordon::sqlite
