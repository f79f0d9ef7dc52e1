#include "store/sqlite/sqlite_store.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <variant>

#include "base/json_writer.h"
#include "base/strings.h"
#include "store/sqlite/db.h"

namespace cordon::store {
namespace {

using sqlite::BindText;
using sqlite::BindTextStatic;
using sqlite::BlobView;
using sqlite::ColumnText;
using sqlite::ColumnView;
using sqlite::Connection;
using sqlite::Done;
using sqlite::SqlError;
using sqlite::Step;

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
    // 2: objects keyed by a small integer per collection (every index key was
    // led by the 36-byte collection UUID); flag indexes partial (only the rows
    // they find); marking refs (a JSON array) beside each version; (ckey, seq)
    // for queries no flag/type index serves (an index on ckey ends in the rowid,
    // seq); the date_added high-water mark, so a restart never hands out a
    // date_added at or below one given out before, even if that row was deleted
    // since (a client's added_after would skip the new row). Rows keep their seq.
    R"sql(
CREATE TABLE object_collections(ckey INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
INSERT INTO object_collections(id) SELECT DISTINCT collection FROM objects ORDER BY collection;
CREATE TABLE objects2(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  ckey INTEGER NOT NULL,
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
  marking_refs TEXT NOT NULL,
  bytes BLOB NOT NULL);
INSERT INTO objects2(seq,ckey,id,type,spec_version,version_ns,version_digits,date_added_ns,is_first,is_last,
                     revoked,confidence,tlp,marking_refs,bytes)
  SELECT seq, (SELECT ckey FROM object_collections c WHERE c.id=o.collection), id, type, spec_version,
         version_ns, version_digits, date_added_ns, is_first, is_last, revoked, confidence, tlp, '[]', bytes
  FROM objects o ORDER BY seq;
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO meta(key, value) SELECT 'last_date_added_ns', coalesce(max(date_added_ns), 0) FROM objects;
INSERT INTO sqlite_sequence(name, seq) SELECT 'objects2', coalesce(max(seq), 0) FROM sqlite_sequence
  WHERE name IN ('objects', 'objects2');
DELETE FROM sqlite_sequence WHERE name='objects2' AND rowid NOT IN (SELECT max(rowid) FROM sqlite_sequence
  WHERE name='objects2');
DROP TABLE objects;
ALTER TABLE objects2 RENAME TO objects;
CREATE UNIQUE INDEX objects_by_version ON objects(ckey, id, version_ns);
CREATE INDEX objects_seq ON objects(ckey);
CREATE INDEX objects_last ON objects(ckey, seq) WHERE is_last=1;
CREATE INDEX objects_first ON objects(ckey, seq) WHERE is_first=1;
CREATE INDEX objects_type_last ON objects(ckey, type, seq) WHERE is_last=1;
CREATE INDEX objects_date_added ON objects(date_added_ns);
)sql",
    // v3: no index on date_added_ns. seq and date_added grow together (every
    // writer continues from the high-water mark in meta, read inside its write
    // transaction), so "added after X" is found by a binary search over seq
    // (SeekAddedAfter) and the index only cost each insert a B-tree write.
    R"sql(
DROP INDEX objects_date_added;
)sql",
};

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
std::string JsonArray(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    AppendJsonString(out, v[i]);
  }
  return out + "]";
}
std::string_view SpecVersionText(stix::SpecVersion v) { return v == stix::SpecVersion::k20 ? "2.0" : "2.1"; }

// SQL assembled per request, with its parameters (all bound, never inlined, so
// the number of distinct statements stays small).
struct Sql {
  std::string text;
  std::vector<std::variant<int64_t, std::string>> params;

  Sql& Add(std::string_view s) {
    text += s;
    return *this;
  }
  Sql& Param(int64_t v) {
    text += '?';
    params.emplace_back(v);
    return *this;
  }
  Sql& Param(const std::string& v) {
    text += '?';
    params.emplace_back(v);
    return *this;
  }
  // " AND column IN (?,?,...)" (nothing for an empty list).
  Sql& In(std::string_view column, const std::vector<std::string>& values) {
    if (values.empty()) return *this;
    Add(" AND ").Add(column).Add(" IN (");
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) Add(",");
      Param(values[i]);
    }
    return Add(")");
  }
  void Bind(sqlite3_stmt* s) const {
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      if (auto* n = std::get_if<int64_t>(&params[i])) {
        sqlite3_bind_int64(s, idx, *n);
      } else {
        BindText(s, idx, std::get<std::string>(params[i]));
      }
    }
  }
};

// Appends the condition (" AND ...", or nothing for all versions) selecting the
// versions a VersionFilter names; first/last alone stay a plain equality so the
// flag indexes serve them.
void AddVersionClause(Sql& sql, const VersionFilter& v) {
  if (v.all) return;
  if (v.last && !v.first && v.versions.empty()) {
    sql.Add(" AND is_last=1");
    return;
  }
  if (v.first && !v.last && v.versions.empty()) {
    sql.Add(" AND is_first=1");
    return;
  }
  sql.Add(" AND (");
  bool any = false;
  auto sep = [&] {
    if (any) sql.Add(" OR ");
    any = true;
  };
  if (v.first) sep(), sql.Add("is_first=1");
  if (v.last) sep(), sql.Add("is_last=1");
  if (!v.versions.empty()) {
    sep();
    sql.Add("version_ns IN (");
    for (size_t i = 0; i < v.versions.size(); ++i) {
      if (i) sql.Add(",");
      sql.Param(v.versions[i].ns);
    }
    sql.Add(")");
  }
  sql.Add(")");
}

// A collection's key in `objects` (NULL, matching nothing, if it has none yet);
// followed by the collection id parameter and ")".
constexpr char kCkeyOf[] = "SELECT ckey FROM object_collections WHERE id=";

