#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>

#include <atomic>
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

TEST_F(SqliteStoreTest, UsersTokensStatusesAndReopen) {
  ASSERT_TRUE(store_->PutUser({"alice", "hash", {kCol}, {"*"}}).ok());
  ASSERT_TRUE(store_->PutToken({"abc", "alice", "ci"}).ok());
  StatusResource st{.id = "s1", .api_root = "cordon", .user = "alice", .status = "complete",
                    .request_timestamp = Timestamp{1'000'000'000, 6}};
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

}  // namespace
}  // namespace cordon::store
