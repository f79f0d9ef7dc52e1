#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "testutil/testutil.h"

namespace cordon::store {
namespace {

constexpr char kCol[] = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";

struct Obj {
  std::string bytes;
  stix::ObjectInfo info;
};

Obj MakeObject(const std::string& id, int64_t modified_s, const std::string& type = "indicator",
               const std::string& extra = "") {
  Obj o;
  o.info.id = id;
  o.info.type = type;
  o.info.modified = Timestamp{modified_s * 1'000'000'000, 3};
  o.info.created = Timestamp{0, 3};
  o.bytes = "{\"id\":\"" + id + "\",\"modified\":" + std::to_string(modified_s) + extra + "}";
  return o;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = OpenSqliteStore(dir_.path() / "cordon.db");
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->PutApiRoot({"cordon", "t", "d", 1000}).ok());
    ASSERT_TRUE(store_->PutCollection({kCol, "cordon", "c", "", ""}).ok());
  }

  PutResult Put(const std::vector<Obj>& objs) {
    std::vector<NewObject> in;
    for (const auto& o : objs) in.push_back({o.bytes, o.info});
    auto r = store_->PutObjects(kCol, in);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : PutResult{};
  }

  std::vector<std::pair<std::string, int64_t>> Ids(ObjectQuery q) {
    q.collection = kCol;
    if (q.limit == 0) q.limit = 1000;
    auto page = store_->QueryObjects(q);
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::pair<std::string, int64_t>> out;
    for (const auto& o : page->items) out.emplace_back(o.id, o.version.ns / 1'000'000'000);
    return out;
  }

  testutil::TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteStoreTest, IdempotentRepostAndConflict) {
  auto a = MakeObject("indicator--a", 1);
  auto r1 = Put({a});
  auto r2 = Put({a});
  EXPECT_EQ(r1.outcomes[0], PutOutcome::kAdded);
  EXPECT_EQ(r2.outcomes[0], PutOutcome::kUnchanged);
  EXPECT_EQ(r1.date_added[0], r2.date_added[0]);
  auto changed = MakeObject("indicator--a", 1, "indicator", ",\"x\":1");
  EXPECT_EQ(Put({changed}).outcomes[0], PutOutcome::kConflict);
  // A duplicate inside one batch is unchanged the second time.
  auto b = MakeObject("indicator--b", 1);
  auto r3 = Put({b, b});
  EXPECT_EQ(r3.outcomes[0], PutOutcome::kAdded);
  EXPECT_EQ(r3.outcomes[1], PutOutcome::kUnchanged);
  EXPECT_EQ(*store_->CountObjects(kCol), 2);
}

TEST_F(SqliteStoreTest, VersionFiltersFirstLastAllSpecific) {
  // Versions arrive out of order: 2, 1, 3.
  Put({MakeObject("indicator--a", 2)});
  Put({MakeObject("indicator--a", 1)});
  Put({MakeObject("indicator--a", 3), MakeObject("malware--m", 5, "malware")});
  using V = std::vector<std::pair<std::string, int64_t>>;
  EXPECT_EQ(Ids({}), (V{{"indicator--a", 3}, {"malware--m", 5}}));
  ObjectQuery first;
  first.version.first = true;
  EXPECT_EQ(Ids(first), (V{{"indicator--a", 1}, {"malware--m", 5}}));
  ObjectQuery all;
  all.version.all = true;
  all.ids = {"indicator--a"};
  EXPECT_EQ(Ids(all), (V{{"indicator--a", 2}, {"indicator--a", 1}, {"indicator--a", 3}}));
  ObjectQuery specific;
  specific.version.versions = {Timestamp{2'000'000'000, 0}};
  EXPECT_EQ(Ids(specific), (V{{"indicator--a", 2}}));
  ObjectQuery both;
  both.version.first = both.version.last = true;
  both.types = {"indicator"};
  EXPECT_EQ(Ids(both), (V{{"indicator--a", 1}, {"indicator--a", 3}}));
  ObjectQuery spec;
  spec.spec_versions = {"2.0"};
  EXPECT_TRUE(Ids(spec).empty());
}

TEST_F(SqliteStoreTest, DeleteKeepsFlagsExact) {
  Put({MakeObject("indicator--a", 1), MakeObject("indicator--a", 2), MakeObject("indicator--a", 3)});
  VersionFilter last;
  last.last = true;
  EXPECT_EQ(*store_->DeleteObject(kCol, "indicator--a", last, {}), 1);
  using V = std::vector<std::pair<std::string, int64_t>>;
  EXPECT_EQ(Ids({}), (V{{"indicator--a", 2}}));
  VersionFilter first;
  first.first = true;
  EXPECT_EQ(*store_->DeleteObject(kCol, "indicator--a", first, {}), 1);
  EXPECT_EQ(Ids({}), (V{{"indicator--a", 2}}));
  EXPECT_EQ(*store_->DeleteObject(kCol, "indicator--a", {}, {}), 1);
  EXPECT_EQ(*store_->DeleteObject(kCol, "indicator--a", {}, {}), 0);
}

TEST_F(SqliteStoreTest, PaginationAndAddedAfter) {
  std::vector<Obj> objs;
  for (int i = 0; i < 25; ++i) objs.push_back(MakeObject("indicator--" + std::to_string(i), 1));
  auto put = Put(objs);
  for (size_t i = 1; i < put.date_added.size(); ++i) EXPECT_LT(put.date_added[i - 1], put.date_added[i]);
  ObjectQuery q{.collection = kCol, .limit = 10};
  std::vector<std::string> seen;
  int pages = 0;
  for (;;) {
    auto page = store_->QueryObjects(q);
    ASSERT_TRUE(page.ok());
    ++pages;
    for (auto& o : page->items) seen.push_back(o.id);
    if (!page->more) break;
    q.after_cursor = page->next_cursor;
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(seen[0], "indicator--0");
  EXPECT_EQ(seen[24], "indicator--24");
  ObjectQuery after{.collection = kCol, .added_after = put.date_added[19], .limit = 100};
  auto page = store_->QueryObjects(after);
  ASSERT_EQ(page->items.size(), 5u);
  EXPECT_EQ(page->items[0].id, "indicator--20");
  after.added_after = put.date_added[24];
  EXPECT_TRUE(store_->QueryObjects(after)->items.empty());
}

TEST_F(SqliteStoreTest, ReadersSeeCommittedWritesAndAreNotBlocked) {
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int b = 0; b < 20 && !stop; ++b) {
      std::vector<Obj> batch;
      for (int i = 0; i < 500; ++i) batch.push_back(MakeObject("indicator--w" + std::to_string(b * 500 + i), 1));
      Put(batch);
    }
  });
  int64_t last = -1;
  int reads = 0;
  while (reads < 200) {
    auto n = store_->CountObjects(kCol);
    ASSERT_TRUE(n.ok()) << n.status();
    EXPECT_GE(*n, last);  // counts only grow: committed batches, never half of one
    EXPECT_EQ(*n % 500, 0);
    last = *n;
    ++reads;
  }
  stop = true;
  writer.join();
}

TEST_F(SqliteStoreTest, ReadScopeSeesOneSnapshotUntilItEnds) {
  Put({MakeObject("indicator--a", 1)});
  {
    std::unique_ptr<ReadScope> scope = store_->BeginReadScope();
    ASSERT_NE(scope, nullptr);
    EXPECT_EQ(store_->BeginReadScope(), nullptr);  // nested: the outer scope stays in force
    ASSERT_EQ(*store_->CountObjects(kCol), 1);     // the snapshot is taken here
    // Writes from this thread (the writer connection) and from another thread
    // commit, but the scope's reads go on seeing the snapshot.
    Put({MakeObject("indicator--b", 1)});
    int64_t other_thread_count = -1;
    std::thread other([&] { other_thread_count = *store_->CountObjects(kCol); });
    other.join();
    EXPECT_EQ(other_thread_count, 2);  // other threads are not pinned
    EXPECT_EQ(*store_->CountObjects(kCol), 1);
    EXPECT_EQ(Ids({}).size(), 1u);
    auto col = store_->GetCollection("cordon", kCol);
    EXPECT_TRUE(col.ok()) << col.status();
    // Reads that take a snapshot of their own join the scope's.
    EXPECT_TRUE(absl::IsNotFound(store_->GetStatus("no-such-status").status()));
  }
  EXPECT_EQ(*store_->CountObjects(kCol), 2);  // after the scope: the latest commit
  auto scope = store_->BeginReadScope();
  EXPECT_NE(scope, nullptr);  // the thread can pin again
  EXPECT_EQ(Ids({}).size(), 2u);
}

TEST_F(SqliteStoreTest, UsersTokensStatusesAndReopen) {
  ASSERT_TRUE(store_->PutUser({"alice", "hash", {kCol}, {"*"}}).ok());
  ASSERT_TRUE(store_->PutToken({"abc", "alice", "ci"}).ok());
  StatusResource st;
  st.id = "s1";
  st.api_root = "cordon";
  st.user = "alice";
  st.status = "complete";
  st.request_timestamp = Timestamp{1'000'000'000, 6};
  st.successes = {{"indicator--a", "2020-01-01T00:00:00Z", ""}};
  st.failures = {{"indicator--b", "", "bad pattern"}};
  ASSERT_TRUE(store_->PutStatus(st).ok());
  store_.reset();
  auto reopened = OpenSqliteStore(dir_.path() / "cordon.db");
  ASSERT_TRUE(reopened.ok());
  auto& s = **reopened;
  auto u = s.GetUser("alice");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->CanRead(kCol));
  EXPECT_FALSE(u->CanRead("other"));
  EXPECT_TRUE(u->CanWrite("other"));
  EXPECT_EQ(s.GetTokenByHash("abc")->user, "alice");
  EXPECT_TRUE(absl::IsNotFound(s.GetTokenByHash("zzz").status()));
  auto got = s.GetStatus("s1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->successes.size(), 1u);
  EXPECT_EQ(got->failures[0].message, "bad pattern");
  EXPECT_EQ(got->total_count(), 2);
  EXPECT_TRUE(absl::IsNotFound(s.GetCollection("cordon", "nope").status()));
  EXPECT_TRUE(absl::IsNotFound(s.PutCollection({"x", "no-root", "t", "", ""})));
}

// --- helpers for the tests below ---

// A raw connection to the store's file, for what the Store interface does not
// show (schema version, integrity, query plans, a foreign write transaction).
class RawDb {
 public:
  explicit RawDb(const std::filesystem::path& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    sqlite3_busy_timeout(db_, 10000);
  }
  ~RawDb() { sqlite3_close(db_); }
  // Every row's columns joined by '|', rows by '\n'.
  std::string Query(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
    std::string out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      if (!out.empty()) out += '\n';
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        if (i) out += '|';
        const unsigned char* t = sqlite3_column_text(s, i);
        out += t ? reinterpret_cast<const char*>(t) : "NULL";
      }
    }
    EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(s);
    return out;
  }
  void Exec(const std::string& sql) {
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
  }