// A read-only descriptor of `path`'s file, opened once and kept for the life
// of the process (-1 if the file cannot be opened). Never closed: closing any
// descriptor of a file drops every POSIX lock this process holds on it,
// SQLite's included, and another process could then write under a
// connection that believes it holds a lock (an earlier version that closed
// its descriptor after each import corrupted a database in test_sync). SQLite
// defers closing its own descriptors for the same reason.
int KeptDescriptor(const std::string& path) {
  static std::mutex mu;
  static absl::flat_hash_map<std::pair<dev_t, ino_t>, int> open_files;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  std::lock_guard lock(mu);
  if (auto it = open_files.find(std::pair{st.st_dev, st.st_ino}); it != open_files.end()) return it->second;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (::fstat(fd, &st) != 0) return fd;  // kept, unregistered: still never closed
  return open_files.try_emplace(std::pair{st.st_dev, st.st_ino}, fd).first->second;
}

// Starts the kernel writing a large transaction's pages while it is still
// being built. SQLite spills pages it cannot cache into the database (or WAL)
// file as it goes, but they sit dirty in the page cache until the commit's
// fsync, which then writes the whole transaction (~0.6 s for a 1M-object
// import) while everything waits. sync_file_range(SYNC_FILE_RANGE_WRITE) only
// queues writeback (no durability promise: the commit's fsync still decides),
// so the disk works during the import instead of after it. Runs on its own
// thread because the call can block while the device's queue is full.
class WritebackStarter {
 public:
  explicit WritebackStarter(std::string db_path) : db_path_(std::move(db_path)) {}
  ~WritebackStarter() {
    if (running_.valid()) running_.wait();
  }
  WritebackStarter(const WritebackStarter&) = delete;
  WritebackStarter& operator=(const WritebackStarter&) = delete;

  // Counts `bytes` more written; once a transaction has written enough for
  // writeback to matter (a POST of one envelope never does), queues it for
  // what is dirty now, unless the previous request is still being queued
  // (then a later call catches up).
  void Wrote(size_t bytes) {
    since_last_ += bytes;
    if (since_last_ < kEvery) return;
    if (running_.valid() && running_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
    since_last_ = 0;
    if (fds_.empty()) {
      for (const std::string& p : {db_path_, db_path_ + "-wal"}) {
        if (int fd = KeptDescriptor(p); fd >= 0) fds_.push_back(fd);
      }
    }
    running_ = std::async(std::launch::async, [fds = fds_] {
      for (int fd : fds) ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    });
  }

 private:
  static constexpr size_t kEvery = size_t{16} << 20;  // object bytes between requests
  const std::string db_path_;
  size_t since_last_ = 0;
  std::vector<int> fds_;
  std::future<void> running_;
};

// The thread's ReadScope, if any (one per thread, whichever store began it).
struct PinnedReader {
  const void* store = nullptr;
  Connection* connection = nullptr;
};
thread_local PinnedReader pinned_reader;

class SqliteStore : public Store {
 public:
  SqliteStore(std::string path, SqliteOptions options) : path_(std::move(path)), options_(options) {}

  ~SqliteStore() override {
    if (checkpointer_.joinable()) {
      {
        std::lock_guard lock(checkpoint_mu_);
        stopping_ = true;
      }
      checkpoint_cv_.notify_one();
      checkpointer_.join();
    }
  }

  Status Init() {
    const bool deferred = options_.checkpoint == SqliteOptions::Checkpoint::kDeferred;
    CORDON_ASSIGN_OR_RETURN(writer_, Connection::Open(path_, {.cache_kib = options_.cache_kib,
                                                             .writer = true,
                                                             .autocheckpoint_pages = deferred ? 0 : sqlite::kAutocheckpointPages}));
    CORDON_RETURN_IF_ERROR(Migrate());
    CORDON_ASSIGN_OR_RETURN(sqlite3_stmt * s, writer_->Prepare(
        "SELECT max(coalesce((SELECT date_added_ns FROM objects ORDER BY seq DESC LIMIT 1), 0),"
        " coalesce((SELECT value FROM meta WHERE key='last_date_added_ns'), 0))"));
    CORDON_ASSIGN_OR_RETURN(bool row, Step(*writer_, s, "read date_added high-water mark"));
    if (row) last_date_added_ns_ = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (options_.checkpoint == SqliteOptions::Checkpoint::kAlsoWhenIdle) {
      CORDON_ASSIGN_OR_RETURN(std::unique_ptr<Connection> own,
                              Connection::Open(path_, {.cache_kib = 1024, .writer = false}));
      sqlite3_wal_hook(writer_->db(), &SqliteStore::OnWalCommit, this);  // replaces SQLite's, and does its job
      checkpointer_ = std::thread([this, c = std::move(own)] { RunIdleCheckpoints(*c); });
    }
    return absl::OkStatus();
  }

