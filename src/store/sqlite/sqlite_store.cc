#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "base/strings.h"

namespace cordon::store {
namespace {

// Schema versions, applied in order by Migrate(); PRAGMA user_version records the last.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE api_roots(
  name TEXT PRIMARY KEY, title TEXT NOT NULL, description TEXT NOT NULL,
  max_content_length INTEGER NOT NULL);
CREATE TABLE collections(
  id TEXT PRIMARY KEY, api_root TEXT NOT NULL REFERENCES api_roots(name),
  title TEXT NOT NULL, description TEXT NOT NULL, alias TEXT NOT NULL);
-- One row per (collection, id, version). seq is the pagination cursor; date_added_ns
-- grows with seq. is_first/is_last are kept exact by every insert and delete.
CREATE TABLE objects(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  collection TEXT NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  spec_version TEXT NOT NULL,
  version_ns INTEGER NOT NULL,
  version_digits INTEGER NOT NULL,
  date_added_ns INTEGER NOT NULL,
  is_first INTEGER NOT NULL,
  is_last INTEGER NOT NULL,
  revoked INTEGER NOT NULL,
  confidence INTEGER,
  tlp INTEGER NOT NULL,
  bytes BLOB NOT NULL);
CREATE UNIQUE INDEX objects_by_version ON objects(collection, id, version_ns);
CREATE INDEX objects_last ON objects(collection, is_last, seq);
CREATE INDEX objects_first ON objects(collection, is_first, seq);
CREATE INDEX objects_type_last ON objects(collection, type, is_last, seq);
CREATE INDEX objects_date_added ON objects(date_added_ns);
CREATE TABLE statuses(
  id TEXT PRIMARY KEY, api_root TEXT NOT NULL, user TEXT NOT NULL, status TEXT NOT NULL,
  request_ns INTEGER NOT NULL);
CREATE TABLE status_details(
  status_id TEXT NOT NULL REFERENCES statuses(id) ON DELETE CASCADE,
  kind INTEGER NOT NULL, idx INTEGER NOT NULL,
  id TEXT NOT NULL, version TEXT NOT NULL, message TEXT NOT NULL,
  PRIMARY KEY(status_id, kind, idx));
CREATE TABLE users(
  name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, can_read TEXT NOT NULL, can_write TEXT NOT NULL);
CREATE TABLE tokens(
  hash TEXT PRIMARY KEY, user TEXT NOT NULL, label TEXT NOT NULL);
)sql",
};

Status SqlError(sqlite3* db, const std::string& what) {
  std::string msg = what + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
  int code = db ? sqlite3_errcode(db) : SQLITE_NOMEM;
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_FULL || code == SQLITE_IOERR) {
    return absl::UnavailableError(msg);
  }
  return absl::InternalError(msg);
}

// A connection with its prepared statements cached by SQL text.
class Connection {
 public:
  ~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  static Result<std::unique_ptr<Connection>> Open(const std::string& path, int cache_kib) {
    auto c = std::unique_ptr<Connection>(new Connection);
    if (sqlite3_open_v2(path.c_str(), &c->db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      return SqlError(c->db_, "cannot open '" + path + "'");
    }
    sqlite3_busy_timeout(c->db_, 10000);
    std::string pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                          "PRAGMA cache_size=-" + std::to_string(cache_kib) + ";";
    CORDON_RETURN_IF_ERROR(c->Exec(pragmas));
    return c;
  }

  Status Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      return absl::InternalError("sqlite: " + msg);
    }
    return absl::OkStatus();
  }

  // A reset statement for `sql`, compiled once per connection.
  Result<sqlite3_stmt*> Prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      sqlite3_reset(it->second);
      sqlite3_clear_bindings(it->second);
      return it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      return SqlError(db_, "prepare");
    }
    if (cache_.size() > 256) {  // bound: dynamic filter SQL has many shapes
      for (auto& [s, st] : cache_) sqlite3_finalize(st);
      cache_.clear();
    }
    cache_.emplace(sql, stmt);
    return stmt;
  }

  sqlite3* db() { return db_; }

  // Resets every statement left mid-result, ending the read transaction it
  // holds (a reader would otherwise keep seeing an old WAL snapshot).
  void ResetBusy() {
    for (sqlite3_stmt* s = sqlite3_next_stmt(db_, nullptr); s; s = sqlite3_next_stmt(db_, s)) {
      if (sqlite3_stmt_busy(s)) sqlite3_reset(s);
    }
  }

 private:
  Connection() = default;
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