 private:
  sqlite3* db_ = nullptr;
};

std::vector<Obj> Batch(const std::string& prefix, int n, int64_t modified_s = 1) {
  std::vector<Obj> out;
  out.reserve(n);
  for (int i = 0; i < n; ++i) out.push_back(MakeObject("indicator--" + prefix + std::to_string(i), modified_s));
  return out;
}

std::vector<NewObject> Views(const std::vector<Obj>& objs) {
  std::vector<NewObject> in;
  in.reserve(objs.size());
  for (const auto& o : objs) in.push_back({o.bytes, o.info});
  return in;
}

// Every page of `q` (version filter and all), following next_cursor.
std::vector<StoredObject> AllPages(Store& store, ObjectQuery q) {
  std::vector<StoredObject> out;
  for (;;) {
    auto page = store.QueryObjects(q);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    for (auto& o : page->items) out.push_back(std::move(o));
    if (!page->more) break;
    EXPECT_GT(page->next_cursor, q.after_cursor);
    q.after_cursor = page->next_cursor;
  }
  return out;
}

TEST_F(SqliteStoreTest, SchemaVersionWalAndIndexPlans) {
  RawDb raw(dir_.path() / "cordon.db");
  EXPECT_EQ(raw.Query("PRAGMA user_version"), "3");
  EXPECT_EQ(raw.Query("PRAGMA journal_mode"), "wal");
  // The shapes QueryObjects builds: each must be an index range scan in seq
  // order (no full scan, no sort), whatever the filters.
  const std::string head = "EXPLAIN QUERY PLAN SELECT seq,id,type,spec_version,version_ns,version_digits,date_added_ns"
                           " FROM objects WHERE ckey=(SELECT ckey FROM object_collections WHERE id=?) AND seq>?";
  for (const std::string& rest : {
           std::string(" AND is_last=1 ORDER BY seq LIMIT 101"),
           std::string(" AND is_first=1 ORDER BY seq LIMIT 101"),
           std::string(" ORDER BY seq LIMIT 101"),
           std::string(" AND is_last=1 AND type IN (?) ORDER BY seq LIMIT 101"),
           std::string(" AND is_last=1 AND type IN (?,?) ORDER BY seq LIMIT 101"),
           std::string(" AND (is_first=1 OR is_last=1) AND type IN (?) ORDER BY seq LIMIT 101"),
           std::string(" AND (is_last=1 OR version_ns IN (?,?)) ORDER BY seq LIMIT 101"),
           std::string(" AND type IN (?) AND spec_version IN (?) ORDER BY seq LIMIT 101"),
       }) {
    std::string plan = raw.Query(head + rest);
    EXPECT_NE(plan.find("SEARCH objects USING"), std::string::npos) << rest << "\n" << plan;
    EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << rest << "\n" << plan;
  }
  // The added_after seek is a rowid seek per step of its binary search.
  std::string seek = raw.Query("EXPLAIN QUERY PLAN SELECT seq, date_added_ns FROM objects WHERE seq>=? "
                               "ORDER BY seq LIMIT 1");
  EXPECT_NE(seek.find("SEARCH objects USING INTEGER PRIMARY KEY (rowid>?)"), std::string::npos) << seek;
  EXPECT_EQ(raw.Query("SELECT count(*) FROM sqlite_master WHERE name='objects_date_added'"), "0");
  // A match[id] query is a point lookup per id.
  std::string by_id = raw.Query("EXPLAIN QUERY PLAN SELECT seq FROM objects INDEXED BY objects_by_version "
                                "WHERE ckey=? AND seq>? AND is_last=1 AND id IN (?,?) ORDER BY seq LIMIT 101");
  EXPECT_NE(by_id.find("objects_by_version (ckey=? AND id=?)"), std::string::npos) << by_id;
  // Version flags are maintained with point lookups and updates.
  for (const std::string& q : {
           std::string("SELECT min(version_ns), max(version_ns) FROM objects WHERE ckey=? AND id=?"),
           std::string("UPDATE objects SET is_last=0 WHERE ckey=? AND id=? AND version_ns=?"),
           std::string("UPDATE objects SET is_first = (version_ns = (SELECT min(version_ns) FROM objects "
                       "WHERE ckey=?1 AND id=?2)) WHERE ckey=?1 AND id=?2"),
       }) {
    std::string plan = raw.Query("EXPLAIN QUERY PLAN " + q);
    EXPECT_EQ(plan.find("SCAN"), std::string::npos) << q << "\n" << plan;
    EXPECT_NE(plan.find("objects_by_version"), std::string::npos) << q << "\n" << plan;
  }
}

// added_after is a binary search over seq: exact at every boundary, across
// the gaps deletions leave, over rows of several collections.
TEST_F(SqliteStoreTest, AddedAfterIsExactAtEveryRowAcrossGaps) {
  constexpr char kOther[] = "5d0c4b2e-1f3a-4c6d-8e9f-0a1b2c3d4e5f";
  ASSERT_TRUE(store_->PutCollection({kOther, "cordon", "o", "", ""}).ok());
  std::vector<std::pair<std::string, Timestamp>> rows;  // (id, date_added) in kCol, in order
  for (int i = 0; i < 60; ++i) {
    const std::string id = "indicator--g" + std::to_string(i);
    if (i % 3 == 2) {  // interleaved rows of another collection
      Obj o = MakeObject(id, 1);
      ASSERT_TRUE(store_->PutObjects(kOther, {{o.bytes, o.info}}).ok());
      continue;
    }
    rows.emplace_back(id, Put({MakeObject(id, 1)}).date_added[0]);
  }
  for (int i : {0, 1, 7, 8, 9, 10, 30, 39}) {  // a run of deleted rows, and the first one
    ASSERT_EQ(*store_->DeleteObject(kCol, rows[i].first, {}, {}), 1);
    rows[i].first.clear();
  }
  auto expected_after = [&](int64_t ns) {
    std::vector<std::string> ids;
    for (const auto& [id, added] : rows)
      if (!id.empty() && added.ns > ns) ids.push_back(id);
    return ids;
  };
  auto got_after = [&](int64_t ns) {
    std::vector<std::string> ids;
    for (const auto& [id, version] : Ids({.added_after = Timestamp{ns, 6}})) ids.push_back(id);
    return ids;
  };
  for (const auto& [id, added] : rows) {
    for (int64_t ns : {added.ns - 1, added.ns, added.ns + 1}) EXPECT_EQ(got_after(ns), expected_after(ns)) << ns;
  }
  EXPECT_EQ(got_after(0).size(), rows.size() - 8);
  EXPECT_TRUE(got_after(rows.back().second.ns).empty());
  // Seeks are remembered: after rows found by earlier seeks are deleted and new
  // ones added, the same added_after values still give exactly the right rows.
  for (int i : {2, 3, 11, 12, 13, 25}) {
    ASSERT_EQ(*store_->DeleteObject(kCol, rows[i].first, {}, {}), 1);
    rows[i].first.clear();
  }
  for (int i = 0; i < 5; ++i) {
    const std::string id = "indicator--late" + std::to_string(i);
    rows.emplace_back(id, Put({MakeObject(id, 1)}).date_added[0]);
  }
  for (const auto& [id, added] : rows) {
    for (int64_t ns : {added.ns - 1, added.ns, added.ns + 1}) EXPECT_EQ(got_after(ns), expected_after(ns)) << ns;
  }
}

// Two processes write one node (an import beside the server): each continues
// from the date_added the other handed out, so date_added grows with seq and
// the added_after seek finds every new row.
TEST_F(SqliteStoreTest, DateAddedContinuesFromAnotherWritersHighWaterMark) {
  Put({MakeObject("indicator--first", 1)});
  // Another writer handed out date_added up to an hour from now (a burst of
  // rows numbered faster than the clock, or a clock ahead of this one's).
  const int64_t theirs = Now().ns + int64_t{3600} * 1'000'000'000;
  RawDb(dir_.path() / "cordon.db").Exec("UPDATE meta SET value=" + std::to_string(theirs) +
                                        " WHERE key='last_date_added_ns'");
  auto r = Put({MakeObject("indicator--next", 1)});
  EXPECT_GT(r.date_added[0].ns, theirs);
  auto after = Ids({.added_after = Timestamp{theirs, 6}});
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].first, "indicator--next");
}