  // --- API roots and collections ---
  Status PutApiRoot(const ApiRoot& r) override {
    std::lock_guard lock(write_mu_);
    // An upsert, not INSERT OR REPLACE: the row stays (collections refer to it).
    CORDON_ASSIGN_OR_RETURN(auto* s, writer_->Prepare(
        "INSERT INTO api_roots(name,title,description,max_content_length) VALUES(?,?,?,?) "
        "ON CONFLICT(name) DO UPDATE SET title=excluded.title, description=excluded.description, "
        "max_content_length=excluded.max_content_length"));
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
      for (;;) {
        CORDON_ASSIGN_OR_RETURN(bool row, Step(c, s, "list API roots"));
        if (!row) break;
        out.push_back(RootFrom(s));
      }
      return out;
    });
  }

  Result<ApiRoot> GetApiRoot(const std::string& name) override {
    return Read<ApiRoot>([&](Connection& c) -> Result<ApiRoot> {
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(
          "SELECT name,title,description,max_content_length FROM api_roots WHERE name=?"));
      BindText(s, 1, name);
      CORDON_ASSIGN_OR_RETURN(bool row, Step(c, s, "read API root"));
      if (!row) return absl::NotFoundError("no API root '" + name + "'");
      return RootFrom(s);
    });
  }

  Status PutCollection(const Collection& col) override {
    std::lock_guard lock(write_mu_);
    Connection& c = *writer_;
    return WriteTxn<bool>(c, [&]() -> Result<bool> {
      CORDON_ASSIGN_OR_RETURN(auto* root, c.Prepare("SELECT 1 FROM api_roots WHERE name=?"));
      BindText(root, 1, col.api_root);
      CORDON_ASSIGN_OR_RETURN(bool exists, Step(c, root, "read API root"));
      sqlite3_reset(root);
      if (!exists) {
        return absl::NotFoundError("no API root '" + col.api_root + "' for collection '" + col.id + "'");
      }
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(
          "INSERT INTO collections(id,api_root,title,description,alias) VALUES(?,?,?,?,?) "
          "ON CONFLICT(id) DO UPDATE SET api_root=excluded.api_root, title=excluded.title, "
          "description=excluded.description, alias=excluded.alias"));
      BindText(s, 1, col.id);
      BindText(s, 2, col.api_root);
      BindText(s, 3, col.title);
      BindText(s, 4, col.description);
      BindText(s, 5, col.alias);
      CORDON_RETURN_IF_ERROR(Done(c, s, "store collection"));
      return true;
    }).status();
  }

  Result<std::vector<Collection>> ListCollections(const std::string& api_root) override {
    return Read<std::vector<Collection>>([&](Connection& c) -> Result<std::vector<Collection>> {
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(
          "SELECT id,api_root,title,description,alias FROM collections WHERE api_root=? ORDER BY title, id"));
      BindText(s, 1, api_root);
      std::vector<Collection> out;
      for (;;) {
        CORDON_ASSIGN_OR_RETURN(bool row, Step(c, s, "list collections"));
        if (!row) break;
        out.push_back(CollectionFrom(s));
      }
      return out;
    });
  }

  Result<Collection> GetCollection(const std::string& api_root, const std::string& id) override {
    return Read<Collection>([&](Connection& c) -> Result<Collection> {
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(
          "SELECT id,api_root,title,description,alias FROM collections WHERE api_root=? AND id=?"));
      BindText(s, 1, api_root);
      BindText(s, 2, id);
      CORDON_ASSIGN_OR_RETURN(bool row, Step(c, s, "read collection"));
      if (!row) return absl::NotFoundError("no collection '" + id + "' in API root '" + api_root + "'");
      return CollectionFrom(s);
    });
  }

  // --- objects ---
  Result<std::unique_ptr<BulkWrite>> BeginBulkWrite(const std::string& collection) override {
    std::unique_lock lock(write_mu_);
    bool rollback_journal = false;
    if (options_.bulk_without_wal) {
      {
        std::lock_guard pool(pool_mu_);
        readers_.clear();  // this store's own idle readers would keep the WAL in use
      }
      // SQLite leaves WAL mode only when no other connection has the database
      // open; otherwise the pragma fails (locked) and the write stays in WAL.
      CORDON_ASSIGN_OR_RETURN(auto* s, writer_->Prepare("PRAGMA journal_mode=TRUNCATE"));
      Result<bool> row = Step(*writer_, s, "set journal mode");
      rollback_journal = row.ok() && *row && ColumnText(s, 0) == "truncate";
      sqlite3_reset(s);
      writer_->ResetBusy();
    }
    if (Status begin = writer_->Exec("BEGIN IMMEDIATE"); !begin.ok()) {
      if (rollback_journal) RestoreWal();
      return begin;
    }
    return std::unique_ptr<BulkWrite>(new SqliteBulkWrite(*this, std::move(lock), collection, rollback_journal));
  }

  Result<PageEnd> ScanObjects(const ObjectQuery& q, RowVisitor visit) override {
    return Read<PageEnd>([&](Connection& c) -> Result<PageEnd> {
      int64_t after = q.after_cursor;
      if (q.added_after) {
        // "Added after X" becomes "seq from the first row added after X", so
        // the scan below stays a seq range scan.
        CORDON_ASSIGN_OR_RETURN(std::optional<int64_t> first, SeekAddedAfter(c, q.added_after->ns));
        if (!first) return PageEnd{};
        after = std::max<int64_t>(after, *first - 1);
      }
      Sql sql;
      sql.Add("SELECT seq,date_added_ns,").Add(q.with_bytes ? "bytes" : "NULL");
      if (q.with_identity) sql.Add(",id,type,spec_version,version_ns,version_digits");
      // match[id] selects a few rows per id: look them up by id (then sort
      // them) rather than let the planner walk a flag index in seq order.
      sql.Add(q.ids.empty() ? " FROM objects" : " FROM objects INDEXED BY objects_by_version");
      sql.Add(" WHERE ckey=(").Add(kCkeyOf).Param(q.collection).Add(") AND seq>").Param(after);
      AddVersionClause(sql, q.version.empty() ? VersionFilter{.last = true} : q.version);
      sql.In("id", q.ids).In("type", q.types).In("spec_version", q.spec_versions);
      const int limit = std::max(1, q.limit);
      sql.Add(" ORDER BY seq LIMIT ").Param(int64_t{limit} + 1);  // one more: `more` is exact
      CORDON_ASSIGN_OR_RETURN(auto* s, c.PrepareDynamic(sql.text));
      sql.Bind(s);
      PageEnd end;
      int rows = 0;
      for (;;) {
        CORDON_ASSIGN_OR_RETURN(bool row, Step(c, s, "query objects"));
        if (!row) break;
        if (rows == limit) {
          end.more = true;
          break;
        }
        ++rows;
        end.next_cursor = sqlite3_column_int64(s, 0);
        ObjectRow out{.date_added = Timestamp{sqlite3_column_int64(s, 1), 6},
                      .bytes = q.with_bytes ? BlobView(s, 2) : std::string_view()};
        if (q.with_identity) {
          out.id = ColumnView(s, 3);
          out.type = ColumnView(s, 4);
          out.spec_version = ColumnView(s, 5);
          out.version = Timestamp{sqlite3_column_int64(s, 6), static_cast<int8_t>(sqlite3_column_int(s, 7))};
        }
        visit(out);
      }
      sqlite3_reset(s);
      if (!end.more) end.next_cursor = 0;
      return end;
    });
  }

  Result<int64_t> DeleteObject(const std::string& collection, const std::string& id, const VersionFilter& v,
                               const std::vector<std::string>& spec_versions) override {
    std::lock_guard lock(write_mu_);
    Connection& c = *writer_;
    return WriteTxn<int64_t>(c, [&]() -> Result<int64_t> {
      CORDON_ASSIGN_OR_RETURN(std::optional<int64_t> ckey, CollectionKey(c, collection, /*create=*/false));
      if (!ckey) return 0;
      Sql sql;
      sql.Add("DELETE FROM objects INDEXED BY objects_by_version WHERE ckey=").Param(*ckey);
      sql.Add(" AND id=").Param(id);
      if (!v.empty()) AddVersionClause(sql, v);  // empty: every version
      sql.In("spec_version", spec_versions);
      CORDON_ASSIGN_OR_RETURN(auto* s, c.PrepareDynamic(sql.text));
      sql.Bind(s);
      CORDON_RETURN_IF_ERROR(Done(c, s, "delete object"));
      int64_t n = sqlite3_changes(c.db());
      if (n > 0) CORDON_RETURN_IF_ERROR(RecomputeFlags(c, *ckey, id));
      return n;
    });
  }

  Result<int64_t> CountObjects(const std::string& collection) override {
    return Read<int64_t>([&](Connection& c) -> Result<int64_t> {
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(
          "SELECT count(*) FROM objects WHERE ckey=(SELECT ckey FROM object_collections WHERE id=?)"));
      BindText(s, 1, collection);
      CORDON_ASSIGN_OR_RETURN(bool row, Step(c, s, "count objects"));
      int64_t n = row ? sqlite3_column_int64(s, 0) : 0;
      sqlite3_reset(s);
      return n;
    });
  }

  // --- status resources ---
  Status PutStatus(const StatusResource& st) override {
    std::lock_guard lock(write_mu_);
    Connection& c = *writer_;
    return WriteTxn<bool>(c, [&]() -> Result<bool> {
      CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(
          "INSERT INTO statuses(id,api_root,user,status,request_ns) VALUES(?,?,?,?,?) "
          "ON CONFLICT(id) DO UPDATE SET api_root=excluded.api_root, user=excluded.user, "
          "status=excluded.status, request_ns=excluded.request_ns"));
      BindText(s, 1, st.id);
      BindText(s, 2, st.api_root);
      BindText(s, 3, st.user);
      BindText(s, 4, st.status);
      sqlite3_bind_int64(s, 5, st.request_timestamp.ns);
      CORDON_RETURN_IF_ERROR(Done(c, s, "store status"));
      // A status is rewritten as a whole (pending -> complete): old details go.
      CORDON_ASSIGN_OR_RETURN(auto* clear, c.Prepare("DELETE FROM status_details WHERE status_id=?"));
      BindText(clear, 1, st.id);
      CORDON_RETURN_IF_ERROR(Done(c, clear, "replace status details"));
      CORDON_ASSIGN_OR_RETURN(auto* d, c.Prepare(
          "INSERT INTO status_details(status_id,kind,idx,id,version,message) VALUES(?,?,?,?,?,?)"));
      const std::vector<StatusDetail>* lists[] = {&st.successes, &st.failures, &st.pendings};
      for (int kind = 0; kind < 3; ++kind) {
        for (size_t i = 0; i < lists[kind]->size(); ++i) {
          const auto& x = (*lists[kind])[i];
          BindText(d, 1, st.id);
          sqlite3_bind_int(d, 2, kind);
          sqlite3_bind_int64(d, 3, static_cast<int64_t>(i));
          BindText(d, 4, x.id);
          BindText(d, 5, x.version);
          BindText(d, 6, x.message);
          CORDON_RETURN_IF_ERROR(Done(c, d, "store status detail"));
        }
      }
      return true;
    }).status();
  }

  Result<StatusResource> GetStatus(const std::string& id) override {
    // One snapshot for both statements (a concurrent PutStatus rewrites
    // both): the caller's ReadScope, or one of our own.
    std::unique_ptr<ReadScope> snapshot = BeginReadScope();
    return Read<StatusResource>([&](Connection& c) { return GetStatusIn(c, id); });
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
      CORDON_ASSIGN_OR_RETURN(bool row, Step(c, s, "read user"));
      if (!row) return absl::NotFoundError("no user '" + name + "'");
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
      for (;;) {
        CORDON_ASSIGN_OR_RETURN(bool row, Step(c, s, "list users"));
        if (!row) break;
        out.push_back(UserFrom(s));
      }
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
      CORDON_ASSIGN_OR_RETURN(bool row, Step(c, s, "read token"));
      // The hash is a credential's: not echoed into messages or logs.
      if (!row) return absl::NotFoundError("no API token with that hash");
      Token t{ColumnText(s, 0), ColumnText(s, 1), ColumnText(s, 2)};
      sqlite3_reset(s);
      return t;
    });
  }

 private:
  Status Migrate() { return sqlite::Migrate(*writer_, kMigrations, "the store"); }

  // The writer's WAL hook under Checkpoint::kAlsoWhenIdle: SQLite's automatic
  // checkpoint (which this hook replaces), and the time of the commit.
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int pages) {
    static_cast<SqliteStore*>(self)->last_commit_ns_.store(
        std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
    if (pages >= sqlite::kAutocheckpointPages) sqlite3_wal_checkpoint(db, name);
    return SQLITE_OK;
  }

  // The idle checkpointer: once a second, unless this store committed during
  // it, a PASSIVE checkpoint (never waits for readers or writers; cheap when
  // the WAL holds nothing new).
  void RunIdleCheckpoints(Connection& c) {
    constexpr auto kIdle = std::chrono::seconds(1);
    std::unique_lock lock(checkpoint_mu_);
    while (!checkpoint_cv_.wait_for(lock, kIdle, [&] { return stopping_; })) {
      auto last = std::chrono::steady_clock::duration(last_commit_ns_.load(std::memory_order_relaxed));
      if (std::chrono::steady_clock::now().time_since_epoch() - last < kIdle) continue;
      lock.unlock();
      sqlite3_wal_checkpoint_v2(c.db(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      lock.lock();
    }
  }

  // What a bulk write knows of its collection: if it held no object when the
  // write began (the write lock is held throughout), an id this write has not
  // stored has no version, and its version-range probe (a B-tree seek per
  // object) is skipped. Hashes only: a collision costs a probe, never a
  // wrong answer.
  struct FreshIds {
    bool checked = false;
    bool empty = false;                      // the collection had no object at the first Put
    absl::flat_hash_set<size_t> written;     // std::hash of the ids stored so far
  };

  // Back to WAL after a bulk write under a rollback journal. If another
  // connection opened the database meanwhile this fails, and the next writer
  // to open it (every writer asks for WAL) switches it back.
  void RestoreWal() { writer_->Exec("PRAGMA journal_mode=WAL").IgnoreError(); }

  // The open write transaction of BeginBulkWrite; owns write_mu_ meanwhile.
  class SqliteBulkWrite : public BulkWrite {
   public:
    SqliteBulkWrite(SqliteStore& store, std::unique_lock<std::mutex> lock, std::string collection,
                    bool rollback_journal)
        : store_(store), lock_(std::move(lock)), collection_(std::move(collection)),
          saved_last_(store.last_date_added_ns_), rollback_journal_(rollback_journal) {}
    ~SqliteBulkWrite() override {
      if (open_) {
        Connection& c = *store_.writer_;
        c.ResetBusy();
        if (!sqlite3_get_autocommit(c.db())) c.Exec("ROLLBACK").IgnoreError();
        store_.last_date_added_ns_ = saved_last_;  // nothing of the transaction was stored
      }
      if (rollback_journal_) store_.RestoreWal();
    }

    Result<PutResult> Put(const std::vector<NewObject>& objects) override {
      CORDON_RETURN_IF_ERROR(failed_);
      auto result = store_.PutLocked(*store_.writer_, collection_, objects, &fresh_);
      if (!result.ok()) failed_ = result.status();
      size_t bytes = 0;
      for (const NewObject& o : objects) bytes += o.bytes.size();
      writeback_.Wrote(bytes);
      return result;
    }

    Status Commit() override {
      CORDON_RETURN_IF_ERROR(failed_);
      failed_ = store_.writer_->Exec("COMMIT");
      if (failed_.ok()) open_ = false;
      return failed_;
    }

   private:
    SqliteStore& store_;
    std::unique_lock<std::mutex> lock_;
    const std::string collection_;
    const int64_t saved_last_;
    const bool rollback_journal_;  // BeginBulkWrite left WAL mode for this write
    FreshIds fresh_;
    WritebackStarter writeback_{store_.path_};
    bool open_ = true;   // begun, not yet committed
    Status failed_;      // the first error: the transaction is lost
  };

  // Runs `f` in a write transaction on `c` (the writer; write_mu_ held):
  // committed (durably) if it succeeds, rolled back otherwise.
  template <typename T, typename F>
  Result<T> WriteTxn(Connection& c, F&& f) {
    CORDON_RETURN_IF_ERROR(c.Exec("BEGIN IMMEDIATE"));
    Result<T> r = f();
    if (r.ok()) {
      Status commit = c.Exec("COMMIT");
      if (commit.ok()) return r;
      r = commit;
    }
    c.ResetBusy();
    if (!sqlite3_get_autocommit(c.db())) c.Exec("ROLLBACK").IgnoreError();
    return r;
  }

  // Runs `f` on a reader connection from the pool (created on demand; one per
  // concurrently reading thread), so readers never wait for the writer: each
  // reads the last committed WAL snapshot. Inside a ReadScope of this store,
  // on the scope's connection and snapshot.
  template <typename T, typename F>
  Result<T> Read(F&& f) {
    if (pinned_reader.store == this) {
      Result<T> r = f(*pinned_reader.connection);
      pinned_reader.connection->ResetBusy();  // resets the statements; the scope's transaction goes on
      return r;
    }
    CORDON_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, TakeReader());
    Result<T> r = f(*c);
    c->ResetBusy();  // ends the read transaction: the next call sees new commits
    ReturnReader(std::move(c));
    return r;
  }

  Result<std::unique_ptr<Connection>> TakeReader() {
    {
      std::lock_guard lock(pool_mu_);
      if (!readers_.empty()) {
        std::unique_ptr<Connection> c = std::move(readers_.back());
        readers_.pop_back();
        return c;
      }
    }
    return Connection::Open(path_, {options_.cache_kib, /*writer=*/false});
  }

  void ReturnReader(std::unique_ptr<Connection> c) {
    std::lock_guard lock(pool_mu_);
    readers_.push_back(std::move(c));
  }

  // A statement without results, prepared once per connection (Exec would
  // parse it on every call: BEGIN and COMMIT run once per TAXII GET).
  static Status RunCached(Connection& c, const char* sql) {
    CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(sql));
    return Done(c, s, sql);
  }

  // A BEGIN on a reader connection, pinned to the thread until destroyed.
  // The snapshot is taken by the first read (a deferred transaction).
  class PinnedReads : public ReadScope {
   public:
    PinnedReads(SqliteStore* store, std::unique_ptr<Connection> c) : store_(store), c_(std::move(c)) {
      pinned_reader = {store_, c_.get()};
    }
    ~PinnedReads() override {
      pinned_reader = {};
      c_->ResetBusy();
      if (!sqlite3_get_autocommit(c_->db())) RunCached(*c_, "COMMIT").IgnoreError();
      store_->ReturnReader(std::move(c_));
    }

   private:
    SqliteStore* store_;
    std::unique_ptr<Connection> c_;
  };

  std::unique_ptr<ReadScope> BeginReadScope() override {
    if (pinned_reader.store) return nullptr;
    Result<std::unique_ptr<Connection>> c = TakeReader();
    if (!c.ok()) return nullptr;  // reads then open their own and report the error
    if (!RunCached(**c, "BEGIN").ok()) {
      ReturnReader(*std::move(c));
      return nullptr;
    }
    return std::make_unique<PinnedReads>(this, *std::move(c));
  }

  // A seq at or before the first row (any collection) whose date_added is
  // after `ns` and after every row added up to `ns`, or nullopt if no row is
  // added after `ns`. date_added grows with seq, so the rows added after `ns`
  // are a suffix in seq order: a binary search over seq, each step one rowid
  // seek (~20 for 1M rows), instead of an index on date_added that every
  // insert would have to maintain. Results are remembered: a TAXII client
  // pages with the same added_after, and a found seq stays right for good
  // (rows are only appended after it, with later date_added; if it is deleted,
  // the scan starts where it was and finds the same rows).
  Result<std::optional<int64_t>> SeekAddedAfter(Connection& c, int64_t ns) {
    {
      std::lock_guard lock(seek_mu_);
      for (const auto& [after_ns, seq] : seek_cache_)
        if (after_ns == ns && seq > 0) return seq;
    }
    CORDON_ASSIGN_OR_RETURN(std::optional<int64_t> found, SearchAddedAfter(c, ns));
    if (found) {
      std::lock_guard lock(seek_mu_);
      seek_cache_[seek_next_++ % seek_cache_.size()] = {ns, *found};
    }
    return found;
  }

  Result<std::optional<int64_t>> SearchAddedAfter(Connection& c, int64_t ns) {
    CORDON_ASSIGN_OR_RETURN(auto* at, c.Prepare(
        "SELECT seq, date_added_ns FROM objects WHERE seq>=? ORDER BY seq LIMIT 1"));
    // The first row at or after seq `from`: (seq, date_added), or nullopt.
    auto row_from = [&](int64_t from) -> Result<std::optional<std::pair<int64_t, int64_t>>> {
      sqlite3_bind_int64(at, 1, from);
      CORDON_ASSIGN_OR_RETURN(bool row, Step(c, at, "seek added_after"));
      std::optional<std::pair<int64_t, int64_t>> out;
      if (row) out = {sqlite3_column_int64(at, 0), sqlite3_column_int64(at, 1)};
      sqlite3_reset(at);
      return out;
    };
    CORDON_ASSIGN_OR_RETURN(auto* last, c.Prepare("SELECT seq, date_added_ns FROM objects ORDER BY seq DESC LIMIT 1"));
    CORDON_ASSIGN_OR_RETURN(bool any, Step(c, last, "seek added_after"));
    int64_t best = any ? sqlite3_column_int64(last, 0) : 0;
    const bool newest_is_after = any && sqlite3_column_int64(last, 1) > ns;
    sqlite3_reset(last);
    if (!newest_is_after) return std::nullopt;
    // Invariants: `best` is added after `ns`; every row before `lo` is not;
    // no row lies in [end, best).
    int64_t lo = 0, end = best;
    while (lo < end) {
      const int64_t mid = lo + (end - lo) / 2;
      CORDON_ASSIGN_OR_RETURN(auto r, row_from(mid));
      if (!r || r->first >= end) {
        end = mid;  // no row in [mid, end)
      } else if (r->second > ns) {
        best = end = r->first;
      } else {
        lo = r->first + 1;
      }
    }
    return best;
  }

  Result<StatusResource> GetStatusIn(Connection& c, const std::string& id) {
    CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare("SELECT api_root,user,status,request_ns FROM statuses WHERE id=?"));
    BindText(s, 1, id);
    CORDON_ASSIGN_OR_RETURN(bool row, Step(c, s, "read status"));
    if (!row) return absl::NotFoundError("no status resource '" + id + "'");
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
    for (;;) {
      CORDON_ASSIGN_OR_RETURN(bool more, Step(c, d, "read status details"));
      if (!more) break;
      int kind = sqlite3_column_int(d, 0);
      StatusDetail x{ColumnText(d, 1), ColumnText(d, 2), ColumnText(d, 3)};
      (kind == 0 ? st.successes : kind == 1 ? st.failures : st.pendings).push_back(std::move(x));
    }
    sqlite3_reset(d);
    return st;
  }

  // A new version waiting for its INSERT (see InsertRows).
  struct NewRow {
    const NewObject* object;
    size_t id_hash;  // of object->info.id: the pending check compares these first
    int64_t date_added_ns;
    bool is_first, is_last;
  };

  // New rows go in kInsertRows per INSERT statement: a one-row INSERT pays
  // statement start-up, opening cursors on the table and its six indexes and
  // the AUTOINCREMENT bookkeeping each time, a good part of a bulk load.
  static constexpr size_t kInsertRows = 32;
  static constexpr int kInsertColumns = 14;

  static Status InsertRows(Connection& c, int64_t ckey, std::vector<NewRow>& rows) {
    if (rows.empty()) return absl::OkStatus();
    std::string sql =
        "INSERT INTO objects(ckey,id,type,spec_version,version_ns,version_digits,date_added_ns,"
        "is_first,is_last,revoked,confidence,tlp,marking_refs,bytes) VALUES";
    for (size_t r = 0; r < rows.size(); ++r) sql += r ? ",(?,?,?,?,?,?,?,?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    CORDON_ASSIGN_OR_RETURN(auto* insert, c.Prepare(sql));  // cached: one text per row count
    for (size_t r = 0; r < rows.size(); ++r) {
      const NewObject& o = *rows[r].object;
      const Timestamp version = o.info.version();
      const int at = static_cast<int>(r) * kInsertColumns;
      sqlite3_bind_int64(insert, at + 1, ckey);
      BindTextStatic(insert, at + 2, o.info.id);
      BindTextStatic(insert, at + 3, o.info.type);
      BindTextStatic(insert, at + 4, SpecVersionText(o.info.spec_version));
      sqlite3_bind_int64(insert, at + 5, version.ns);
      sqlite3_bind_int(insert, at + 6, version.frac_digits);
      sqlite3_bind_int64(insert, at + 7, rows[r].date_added_ns);
      sqlite3_bind_int(insert, at + 8, rows[r].is_first);
      sqlite3_bind_int(insert, at + 9, rows[r].is_last);
      sqlite3_bind_int(insert, at + 10, o.info.revoked);
      if (o.info.confidence) {
        sqlite3_bind_int(insert, at + 11, *o.info.confidence);
      } else {
        sqlite3_bind_null(insert, at + 11);
      }
      sqlite3_bind_int(insert, at + 12, static_cast<int>(o.info.tlp));
      if (o.info.object_marking_refs.empty()) {
        sqlite3_bind_text(insert, at + 13, "[]", 2, SQLITE_STATIC);
      } else {
        BindText(insert, at + 13, JsonArray(o.info.object_marking_refs));
      }
      sqlite3_bind_blob(insert, at + 14, o.bytes.data(), static_cast<int>(o.bytes.size()), SQLITE_STATIC);
    }
    rows.clear();
    return Done(c, insert, "insert objects");
  }

  Result<PutResult> PutLocked(Connection& c, const std::string& collection, const std::vector<NewObject>& objects,
                              FreshIds* fresh = nullptr) {
    PutResult out;
    out.outcomes.reserve(objects.size());
    out.date_added.reserve(objects.size());
    CORDON_ASSIGN_OR_RETURN(auto* find, c.Prepare(
        "SELECT date_added_ns, bytes FROM objects WHERE ckey=? AND id=? AND version_ns=?"));
    CORDON_ASSIGN_OR_RETURN(auto* range, c.Prepare(
        "SELECT min(version_ns), max(version_ns) FROM objects WHERE ckey=? AND id=?"));
    CORDON_ASSIGN_OR_RETURN(auto* clear_last, c.Prepare(
        "UPDATE objects SET is_last=0 WHERE ckey=? AND id=? AND version_ns=?"));
    CORDON_ASSIGN_OR_RETURN(auto* clear_first, c.Prepare(
        "UPDATE objects SET is_first=0 WHERE ckey=? AND id=? AND version_ns=?"));
    CORDON_ASSIGN_OR_RETURN(auto* mark, c.Prepare(
        "UPDATE meta SET value=? WHERE key='last_date_added_ns'"));
    // Another process (an import beside the server) may have written since
    // this one last did: continue from the high-water mark it left, so that
    // date_added keeps growing with seq across processes (SeekAddedAfter
    // relies on it). Read inside the write transaction, so it is current.
    CORDON_ASSIGN_OR_RETURN(auto* high, c.Prepare("SELECT value FROM meta WHERE key='last_date_added_ns'"));
    CORDON_ASSIGN_OR_RETURN(bool has_high, Step(c, high, "read date_added high-water mark"));
    if (has_high) last_date_added_ns_ = std::max<int64_t>(last_date_added_ns_, sqlite3_column_int64(high, 0));
    sqlite3_reset(high);
    CORDON_ASSIGN_OR_RETURN(std::optional<int64_t> key, CollectionKey(c, collection, /*create=*/true));
    const int64_t ckey = *key;
    if (fresh && !fresh->checked) {
      CORDON_ASSIGN_OR_RETURN(auto* any, c.Prepare("SELECT 1 FROM objects WHERE ckey=? LIMIT 1"));
      sqlite3_bind_int64(any, 1, ckey);
      CORDON_ASSIGN_OR_RETURN(bool row, Step(c, any, "read whether the collection is empty"));
      sqlite3_reset(any);
      fresh->empty = !row;
      fresh->checked = true;
    }
    const bool skip_probes = fresh && fresh->empty;
    const int64_t now_ns =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count() * 1000;
    std::vector<NewRow> pending;  // new rows not inserted yet, ids all different
    pending.reserve(kInsertRows);
    bool added = false;
    for (const NewObject& o : objects) {
      // The reads below must see every earlier version of this id.
      const size_t id_hash = std::hash<std::string_view>()(o.info.id);
      if (std::any_of(pending.begin(), pending.end(),
                      [&](const NewRow& r) { return r.id_hash == id_hash && r.object->info.id == o.info.id; })) {
        CORDON_RETURN_IF_ERROR(InsertRows(c, ckey, pending));
      }
      const Timestamp version = o.info.version();
      // The id's version range first: for a new id (the common case) that one
      // covering-index probe is all that precedes the insert.
      bool is_first = true, is_last = true, had_versions = false;
      int64_t min = 0, max = 0;
      if (!skip_probes || fresh->written.contains(id_hash)) {
        sqlite3_bind_int64(range, 1, ckey);
        BindTextStatic(range, 2, o.info.id);
        CORDON_ASSIGN_OR_RETURN(bool row, Step(c, range, "read version range"));
        if (row && sqlite3_column_type(range, 0) != SQLITE_NULL) {
          had_versions = true;
          min = sqlite3_column_int64(range, 0);
          max = sqlite3_column_int64(range, 1);
          is_first = version.ns < min;
          is_last = version.ns > max;
        }
        sqlite3_reset(range);
      }
      if (had_versions && version.ns >= min && version.ns <= max) {
        sqlite3_bind_int64(find, 1, ckey);
        BindTextStatic(find, 2, o.info.id);
        sqlite3_bind_int64(find, 3, version.ns);
        CORDON_ASSIGN_OR_RETURN(bool found, Step(c, find, "read stored version"));
        if (found) {
          int64_t date_added = sqlite3_column_int64(find, 0);
          const void* blob = sqlite3_column_blob(find, 1);
          std::string_view stored(blob ? static_cast<const char*>(blob) : "", sqlite3_column_bytes(find, 1));
          out.outcomes.push_back(stored == o.bytes ? PutOutcome::kUnchanged : PutOutcome::kConflict);
          out.date_added.push_back(Timestamp{date_added, 6});
          sqlite3_reset(find);
          continue;
        }
        sqlite3_reset(find);
      }
      // The previous last (max) / first (min) version loses its flag. The
      // version_ns term keeps this a point update on objects_by_version.
      for (auto [flag, stmt, old] : {std::tuple{is_last, clear_last, max}, std::tuple{is_first, clear_first, min}}) {
        if (!flag || !had_versions) continue;
        sqlite3_bind_int64(stmt, 1, ckey);
        BindTextStatic(stmt, 2, o.info.id);
        sqlite3_bind_int64(stmt, 3, old);
        CORDON_RETURN_IF_ERROR(Done(c, stmt, "update version flags"));
      }
      // date_added: microseconds, strictly increasing across the whole node.
      last_date_added_ns_ = std::max(now_ns, last_date_added_ns_ + 1000);
      pending.push_back(NewRow{&o, id_hash, last_date_added_ns_, is_first, is_last});
      if (skip_probes) fresh->written.insert(id_hash);
      if (pending.size() == kInsertRows) CORDON_RETURN_IF_ERROR(InsertRows(c, ckey, pending));
      out.outcomes.push_back(PutOutcome::kAdded);
      out.date_added.push_back(Timestamp{last_date_added_ns_, 6});
      added = true;
    }
    CORDON_RETURN_IF_ERROR(InsertRows(c, ckey, pending));
    if (added) {
      sqlite3_bind_int64(mark, 1, last_date_added_ns_);
      CORDON_RETURN_IF_ERROR(Done(c, mark, "store date_added high-water mark"));
    }
    return out;
  }

  // The key of `collection` in `objects`: created on first use if `create`,
  // else nullopt when the collection never had objects. Writer only.
  Result<std::optional<int64_t>> CollectionKey(Connection& c, const std::string& collection, bool create) {
    CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare("SELECT ckey FROM object_collections WHERE id=?"));
    BindText(s, 1, collection);
    CORDON_ASSIGN_OR_RETURN(bool row, Step(c, s, "read collection key"));
    if (row) {
      int64_t key = sqlite3_column_int64(s, 0);
      sqlite3_reset(s);
      return key;
    }
    if (!create) return std::nullopt;
    CORDON_ASSIGN_OR_RETURN(auto* ins, c.Prepare("INSERT INTO object_collections(id) VALUES(?)"));
    BindText(ins, 1, collection);
    CORDON_RETURN_IF_ERROR(Done(c, ins, "create collection key"));
    return sqlite3_last_insert_rowid(c.db());
  }

  Status RecomputeFlags(Connection& c, int64_t ckey, const std::string& id) {
    CORDON_ASSIGN_OR_RETURN(auto* s, c.Prepare(
        "UPDATE objects SET "
        "is_first = (version_ns = (SELECT min(version_ns) FROM objects WHERE ckey=?1 AND id=?2)), "
        "is_last = (version_ns = (SELECT max(version_ns) FROM objects WHERE ckey=?1 AND id=?2)) "
        "WHERE ckey=?1 AND id=?2"));
    sqlite3_bind_int64(s, 1, ckey);
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
  std::mutex seek_mu_;                // guards the two below (SeekAddedAfter)
  std::array<std::pair<int64_t, int64_t>, 16> seek_cache_{};  // (added_after ns, seq); seq 0: empty
  size_t seek_next_ = 0;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Connection>> readers_;  // idle reader connections

  // Checkpoint::kAlsoWhenIdle: the idle checkpointer.
  std::atomic<int64_t> last_commit_ns_{0};  // steady clock, of this store's last commit
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool stopping_ = false;  // guarded by checkpoint_mu_
  std::thread checkpointer_;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::filesystem::path& path, const SqliteOptions& options) {
  auto store = std::make_unique<SqliteStore>(path.string(), options);
  CORDON_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace cordon::store