void BindText(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(s, i)) : std::string();
}
std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}
std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  for (auto p : Split(s, ',', EmptyParts::kSkip)) out.emplace_back(p);
  return out;
}

// Runs `s` to completion (for statements without result rows).
Status Done(Connection& c, sqlite3_stmt* s, const char* what) {
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) return SqlError(c.db(), what);
  return absl::OkStatus();
}

// The SQL condition (" AND ...", or "" for all versions) selecting the versions
// a VersionFilter names. Timestamps are integers, so they are inlined safely.
std::string VersionClause(const VersionFilter& v) {
  if (v.all) return "";
  if (v.last && !v.first && v.versions.empty()) return " AND is_last=1";
  if (v.first && !v.last && v.versions.empty()) return " AND is_first=1";
  std::string any;
  auto add = [&any](const std::string& term) { any += (any.empty() ? "" : " OR ") + term; };
  if (v.first) add("is_first=1");
  if (v.last) add("is_last=1");
  for (const auto& t : v.versions) add("version_ns=" + std::to_string(t.ns));
  return " AND (" + any + ")";
}

class SqliteStore : public Store {
 public:
  SqliteStore(std::string path, SqliteOptions options) : path_(std::move(path)), options_(options) {}

  Status Init() {
    CORDON_ASSIGN_OR_RETURN(writer_, Connection::Open(path_, options_.cache_kib));
    CORDON_RETURN_IF_ERROR(Migrate());
    CORDON_ASSIGN_OR_RETURN(sqlite3_stmt * s, writer_->Prepare("SELECT max(date_added_ns) FROM objects"));
    if (sqlite3_step(s) == SQLITE_ROW) last_date_added_ns_ = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return absl::OkStatus();
  }

  // --- API roots and collections ---
  Status PutApiRoot(const ApiRoot& r) override {
    std::lock_guard lock(write_mu_);
    CORDON_ASSIGN_OR_RETURN(auto* s, writer_->Prepare(
        "INSERT OR REPLACE INTO api_roots(name,title,description,max_content_length) VALUES(?,?,?,?)"));
    BindText(s, 1, r.name);
    BindText(s, 2, r.title);
    BindText(s, 3, r.description);
    sqlite3_bind_int64(s, 4, r.max_content_length);
    return Done(*writer_, s, "store API root");
  }