TEST_F(SqliteStoreTest, NewerSchemaIsRefused) {
  store_.reset();
  RawDb(dir_.path() / "cordon.db").Exec("PRAGMA user_version=99");
  auto s = OpenSqliteStore(dir_.path() / "cordon.db");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(s.status())) << s.status();
  EXPECT_NE(s.status().message().find("99"), std::string::npos);
}

TEST_F(SqliteStoreTest, ConflictInsideOneBatchKeepsTheFirst) {
  auto a = MakeObject("indicator--a", 1);
  auto a2 = MakeObject("indicator--a", 1, "indicator", ",\"x\":2");
  auto r = Put({a, a2, a});
  EXPECT_EQ(r.outcomes, (std::vector<PutOutcome>{PutOutcome::kAdded, PutOutcome::kConflict, PutOutcome::kUnchanged}));
  EXPECT_EQ(r.date_added[0], r.date_added[1]);
  EXPECT_EQ(r.date_added[0], r.date_added[2]);
  auto page = store_->QueryObjects({.collection = kCol, .limit = 10});
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].bytes, a.bytes);
}

TEST_F(SqliteStoreTest, DateAddedStrictlyIncreasesAcrossCallsAndRestarts) {
  std::vector<Timestamp> seen;
  for (int i = 0; i < 50; ++i) {
    auto r = Put({MakeObject("indicator--d" + std::to_string(i), 1)});
    seen.push_back(r.date_added[0]);
  }
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_LT(seen[i - 1], seen[i]);
  // Deleting the newest row and restarting does not let date_added go back.
  EXPECT_EQ(*store_->DeleteObject(kCol, "indicator--d49", {}, {}), 1);
  store_.reset();
  store_ = std::move(*OpenSqliteStore(dir_.path() / "cordon.db"));
  auto r = Put({MakeObject("indicator--after-restart", 1)});
  EXPECT_GT(r.date_added[0], seen.back());
  EXPECT_EQ(r.date_added[0].frac_digits, 6);
  EXPECT_EQ(r.date_added[0].ns % 1000, 0);  // microseconds
}

TEST_F(SqliteStoreTest, BulkWriteLandsWholeOnCommit) {
  std::vector<Obj> first = {MakeObject("indicator--b1", 1), MakeObject("indicator--b2", 1)};
  std::vector<Obj> second = {MakeObject("indicator--b1", 2), MakeObject("indicator--b2", 1)};
  auto write = store_->BeginBulkWrite(kCol);
  ASSERT_TRUE(write.ok()) << write.status();
  auto r1 = (*write)->Put(Views(first));
  ASSERT_TRUE(r1.ok()) << r1.status();
  // A later batch sees the earlier ones of the same transaction.
  auto r2 = (*write)->Put(Views(second));
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->outcomes[0], PutOutcome::kAdded);      // a new version of b1
  EXPECT_EQ(r2->outcomes[1], PutOutcome::kUnchanged);  // b2 again
  EXPECT_EQ(r2->date_added[1], r1->date_added[1]);
  EXPECT_TRUE(Ids({}).empty());  // readers see nothing before the commit
  ASSERT_TRUE((*write)->Commit().ok());
  write->reset();
  EXPECT_EQ(Ids({}), (std::vector<std::pair<std::string, int64_t>>{{"indicator--b2", 1}, {"indicator--b1", 2}}));
  EXPECT_EQ(Ids({.version = {.all = true}}).size(), 3u);
}

TEST_F(SqliteStoreTest, BulkWriteNotCommittedLeavesNothing) {
  auto before = Put({MakeObject("indicator--kept", 1)});
  {
    auto write = store_->BeginBulkWrite(kCol);
    ASSERT_TRUE(write.ok());
    for (int b = 0; b < 3; ++b) {
      std::vector<Obj> batch;
      for (int i = 0; i < 100; ++i) batch.push_back(MakeObject("indicator--lost" + std::to_string(b * 100 + i), 1));
      ASSERT_TRUE((*write)->Put(Views(batch)).ok());
    }
  }  // dropped without Commit: rolled back
  EXPECT_EQ(Ids({}), (std::vector<std::pair<std::string, int64_t>>{{"indicator--kept", 1}}));
  EXPECT_EQ(*store_->CountObjects(kCol), 1);
  // The store writes again at once (the writer was released), and date_added
  // continues from the last committed version.
  auto after = Put({MakeObject("indicator--next", 1)});
  EXPECT_GT(after.date_added[0], before.date_added[0]);
  EXPECT_EQ(*store_->CountObjects(kCol), 2);
}

TEST_F(SqliteStoreTest, BulkWriteHoldsTheWriter) {
  auto write = store_->BeginBulkWrite(kCol);
  ASSERT_TRUE(write.ok());
  std::atomic<bool> other_done{false};
  std::thread other([&] {
    Put({MakeObject("indicator--other", 1)});
    other_done = true;
  });
  ASSERT_TRUE((*write)->Put(Views({MakeObject("indicator--bulk", 1)})).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(other_done);  // waits for the bulk write to end
  ASSERT_TRUE((*write)->Commit().ok());
  write->reset();
  other.join();
  EXPECT_TRUE(other_done);
  EXPECT_EQ(*store_->CountObjects(kCol), 2);
}

// Writes `n` objects (with some bulk each) through a store opened with
// `options`, in one bulk write, after a read (as an import looks up first);
// the store stays open until the caller drops it.
std::unique_ptr<Store> BulkLoad(const std::filesystem::path& db, const SqliteOptions& options, int n) {
  auto s = OpenSqliteStore(db, options);
  EXPECT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE((*s)->CountObjects(kCol).ok());  // a pooled reader stays open, as after a lookup
  std::vector<Obj> objs = Batch("bulk", n);
  for (auto& o : objs) o.bytes += std::string(400, ' ');
  auto write = (*s)->BeginBulkWrite(kCol);
  EXPECT_TRUE(write.ok());
  EXPECT_TRUE((*write)->Put(Views(objs)).ok());
  EXPECT_TRUE((*write)->Commit().ok());
  return std::move(*s);
}

// The POSIX locks this process holds on `file` (lines of /proc/locks).
// The process's POSIX locks on `file`, as a set. /proc/locks is a seq_file
// read in chunks: while other processes (tests running beside this one) take
// and drop locks, a read can repeat or skip a line, so it is read until two
// reads in a row agree. A process's POSIX locks on one range merge, so a
// repeated line is always such an artifact.
std::set<std::string> OwnLocksOn(const std::filesystem::path& file) {
  struct stat st;
  EXPECT_EQ(::stat(file.c_str(), &st), 0);
  const std::string pid = " " + std::to_string(::getpid()) + " ";
  const std::string inode = ":" + std::to_string(st.st_ino) + " ";
  auto read_once = [&] {
    std::set<std::string> out;
    std::ifstream in("/proc/locks");
    for (std::string line; std::getline(in, line);)
      if (line.find("POSIX") != std::string::npos && line.find(pid) != std::string::npos &&
          line.find(inode) != std::string::npos)
        out.insert(line.substr(line.find("POSIX")));  // without the ordinal, which other locks shift
    return out;
  };
  std::set<std::string> last = read_once();
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::set<std::string> next = read_once();
    if (next == last) break;
    last = std::move(next);
  }
  return last;
}

// Closing any descriptor of a file drops all of the process's POSIX locks
// on it, SQLite's too; a bulk write (which starts writeback through its own
// descriptors) must leave them as they were, or another process could write
// under this one's feet.
TEST_F(SqliteStoreTest, BulkWriteKeepsTheProcesssLocksOnTheDatabase) {
  const auto db = dir_.path() / "cordon.db";
  ASSERT_TRUE(store_->CountObjects(kCol).ok());  // the WAL connections hold their read lock
  const std::set<std::string> before = OwnLocksOn(db);
  ASSERT_FALSE(before.empty());
  for (int round = 0; round < 2; ++round) {
    std::vector<Obj> objs = Batch("locks" + std::to_string(round), 450);
    for (Obj& o : objs) o.bytes += std::string(40000, ' ');  // 18 MB: enough to start writeback
    auto write = store_->BeginBulkWrite(kCol);
    ASSERT_TRUE(write.ok());
    ASSERT_TRUE((*write)->Put(Views(objs)).ok());
    ASSERT_TRUE((*write)->Commit().ok());
    write->reset();
    EXPECT_EQ(OwnLocksOn(db), before) << "round " << round;
  }
}

TEST_F(SqliteStoreTest, DeferredCheckpointLeavesTheWalToTheLastClose) {
  const auto db = dir_.path() / "cordon.db";
  store_.reset();
  const auto before = std::filesystem::file_size(db);
  auto importer = BulkLoad(db, {.checkpoint = SqliteOptions::Checkpoint::kDeferred}, 2000);
  EXPECT_EQ(std::filesystem::file_size(db), before);  // committed, in the WAL only
  EXPECT_GT(std::filesystem::file_size(db.string() + "-wal"), 2000u * 400);
  importer.reset();  // the last connection: SQLite checkpoints on close
  EXPECT_GT(std::filesystem::file_size(db), before + 2000u * 400);
  auto reopened = OpenSqliteStore(db);
  EXPECT_EQ(*(*reopened)->CountObjects(kCol), 2000);
}