  Result<std::vector<ApiRoot>> ListApiRoots() override {
    return Read<std::vector<ApiRoot>>([&](Connection& c) -> Result<std::vector<ApiRoot>> {
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(
          "SELECT name,title,description,max_content_length FROM api_roots ORDER BY name"));
      std::vector<ApiRoot> out;
      while (sqlite3_step(s) == SQLITE_ROW) out.push_back(RootFrom(s));
      return out;
    });
  }

  Result<ApiRoot> GetApiRoot(const std::string& name) override {
    return Read<ApiRoot>([&](Connection& c) -> Result<ApiRoot> {
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(
          "SELECT name,title,description,max_content_length FROM api_roots WHERE name=?"));
      BindText(s, 1, name);
      if (sqlite3_step(s) != SQLITE_ROW) return absl::NotFoundError("no API root '" + name + "'");
      return RootFrom(s);
    });
  }

  Status PutCollection(const Collection& col) override {
    CORDON_RETURN_IF_ERROR(GetApiRoot(col.api_root).status());
    std::lock_guard lock(write_mu_);
    CORDON_ASSIGN_OR_RETURN(auto* s, writer_->Prepare(
        "INSERT OR REPLACE INTO collections(id,api_root,title,description,alias) VALUES(?,?,?,?,?)"));
    BindText(s, 1, col.id);
    BindText(s, 2, col.api_root);
    BindText(s, 3, col.title);
    BindText(s, 4, col.description);
    BindText(s, 5, col.alias);
    return Done(*writer_, s, "store collection");
  }

  Result<std::vector<Collection>> ListCollections(const std::string& api_root) override {
    return Read<std::vector<Collection>>([&](Connection& c) -> Result<std::vector<Collection>> {
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(
          "SELECT id,api_root,title,description,alias FROM collections WHERE api_root=? ORDER BY title, id"));
      BindText(s, 1, api_root);
      std::vector<Collection> out;
      while (sqlite3_step(s) == SQLITE_ROW) out.push_back(CollectionFrom(s));
      return out;
    });
  }

  Result<Collection> GetCollection(const std::string& api_root, const std::string& id) override {
    return Read<Collection>([&](Connection& c) -> Result<Collection> {
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(
          "SELECT id,api_root,title,description,alias FROM collections WHERE api_root=? AND id=?"));
      BindText(s, 1, api_root);
      BindText(s, 2, id);
      if (sqlite3_step(s) != SQLITE_ROW) {
        return absl::NotFoundError("no collection '" + id + "' in API root '" + api_root + "'");
      }
      return CollectionFrom(s);
    });
  }

  // --- objects ---
  Result<PutResult> PutObjects(const std::string& collection, const std::vector<NewObject>& objects) override {
    std::lock_guard lock(write_mu_);
    Connection& c = *writer_;
    CORDON_RETURN_IF_ERROR(c.Exec("BEGIN IMMEDIATE"));
    int64_t saved_last = last_date_added_ns_;
    auto result = PutLocked(c, collection, objects);
    if (!result.ok()) {
      c.Exec("ROLLBACK").IgnoreError();
      last_date_added_ns_ = saved_last;
      return result.status();
    }
    if (Status s = c.Exec("COMMIT"); !s.ok()) {
      c.Exec("ROLLBACK").IgnoreError();
      last_date_added_ns_ = saved_last;
      return s;
    }
    return result;
  }

  Result<Page> QueryObjects(const ObjectQuery& q) override {
    return Read<Page>([&](Connection& c) -> Result<Page> {
      int64_t after = q.after_cursor;
      if (q.added_after) {
        CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare("SELECT seq FROM objects WHERE date_added_ns > ? ORDER BY date_added_ns LIMIT 1"));
        sqlite3_bind_int64(s, 1, q.added_after->ns);
        // seq and date_added grow together, so "added after" is "seq from the
        // first row added after" and the scan below stays an index range scan.
        if (sqlite3_step(s) != SQLITE_ROW) return Page{};
        after = std::max<int64_t>(after, sqlite3_column_int64(s, 0) - 1);
        sqlite3_reset(s);
      }
      std::string sql = "SELECT seq,id,type,spec_version,version_ns,version_digits,date_added_ns";
      sql += q.with_bytes ? ",bytes" : "";
      sql += " FROM objects WHERE collection=?1 AND seq>?2";
      sql += VersionClause(q.version.empty() ? VersionFilter{.last = true} : q.version);
      int param = 3;
      auto in_list = [&](const char* column, size_t n) {
        sql += std::string(" AND ") + column + " IN (";
        for (size_t i = 0; i < n; ++i) sql += (i ? ",?" : "?") + std::to_string(param++);
        sql += ")";
      };
      if (!q.ids.empty()) in_list("id", q.ids.size());
      if (!q.types.empty()) in_list("type", q.types.size());
      if (!q.spec_versions.empty()) in_list("spec_version", q.spec_versions.size());
      sql += " ORDER BY seq LIMIT ?" + std::to_string(param);
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(sql));
      BindText(s, 1, q.collection);
      sqlite3_bind_int64(s, 2, after);
      int p = 3;
      for (const auto& x : q.ids) BindText(s, p++, x);
      for (const auto& x : q.types) BindText(s, p++, x);
      for (const auto& x : q.spec_versions) BindText(s, p++, x);
      int limit = std::max(1, q.limit);
      sqlite3_bind_int(s, p, limit + 1);
      Page page;
      page.items.reserve(std::min(limit, 1000));
      int rc;
      while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (static_cast<int>(page.items.size()) == limit) {
          page.more = true;
          break;
        }
        StoredObject o;
        page.next_cursor = sqlite3_column_int64(s, 0);
        o.id = ColumnText(s, 1);
        o.type = ColumnText(s, 2);
        o.spec_version = ColumnText(s, 3);
        o.version = Timestamp{sqlite3_column_int64(s, 4), static_cast<int8_t>(sqlite3_column_int(s, 5))};
        o.date_added = Timestamp{sqlite3_column_int64(s, 6), 6};
        if (q.with_bytes) {
          const void* b = sqlite3_column_blob(s, 7);
          o.bytes.assign(static_cast<const char*>(b), sqlite3_column_bytes(s, 7));
        }
        page.items.push_back(std::move(o));
      }
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return SqlError(c.db(), "query objects");
      sqlite3_reset(s);
      if (!page.more) page.next_cursor = 0;
      return page;
    });
  }

  Result<int64_t> DeleteObject(const std::string& collection, const std::string& id, const VersionFilter& v,
                               const std::vector<std::string>& spec_versions) override {
    std::lock_guard lock(write_mu_);
    Connection& c = *writer_;
    std::string where = "collection=?1 AND id=?2";
    if (!v.empty()) where += VersionClause(v);  // empty: every version
    if (!spec_versions.empty()) {
      where += " AND spec_version IN (";
      for (size_t i = 0; i < spec_versions.size(); ++i) where += (i ? ",?" : "?") + std::to_string(3 + i);
      where += ")";
    }
    CORDON_RETURN_IF_ERROR(c.Exec("BEGIN IMMEDIATE"));
    auto run = [&]() -> Result<int64_t> {
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare("DELETE FROM objects WHERE " + where));
      BindText(s, 1, collection);
      BindText(s, 2, id);
      for (size_t i = 0; i < spec_versions.size(); ++i) BindText(s, 3 + i, spec_versions[i]);
      CORDON_RETURN_IF_ERROR(Done(c, s, "delete object"));
      int64_t n = sqlite3_changes(c.db());
      if (n > 0) CORDON_RETURN_IF_ERROR(RecomputeFlags(c, collection, id));
      return n;
    };
    auto n = run();
    if (!n.ok()) {
      c.Exec("ROLLBACK").IgnoreError();
      return n.status();
    }
    CORDON_RETURN_IF_ERROR(c.Exec("COMMIT"));
    return n;
  }

  Result<int64_t> CountObjects(const std::string& collection) override {
    return Read<int64_t>([&](Connection& c) -> Result<int64_t> {
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare("SELECT count(*) FROM objects WHERE collection=?"));
      BindText(s, 1, collection);
      int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
      sqlite3_reset(s);
      return n;
    });
  }

  // --- status resources ---
  Status PutStatus(const StatusResource& st) override {
    std::lock_guard lock(write_mu_);
    Connection& c = *writer_;
    CORDON_RETURN_IF_ERROR(c.Exec("BEGIN IMMEDIATE"));
    auto run = [&]() -> Status {
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(
          "INSERT OR REPLACE INTO statuses(id,api_root,user,status,request_ns) VALUES(?,?,?,?,?)"));
      BindText(s, 1, st.id);
      BindText(s, 2, st.api_root);
      BindText(s, 3, st.user);
      BindText(s, 4, st.status);
      sqlite3_bind_int64(s, 5, st.request_timestamp.ns);
      CORDON_RETURN_IF_ERROR(Done(c, s, "store status"));
      CORDON_ASSIGN_OR_RETURN(auto* d, c.Prepare(
          "INSERT OR REPLACE INTO status_details(status_id,kind,idx,id,version,message) VALUES(?,?,?,?,?,?)"));
      const std::vector<StatusDetail>* lists[] = {&st.successes, &st.failures, &st.pendings};
      for (int kind = 0; kind < 3; ++kind) {
        for (size_t i = 0; i < lists[kind]->size(); ++i) {
          const auto& x = (*lists[kind])[i];
          sqlite3_reset(d);
          BindText(d, 1, st.id);
          sqlite3_bind_int(d, 2, kind);
          sqlite3_bind_int64(d, 3, static_cast<int64_t>(i));
          BindText(d, 4, x.id);
          BindText(d, 5, x.version);
          BindText(d, 6, x.message);
          CORDON_RETURN_IF_ERROR(Done(c, d, "store status detail"));
        }
      }
      return absl::OkStatus();
    };
    Status s = run();
    if (!s.ok()) {
      c.Exec("ROLLBACK").IgnoreError();
      return s;
    }
    return c.Exec("COMMIT");
  }

  Result<StatusResource> GetStatus(const std::string& id) override {
    return Read<StatusResource>([&](Connection& c) -> Result<StatusResource> {
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare("SELECT api_root,user,status,request_ns FROM statuses WHERE id=?"));
      BindText(s, 1, id);
      if (sqlite3_step(s) != SQLITE_ROW) return absl::NotFoundError("no status resource '" + id + "'");
      StatusResource st;
      st.id = id;
      st.api_root = ColumnText(s, 0);
      st.user = ColumnText(s, 1);
      st.status = ColumnText(s, 2);
      st.request_timestamp = Timestamp{sqlite3_column_int64(s, 3), 6};
      sqlite3_reset(s);
      CORDON_ASSIGN_OR_RETURN(auto* d, c.Prepare(
          "SELECT kind,id,version,message FROM status_details WHERE status_id=? ORDER BY kind, idx"));
      BindText(d, 1, id);
      while (sqlite3_step(d) == SQLITE_ROW) {
        int kind = sqlite3_column_int(d, 0);
        StatusDetail x{ColumnText(d, 1), ColumnText(d, 2), ColumnText(d, 3)};
        (kind == 0 ? st.successes : kind == 1 ? st.failures : st.pendings).push_back(std::move(x));
      }
      sqlite3_reset(d);
      return st;
    });
  }

  // --- users and tokens ---
  Status PutUser(const User& u) override {
    std::lock_guard lock(write_mu_);
    CORDON_ASSIGN_OR_RETURN(auto* s, writer_->Prepare(
        "INSERT OR REPLACE INTO users(name,password_hash,can_read,can_write) VALUES(?,?,?,?)"));
    BindText(s, 1, u.name);
    BindText(s, 2, u.password_hash);
    BindText(s, 3, Join(u.can_read));
    BindText(s, 4, Join(u.can_write));
    return Done(*writer_, s, "store user");
  }

  Result<User> GetUser(const std::string& name) override {
    return Read<User>([&](Connection& c) -> Result<User> {
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(
          "SELECT name,password_hash,can_read,can_write FROM users WHERE name=?"));
      BindText(s, 1, name);
      if (sqlite3_step(s) != SQLITE_ROW) return absl::NotFoundError("no user '" + name + "'");
      User u = UserFrom(s);
      sqlite3_reset(s);
      return u;
    });
  }

  Result<std::vector<User>> ListUsers() override {
    return Read<std::vector<User>>([&](Connection& c) -> Result<std::vector<User>> {
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(
          "SELECT name,password_hash,can_read,can_write FROM users ORDER BY name"));
      std::vector<User> out;
      while (sqlite3_step(s) == SQLITE_ROW) out.push_back(UserFrom(s));
      return out;
    });
  }

  Status PutToken(const Token& t) override {
    std::lock_guard lock(write_mu_);
    CORDON_ASSIGN_OR_RETURN(auto* s, writer_->Prepare(
        "INSERT OR REPLACE INTO tokens(hash,user,label) VALUES(?,?,?)"));
    BindText(s, 1, t.token_hash);
    BindText(s, 2, t.user);
    BindText(s, 3, t.label);
    return Done(*writer_, s, "store token");
  }

  Result<Token> GetTokenByHash(const std::string& hash) override {
    return Read<Token>([&](Connection& c) -> Result<Token> {
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare("SELECT hash,user,label FROM tokens WHERE hash=?"));
      BindText(s, 1, hash);
      if (sqlite3_step(s) != SQLITE_ROW) return absl::NotFoundError("unknown token");
      Token t{ColumnText(s, 0), ColumnText(s, 1), ColumnText(s, 2)};
      sqlite3_reset(s);
      return t;
    });
  }

 private:
  Status Migrate() {
    CORDON_ASSIGN_OR_RETURN(auto* s, writer_->Prepare("PRAGMA user_version"));
    int version = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    sqlite3_reset(s);
    constexpr int kLatest = static_cast<int>(std::size(kMigrations));
    if (version > kLatest) {
      return absl::FailedPreconditionError("the store's schema (version " + std::to_string(version) +
                                           ") is newer than this cordon understands (" +
                                           std::to_string(kLatest) + ")");
    }
    for (int v = version; v < kLatest; ++v) {
      CORDON_RETURN_IF_ERROR(writer_->Exec(std::string("BEGIN IMMEDIATE;") + kMigrations[v] +
                                           "PRAGMA user_version=" + std::to_string(v + 1) + "; COMMIT;"));
    }
    return absl::OkStatus();
  }

  // Runs `f` on a reader connection from the pool (created on demand), so
  // readers never wait for the writer (WAL snapshots).
  template <typename T, typename F>
  Result<T> Read(F&& f) {
    std::unique_ptr<Connection> c;
    {
      std::lock_guard lock(pool_mu_);
      if (!readers_.empty()) {
        c = std::move(readers_.back());
        readers_.pop_back();
      }
    }
    if (!c) {
      CORDON_ASSIGN_OR_RETURN(c, Connection::Open(path_, options_.cache_kib));
    }
    Result<T> r = f(*c);
    c->ResetBusy();
    std::lock_guard lock(pool_mu_);
    readers_.push_back(std::move(c));
    return r;
  }

  Result<PutResult> PutLocked(Connection& c, const std::string& collection, const std::vector<NewObject>& objects) {
    PutResult out;
    out.outcomes.reserve(objects.size());
    out.date_added.reserve(objects.size());
    CORDON_ASSIGN_OR_RETURN(auto* find, c.Prepare(
        "SELECT date_added_ns, bytes FROM objects WHERE collection=? AND id=? AND version_ns=?"));
    CORDON_ASSIGN_OR_RETURN(auto* range, c.Prepare(
        "SELECT min(version_ns), max(version_ns) FROM objects WHERE collection=? AND id=?"));
    CORDON_ASSIGN_OR_RETURN(auto* clear_last, c.Prepare(
        "UPDATE objects SET is_last=0 WHERE collection=? AND id=? AND version_ns=?"));
    CORDON_ASSIGN_OR_RETURN(auto* clear_first, c.Prepare(
        "UPDATE objects SET is_first=0 WHERE collection=? AND id=? AND version_ns=?"));
    CORDON_ASSIGN_OR_RETURN(auto* insert, c.Prepare(
        "INSERT INTO objects(collection,id,type,spec_version,version_ns,version_digits,date_added_ns,"
        "is_first,is_last,revoked,confidence,tlp,bytes) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    const int64_t now_ns =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count() * 1000;
    for (const NewObject& o : objects) {
      const Timestamp version = o.info.version();
      // The id's version range first: for a new id (the common case) that one
      // covering-index probe is all that precedes the insert.
      bool is_first = true, is_last = true, had_versions = false;
      int64_t min = 0, max = 0;
      sqlite3_reset(range);
      BindText(range, 1, collection);
      BindText(range, 2, o.info.id);
      if (sqlite3_step(range) == SQLITE_ROW && sqlite3_column_type(range, 0) != SQLITE_NULL) {
        had_versions = true;
        min = sqlite3_column_int64(range, 0);
        max = sqlite3_column_int64(range, 1);
        is_first = version.ns < min;
        is_last = version.ns > max;
      }
      sqlite3_reset(range);
      if (had_versions && version.ns >= min && version.ns <= max) {
        sqlite3_reset(find);
        BindText(find, 1, collection);
        BindText(find, 2, o.info.id);
        sqlite3_bind_int64(find, 3, version.ns);
        if (sqlite3_step(find) == SQLITE_ROW) {
          int64_t added = sqlite3_column_int64(find, 0);
          std::string_view stored(static_cast<const char*>(sqlite3_column_blob(find, 1)),
                                  sqlite3_column_bytes(find, 1));
          out.outcomes.push_back(stored == o.bytes ? PutOutcome::kUnchanged : PutOutcome::kConflict);
          out.date_added.push_back(Timestamp{added, 6});
          sqlite3_reset(find);
          continue;
        }
        sqlite3_reset(find);
      }
      // The previous last (max) / first (min) version loses its flag. The
      // version_ns term keeps this a point update on objects_by_version.
      for (auto [flag, stmt, old] : {std::tuple{is_last, clear_last, max}, std::tuple{is_first, clear_first, min}}) {
        if (!flag || !had_versions) continue;
        sqlite3_reset(stmt);
        BindText(stmt, 1, collection);
        BindText(stmt, 2, o.info.id);
        sqlite3_bind_int64(stmt, 3, old);
        CORDON_RETURN_IF_ERROR(Done(c, stmt, "update version flags"));
      }
      // date_added: microseconds, strictly increasing across the whole node.
      last_date_added_ns_ = std::max(now_ns, last_date_added_ns_ + 1000);
      sqlite3_reset(insert);
      BindText(insert, 1, collection);
      BindText(insert, 2, o.info.id);
      BindText(insert, 3, o.info.type);
      BindText(insert, 4, stix::SpecVersionName(o.info.spec_version));
      sqlite3_bind_int64(insert, 5, version.ns);
      sqlite3_bind_int(insert, 6, version.frac_digits);
      sqlite3_bind_int64(insert, 7, last_date_added_ns_);
      sqlite3_bind_int(insert, 8, is_first);
      sqlite3_bind_int(insert, 9, is_last);
      sqlite3_bind_int(insert, 10, o.info.revoked);
      if (o.info.confidence) sqlite3_bind_int(insert, 11, *o.info.confidence);
      sqlite3_bind_int(insert, 12, static_cast<int>(o.info.tlp));
      sqlite3_bind_blob(insert, 13, o.bytes.data(), static_cast<int>(o.bytes.size()), SQLITE_STATIC);
      CORDON_RETURN_IF_ERROR(Done(c, insert, "insert object"));
      out.outcomes.push_back(PutOutcome::kAdded);
      out.date_added.push_back(Timestamp{last_date_added_ns_, 6});
    }
    return out;
  }

  Status RecomputeFlags(Connection& c, const std::string& collection, const std::string& id) {
    CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(
        "UPDATE objects SET "
        "is_first = (version_ns = (SELECT min(version_ns) FROM objects WHERE collection=?1 AND id=?2)), "
        "is_last = (version_ns = (SELECT max(version_ns) FROM objects WHERE collection=?1 AND id=?2)) "
        "WHERE collection=?1 AND id=?2"));
    BindText(s, 1, collection);
    BindText(s, 2, id);
    return Done(c, s, "recompute version flags");
  }

  static ApiRoot RootFrom(sqlite3_stmt* s) {
    return ApiRoot{ColumnText(s, 0), ColumnText(s, 1), ColumnText(s, 2), sqlite3_column_int64(s, 3)};
  }
  static Collection CollectionFrom(sqlite3_stmt* s) {
    return Collection{ColumnText(s, 0), ColumnText(s, 1), ColumnText(s, 2), ColumnText(s, 3), ColumnText(s, 4)};
  }
  static User UserFrom(sqlite3_stmt* s) {
    return User{ColumnText(s, 0), ColumnText(s, 1), SplitList(ColumnText(s, 2)), SplitList(ColumnText(s, 3))};
  }

  const std::string path_;
  const SqliteOptions options_;
  std::mutex write_mu_;  // serialises all writes on writer_
  std::unique_ptr<Connection> writer_;
  int64_t last_date_added_ns_ = 0;  // guarded by write_mu_
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Connection>> readers_;  // idle reader connections
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::filesystem::path& path, const SqliteOptions& options) {
  auto store = std::make_unique<SqliteStore>(path.string(), options);
  CORDON_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace cordon::store