// What a bulk write with bulk_without_wal leaves: the bytes in the database
// file, not in a WAL; the database back in WAL mode; everything readable.
TEST_F(SqliteStoreTest, BulkWriteAloneBypassesTheWal) {
  const auto db = dir_.path() / "cordon.db";
  store_.reset();
  const auto before = std::filesystem::file_size(db);
  // BulkLoad reads first: the pooled reader must not keep the WAL in use.
  auto s = BulkLoad(db, {.checkpoint = SqliteOptions::Checkpoint::kDeferred, .bulk_without_wal = true}, 2000);
  EXPECT_GT(std::filesystem::file_size(db), before + 2000u * 400);  // in the database file already
  const auto wal = db.string() + "-wal";
  EXPECT_TRUE(!std::filesystem::exists(wal) || std::filesystem::file_size(wal) < 2000u * 400);
  {
    RawDb raw(db);
    EXPECT_EQ(raw.Query("PRAGMA journal_mode"), "wal");
    EXPECT_EQ(raw.Query("PRAGMA integrity_check"), "ok");
  }
  EXPECT_EQ(*s->CountObjects(kCol), 2000);
  // A bulk write that is not committed leaves nothing, and WAL mode.
  {
    auto write = s->BeginBulkWrite(kCol);
    ASSERT_TRUE(write.ok());
    ASSERT_TRUE((*write)->Put(Views(Batch("dropped", 10))).ok());
  }
  EXPECT_EQ(*s->CountObjects(kCol), 2000);
  RawDb raw(db);
  EXPECT_EQ(raw.Query("PRAGMA journal_mode"), "wal");
}

// A bulk write into an empty collection skips the version probe for ids it
// has not written; ids it has written get the full treatment: versions,
// first/last flags and re-posts come out as with PutObjects.
TEST_F(SqliteStoreTest, BulkWriteIntoAnEmptyCollectionKeepsVersionsExact) {
  auto write = store_->BeginBulkWrite(kCol);
  ASSERT_TRUE(write.ok());
  std::vector<Obj> first = {MakeObject("indicator--a", 1), MakeObject("indicator--b", 1), MakeObject("indicator--a", 3)};
  auto r1 = (*write)->Put(Views(first));
  ASSERT_TRUE(r1.ok());
  std::vector<Obj> second = {MakeObject("indicator--a", 2), MakeObject("indicator--b", 1), MakeObject("indicator--b", 0)};
  auto r2 = (*write)->Put(Views(second));
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->outcomes[1], PutOutcome::kUnchanged);  // the same version again
  ASSERT_TRUE((*write)->Commit().ok());
  write->reset();
  auto sorted = [&](ObjectQuery q) {
    auto ids = Ids(q);
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  ObjectQuery last;
  last.version.last = true;
  EXPECT_EQ(sorted(last), (std::vector<std::pair<std::string, int64_t>>{{"indicator--a", 3}, {"indicator--b", 1}}));
  ObjectQuery firsts;
  firsts.version.first = true;
  EXPECT_EQ(sorted(firsts), (std::vector<std::pair<std::string, int64_t>>{{"indicator--a", 1}, {"indicator--b", 0}}));
  ObjectQuery all;
  all.version.all = true;
  EXPECT_EQ(Ids(all).size(), 5u);
}

TEST_F(SqliteStoreTest, BulkWriteBesideAnotherConnectionStaysInTheWal) {
  const auto db = dir_.path() / "cordon.db";
  store_.reset();
  auto server = OpenSqliteStore(db);  // another connection on the database, as a running server
  ASSERT_TRUE(server.ok());
  ASSERT_EQ(*(*server)->CountObjects(kCol), 0);
  const auto before = std::filesystem::file_size(db);
  auto s = BulkLoad(db, {.checkpoint = SqliteOptions::Checkpoint::kDeferred, .bulk_without_wal = true}, 2000);
  EXPECT_EQ(std::filesystem::file_size(db), before);  // committed, in the WAL only
  EXPECT_GT(std::filesystem::file_size(db.string() + "-wal"), 2000u * 400);
  EXPECT_EQ(*(*server)->CountObjects(kCol), 2000);
}

TEST_F(SqliteStoreTest, BackgroundCheckpointerCopiesOtherProcessesCommits) {
  const auto db = dir_.path() / "cordon.db";
  store_.reset();
  auto server = OpenSqliteStore(db, {.checkpoint = SqliteOptions::Checkpoint::kAlsoWhenIdle});
  ASSERT_TRUE(server.ok());
  const auto before = std::filesystem::file_size(db);
  // Another connection (as `cordon import` would) commits and goes away; it is
  // not the last one, so it does not checkpoint: the server's thread does,
  // within about a second.
  BulkLoad(db, {.checkpoint = SqliteOptions::Checkpoint::kDeferred}, 2000).reset();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::filesystem::file_size(db) <= before + 2000u * 400 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(std::filesystem::file_size(db), before + 2000u * 400);
  EXPECT_EQ(*(*server)->CountObjects(kCol), 2000);
}

TEST_F(SqliteStoreTest, FilterCombinations) {
  auto m = MakeObject("malware--m", 1, "malware");
  auto m2 = MakeObject("malware--m", 2, "malware");
  auto r20 = MakeObject("report--old", 1, "report");
  r20.info.spec_version = stix::SpecVersion::k20;
  auto i1 = MakeObject("indicator--i", 1);
  auto i2 = MakeObject("indicator--i", 2);
  auto i3 = MakeObject("indicator--i", 3);
  auto put = Put({m, i1, r20, i2, m2, i3});
  using V = std::vector<std::pair<std::string, int64_t>>;
  EXPECT_EQ(Ids({.types = {"malware", "report"}}), (V{{"report--old", 1}, {"malware--m", 2}}));
  EXPECT_EQ(Ids({.ids = {"indicator--i", "report--old"}, .types = {"indicator"}}), (V{{"indicator--i", 3}}));
  EXPECT_EQ(Ids({.spec_versions = {"2.0"}}), (V{{"report--old", 1}}));
  EXPECT_EQ(Ids({.spec_versions = {"2.0", "2.1"}}).size(), 3u);
  // added_after + type + version=all.
  EXPECT_EQ(Ids({.added_after = put.date_added[1], .types = {"malware", "indicator"}, .version = {.all = true}}),
            (V{{"indicator--i", 2}, {"malware--m", 2}, {"indicator--i", 3}}));
  // Union of a specific version and first.
  EXPECT_EQ(Ids({.ids = {"indicator--i"}, .version = {.first = true, .versions = {Timestamp{2'000'000'000, 3}}}}),
            (V{{"indicator--i", 1}, {"indicator--i", 2}}));
  // Several specific versions, one not stored.
  EXPECT_EQ(Ids({.version = {.versions = {Timestamp{2'000'000'000, 3}, Timestamp{3'000'000'000, 3},
                                          Timestamp{9'000'000'000, 3}}}}),
            (V{{"indicator--i", 2}, {"malware--m", 2}, {"indicator--i", 3}}));
  EXPECT_TRUE(Ids({.ids = {"indicator--nope"}}).empty());
  EXPECT_TRUE(Ids({.types = {"campaign"}}).empty());
  // Manifests: no bytes; versions and date_added as stored.
  auto page = store_->QueryObjects({.collection = kCol, .ids = {"malware--m"}, .version = {.all = true},
                                    .limit = 10, .with_bytes = false});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_TRUE(page->items[0].bytes.empty());
  EXPECT_EQ(page->items[0].date_added, put.date_added[0]);
  EXPECT_EQ(page->items[1].version.ns, 2'000'000'000);
  EXPECT_EQ(page->items[1].version.frac_digits, 3);
  EXPECT_EQ(page->items[1].spec_version, "2.1");
  EXPECT_EQ(page->items[1].type, "malware");
  // Another collection sees none of it.
  auto other = store_->QueryObjects({.collection = "other", .version = {.all = true}, .limit = 10});
  EXPECT_TRUE(other->items.empty());
  EXPECT_EQ(*store_->CountObjects("other"), 0);
  EXPECT_EQ(*store_->CountObjects(kCol), 6);
}

TEST_F(SqliteStoreTest, ExactMoreAtPageBoundary) {
  Put(Batch("p", 20));
  auto page = store_->QueryObjects({.collection = kCol, .limit = 20});
  EXPECT_EQ(page->items.size(), 20u);
  EXPECT_FALSE(page->more);
  EXPECT_EQ(page->next_cursor, 0);
  page = store_->QueryObjects({.collection = kCol, .limit = 19});
  EXPECT_TRUE(page->more);
  auto rest = store_->QueryObjects({.collection = kCol, .after_cursor = page->next_cursor, .limit = 19});
  EXPECT_EQ(rest->items.size(), 1u);
  EXPECT_FALSE(rest->more);
}

TEST_F(SqliteStoreTest, ScanStreamsThePageQueryCopies) {
  Put(Batch("s", 5));
  // The rows a scan hands out are views: copy them inside the visitor.
  std::vector<std::string> ids, bytes;
  auto end = store_->ScanObjects({.collection = kCol, .limit = 3}, [&](const ObjectRow& row) {
    ids.emplace_back(row.id);
    bytes.emplace_back(row.bytes);
    EXPECT_EQ(row.type, "indicator");
    EXPECT_EQ(row.spec_version, "2.1");
  });
  ASSERT_TRUE(end.ok()) << end.status();
  auto page = store_->QueryObjects({.collection = kCol, .limit = 3});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(ids.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ids[i], page->items[i].id);
    EXPECT_EQ(bytes[i], page->items[i].bytes);
    EXPECT_NE(bytes[i].find(ids[i]), std::string::npos);
  }
  EXPECT_TRUE(end->more);
  EXPECT_EQ(end->next_cursor, page->next_cursor);
  // Manifests skip the bytes.
  size_t rows = 0;
  end = store_->ScanObjects({.collection = kCol, .after_cursor = end->next_cursor, .limit = 3, .with_bytes = false},
                            [&](const ObjectRow& row) {
                              ++rows;
                              EXPECT_TRUE(row.bytes.empty());
                              EXPECT_FALSE(row.id.empty());
                            });
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(rows, 2u);
  EXPECT_FALSE(end->more);
  EXPECT_EQ(end->next_cursor, 0);
  // Pages of bytes alone: the same bytes, date_added and cursor, no identity.
  std::vector<std::string> bare;
  auto bare_end = store_->ScanObjects({.collection = kCol, .limit = 3, .with_identity = false}, [&](const ObjectRow& row) {
    EXPECT_TRUE(row.id.empty());
    EXPECT_EQ(row.date_added.ns, page->items[bare.size()].date_added.ns);
    bare.emplace_back(row.bytes);
  });
  ASSERT_TRUE(bare_end.ok());
  EXPECT_EQ(bare, bytes);
  EXPECT_EQ(bare_end->next_cursor, page->next_cursor);
}

TEST_F(SqliteStoreTest, DeleteMiddleAndBySpecVersionKeepsFlags) {
  Put({MakeObject("indicator--a", 1), MakeObject("indicator--a", 2), MakeObject("indicator--a", 3)});
  using V = std::vector<std::pair<std::string, int64_t>>;
  EXPECT_EQ(*store_->DeleteObject(kCol, "indicator--a", {.versions = {Timestamp{2'000'000'000, 0}}}, {}), 1);
  EXPECT_EQ(Ids({.version = {.first = true, .last = true}}), (V{{"indicator--a", 1}, {"indicator--a", 3}}));
  EXPECT_EQ(*store_->DeleteObject(kCol, "indicator--a", {}, {"2.0"}), 0);
  EXPECT_EQ(*store_->DeleteObject(kCol, "indicator--a", {.first = true}, {"2.1"}), 1);
  EXPECT_EQ(Ids({.version = {.first = true}}), (V{{"indicator--a", 3}}));
  // A new older version becomes first; a re-added newer one becomes last.
  Put({MakeObject("indicator--a", 0), MakeObject("indicator--a", 4)});
  EXPECT_EQ(Ids({.version = {.first = true}}), (V{{"indicator--a", 0}}));
  EXPECT_EQ(Ids({}), (V{{"indicator--a", 4}}));
  RawDb raw(dir_.path() / "cordon.db");
  EXPECT_EQ(raw.Query("SELECT version_ns/1000000000, is_first, is_last FROM objects ORDER BY version_ns"),
            "0|1|0\n3|0|0\n4|0|1");
}

TEST_F(SqliteStoreTest, MarkingRefsAndColumnsStored) {
  auto o = MakeObject("indicator--m", 1);
  o.info.object_marking_refs = {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"};
  o.info.tlp = stix::Tlp::kAmber;
  o.info.confidence = 80;
  o.info.revoked = true;
  Put({o});
  RawDb raw(dir_.path() / "cordon.db");
  EXPECT_EQ(raw.Query("SELECT marking_refs, tlp, confidence, revoked FROM objects"),
            "[\"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82\"]|" +
                std::to_string(static_cast<int>(stix::Tlp::kAmber)) + "|80|1");
}

TEST_F(SqliteStoreTest, RootsCollectionsAndStatusRewrite) {
  // Replacing an API root keeps its collections (no delete behind the scenes).
  ASSERT_TRUE(store_->PutApiRoot({"cordon", "new title", "d", 2000}).ok());
  EXPECT_EQ(store_->GetApiRoot("cordon")->title, "new title");
  ASSERT_TRUE(store_->PutCollection({kCol, "cordon", "renamed", "", "alias"}).ok());
  auto cols = store_->ListCollections("cordon");
  ASSERT_EQ(cols->size(), 1u);
  EXPECT_EQ((*cols)[0].title, "renamed");
  EXPECT_EQ((*cols)[0].alias, "alias");
  ASSERT_TRUE(store_->PutApiRoot({"second", "t", "", 1}).ok());
  EXPECT_EQ(store_->ListApiRoots()->size(), 2u);
  auto missing = store_->PutCollection({"c2", "nowhere", "", "", ""});
  EXPECT_TRUE(absl::IsNotFound(missing)) << missing;
  EXPECT_NE(missing.message().find("nowhere"), std::string::npos);
  EXPECT_NE(store_->GetApiRoot("x").status().message().find("'x'"), std::string::npos);
  // A pending status later completed: the pendings are gone.
  StatusResource st;
  st.id = "s";
  st.api_root = "cordon";
  st.user = "bob";
  st.status = "pending";
  st.pendings = {{"indicator--a", "v", ""}, {"indicator--b", "v", ""}};
  ASSERT_TRUE(store_->PutStatus(st).ok());
  EXPECT_EQ(store_->GetStatus("s")->pendings.size(), 2u);
  st.status = "complete";
  st.pendings.clear();
  st.successes = {{"indicator--a", "v", ""}};
  st.failures = {{"indicator--b", "v", "bad"}};
  ASSERT_TRUE(store_->PutStatus(st).ok());
  auto got = store_->GetStatus("s");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, "complete");
  EXPECT_TRUE(got->pendings.empty());
  EXPECT_EQ(got->total_count(), 2);
  EXPECT_TRUE(absl::IsNotFound(store_->GetStatus("nope").status()));
  EXPECT_TRUE(absl::IsNotFound(store_->GetUser("nobody").status()));
  ASSERT_TRUE(store_->PutUser({"a", "", {}, {}}).ok());
  ASSERT_TRUE(store_->PutUser({"b", "h", {"*"}, {}}).ok());
  auto users = store_->ListUsers();
  ASSERT_EQ(users->size(), 2u);
  EXPECT_TRUE((*users)[0].can_read.empty());
  EXPECT_TRUE((*users)[1].CanRead("anything"));
}

TEST_F(SqliteStoreTest, ReopenKeepsObjects) {
  auto put = Put(Batch("r", 100));
  Put({MakeObject("indicator--r0", 5)});
  store_.reset();
  auto reopened = OpenSqliteStore(dir_.path() / "cordon.db");
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  store_ = std::move(*reopened);
  EXPECT_EQ(*store_->CountObjects(kCol), 101);
  auto all = AllPages(*store_, {.collection = kCol, .version = {.all = true}, .limit = 30});
  ASSERT_EQ(all.size(), 101u);
  EXPECT_EQ(all[0].date_added, put.date_added[0]);
  EXPECT_EQ(Put({MakeObject("indicator--r1", 1)}).outcomes[0], PutOutcome::kUnchanged);
  EXPECT_EQ(Ids({.ids = {"indicator--r0"}}).at(0).second, 5);
  EXPECT_EQ(store_->GetCollection("cordon", kCol)->id, kCol);
}

TEST_F(SqliteStoreTest, PaginationWhileAnotherThreadInserts) {
  Put(Batch("start", 3000));
  std::atomic<bool> stop{false};
  std::atomic<int> batches{0};
  std::thread writer([&] {
    for (int b = 0; !stop; ++b) {
      auto objs = Batch("new" + std::to_string(b) + "-", 100);
      // New ids and new versions of existing ones (flags move while paging).
      objs.push_back(MakeObject("indicator--start" + std::to_string(b % 3000), 2 + b));
      auto r = store_->PutObjects(kCol, Views(objs));
      ASSERT_TRUE(r.ok()) << r.status();
      ++batches;
    }
  });
  for (const VersionFilter& v : {VersionFilter{.all = true}, VersionFilter{.first = true}}) {
    auto items = AllPages(*store_, {.collection = kCol, .version = v, .limit = 37});
    std::set<std::pair<std::string, int64_t>> keys;
    int64_t prev_added = 0;
    for (const auto& o : items) {
      EXPECT_TRUE(keys.emplace(o.id, o.version.ns).second) << "duplicate " << o.id;
      EXPECT_GT(o.date_added.ns, prev_added);
      prev_added = o.date_added.ns;
    }
    for (int i = 0; i < 3000; ++i) {
      ASSERT_TRUE(keys.count({"indicator--start" + std::to_string(i), 1'000'000'000}))
          << "missing indicator--start" << i;
    }
  }
  stop = true;
  writer.join();
  EXPECT_GT(batches.load(), 0);
}

TEST_F(SqliteStoreTest, ReadsCompleteWhileAForeignWriteTransactionIsOpen) {
  Put(Batch("x", 10));
  RawDb raw(dir_.path() / "cordon.db");
  raw.Exec("BEGIN IMMEDIATE");
  raw.Exec("INSERT INTO api_roots VALUES('uncommitted','','',0)");
  // The store's own writer now waits for the file lock, holding its mutex.
  std::atomic<bool> put_done{false};
  std::thread writer([&] {
    auto r = store_->PutObjects(kCol, Views(Batch("y", 10)));
    EXPECT_TRUE(r.ok()) << r.status();
    put_done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(*store_->CountObjects(kCol), 10);
    EXPECT_EQ(store_->QueryObjects({.collection = kCol, .limit = 100})->items.size(), 10u);
    EXPECT_TRUE(absl::IsNotFound(store_->GetApiRoot("uncommitted").status()));
    EXPECT_TRUE(store_->GetCollection("cordon", kCol).ok());
  }
  EXPECT_FALSE(put_done.load());  // the reads above ran while the write was held up
  raw.Exec("COMMIT");
  writer.join();
  EXPECT_EQ(*store_->CountObjects(kCol), 20);
  EXPECT_TRUE(store_->GetApiRoot("uncommitted").ok());
}

TEST_F(SqliteStoreTest, ReadsCompleteWhileTheStoreWritesABigBatch) {
  Put(Batch("base", 100));
  auto big = Batch("big", 100'000);
  auto views = Views(big);
  std::atomic<bool> started{false}, finished{false};
  std::thread writer([&] {
    started = true;
    auto r = store_->PutObjects(kCol, views);
    finished = true;
    EXPECT_TRUE(r.ok()) << r.status();
  });
  while (!started) std::this_thread::yield();
  int reads_inside = 0;
  while (!finished) {
    auto n = store_->CountObjects(kCol);
    ASSERT_TRUE(n.ok()) << n.status();
    ASSERT_TRUE(*n == 100 || *n == 100'100) << *n;  // a batch is all or nothing
    if (!finished && *n == 100) ++reads_inside;       // began and ended inside the write
  }
  writer.join();
  EXPECT_GT(reads_inside, 0);
  EXPECT_EQ(*store_->CountObjects(kCol), 100'100);
}

// A writer killed with SIGKILL loses nothing it acknowledged.
TEST(SqliteStoreCrashTest, AcknowledgedWritesSurviveSigkill) {
  testutil::TempDir dir;
  const auto path = dir.path() / "crash.db";
  constexpr int kPerBatch = 200;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    auto store = OpenSqliteStore(path);
    if (!store.ok()) _exit(2);
    for (int32_t b = 0;; ++b) {
      auto objs = Batch("b" + std::to_string(b) + "-", kPerBatch);
      if (!(*store)->PutObjects(kCol, Views(objs)).ok()) _exit(3);
      if (write(fds[1], &b, sizeof b) != sizeof b) _exit(4);  // acknowledged
    }
  }
  close(fds[1]);
  std::vector<int32_t> acked;
  int32_t b;
  while (acked.size() < 25 && read(fds[0], &b, sizeof b) == sizeof b) acked.push_back(b);
  ASSERT_EQ(acked.size(), 25u) << "the writer died early";
  kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  while (read(fds[0], &b, sizeof b) == sizeof b) acked.push_back(b);  // acks sent before the kill
  close(fds[0]);

  {
    RawDb raw(path);
    EXPECT_EQ(raw.Query("PRAGMA integrity_check"), "ok");
  }
  auto store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status();
  auto count = (*store)->CountObjects(kCol);
  ASSERT_TRUE(count.ok());
  EXPECT_GE(*count, static_cast<int64_t>(acked.size()) * kPerBatch);
  EXPECT_EQ(*count % kPerBatch, 0);  // no half batch
  for (int32_t a : acked) {
    ObjectQuery q{.collection = kCol, .limit = 1000, .with_bytes = false};
    for (int i = 0; i < kPerBatch; ++i) q.ids.push_back("indicator--b" + std::to_string(a) + "-" + std::to_string(i));
    auto page = (*store)->QueryObjects(q);
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->items.size(), static_cast<size_t>(kPerBatch)) << "batch " << a << " lost";
  }
  // And the store keeps working.
  EXPECT_TRUE((*store)->PutObjects(kCol, Views(Batch("after", 10))).ok());
}

// A store written by schema version 1 (the DDL as shipped, frozen) opens,
// migrates in place and keeps its rows, their seqs and cursors.
constexpr char kSchemaV1[] = R"sql(
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
)sql";

TEST(SqliteStoreMigrationTest, Version1MigratesInPlace) {
  testutil::TempDir dir;
  const auto path = dir.path() / "v1.db";
  {
    RawDb raw(path);
    raw.Exec(std::string("PRAGMA journal_mode=WAL; BEGIN;") + kSchemaV1 + "PRAGMA user_version=1; COMMIT;");
    raw.Exec("INSERT INTO api_roots VALUES('cordon','t','d',10)");
    raw.Exec(std::string("INSERT INTO collections VALUES('") + kCol + "','cordon','c','','')");
    // seq 1..4 in two collections; seq 5 was deleted (AUTOINCREMENT remembers it).
    for (int i = 1; i <= 5; ++i) {
      raw.Exec("INSERT INTO objects(collection,id,type,spec_version,version_ns,version_digits,date_added_ns,"
               "is_first,is_last,revoked,confidence,tlp,bytes) VALUES('" +
               std::string(i == 2 ? "other" : kCol) + "','indicator--" + std::to_string(i) + "','indicator','2.1'," +
               std::to_string(i) + "000000000,3," + std::to_string(i) + "000000,1,1,0,NULL,0,'{}')");
    }
    raw.Exec("DELETE FROM objects WHERE seq=5");
  }
  auto store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status();
  {
    RawDb raw(path);
    EXPECT_EQ(raw.Query("PRAGMA user_version"), "3");
    EXPECT_EQ(raw.Query("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(raw.Query("PRAGMA foreign_key_check"), "");
  }
  auto page = (*store)->QueryObjects({.collection = kCol, .limit = 2});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].id, "indicator--1");
  EXPECT_EQ(page->items[1].id, "indicator--3");
  EXPECT_EQ(page->next_cursor, 3);  // the seq a client may hold from before the upgrade
  EXPECT_EQ(page->items[1].date_added.ns, 3'000'000);
  auto rest = (*store)->QueryObjects({.collection = kCol, .after_cursor = 3, .limit = 10});
  ASSERT_EQ(rest->items.size(), 1u);
  EXPECT_EQ(rest->items[0].id, "indicator--4");
  EXPECT_EQ(*(*store)->CountObjects("other"), 1);
  EXPECT_EQ((*store)->GetCollection("cordon", kCol)->title, "c");
  // New rows come after every seq ever handed out, and after every date_added.
  Obj o = MakeObject("indicator--new", 1);
  auto put = (*store)->PutObjects(kCol, {{o.bytes, o.info}});
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_GT(put->date_added[0].ns, 5'000'000);
  auto after = (*store)->QueryObjects({.collection = kCol, .after_cursor = 4, .limit = 10});
  ASSERT_EQ(after->items.size(), 1u);
  RawDb raw(path);
  EXPECT_EQ(raw.Query("SELECT seq FROM objects WHERE id='indicator--new'"), "6");
}

// Throughput figures, not a test: run with --gtest_also_run_disabled_tests.
TEST(SqliteStoreBench, DISABLED_InsertAndQuery) {
  testutil::TempDir dir;
  auto store = std::move(*OpenSqliteStore(dir.path() / "bench.db"));
  const char* types[] = {"indicator", "malware", "report", "identity", "attack-pattern"};
  constexpr int kTotal = 1'000'000, kBatch = 1000;
  std::vector<Timestamp> marks;
  double secs = 0;  // inside PutObjects only
  for (int b = 0; b < kTotal / kBatch; ++b) {
    std::vector<Obj> objs;
    objs.reserve(kBatch);
    for (int i = 0; i < kBatch; ++i) {
      int n = b * kBatch + i;
      Obj o = MakeObject(std::string(types[n % 5]) + "--00000000-0000-4000-8000-" + std::to_string(100000000000 + n),
                         1 + n % 3, types[n % 5], ",\"name\":\"some object name of a typical length\"");
      objs.push_back(std::move(o));
    }
    auto views = Views(objs);
    auto t0 = std::chrono::steady_clock::now();
    auto r = store->PutObjects(kCol, views);
    secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(r.ok()) << r.status();
    if (b == kTotal / kBatch / 2) marks.push_back(r->date_added[0]);
    if ((b + 1) % 250 == 0) std::printf("  %d objects: %.0f objects/s so far\n", (b + 1) * kBatch, (b + 1) * kBatch / secs);
  }
  std::printf("insert: %d objects in %.2f s = %.0f objects/s (batches of %d, synchronous=FULL)\n", kTotal, secs,
              kTotal / secs, kBatch);
  auto time_query = [&](const char* name, ObjectQuery q) {
    constexpr int kRuns = 200;
    size_t n = 0;
    auto s = std::chrono::steady_clock::now();
    for (int i = 0; i < kRuns; ++i) n = store->QueryObjects(q)->items.size();
    double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - s).count() / kRuns;
    std::printf("query %-40s %6.0f us/query (%zu items)\n", name, us, n);
  };
  time_query("limit=100", {.collection = kCol, .limit = 100});
  time_query("added_after(half)+type+limit=100", {.collection = kCol, .added_after = marks[0],
                                                  .types = {"malware"}, .limit = 100});
  time_query("added_after(half)+2 types+limit=100", {.collection = kCol, .added_after = marks[0],
                                                     .types = {"malware", "report"}, .limit = 100});
  time_query("version=all+limit=100 manifest", {.collection = kCol, .version = {.all = true}, .limit = 100,
                                                .with_bytes = false});
  time_query("match[id] x1", {.collection = kCol, .ids = {"report--00000000-0000-4000-8000-100000500002"},
                              .limit = 100});
}

}  // namespace
}  // namespace cordon::store
