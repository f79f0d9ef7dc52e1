#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace cordon::audit {
namespace {

namespace fs = std::filesystem;

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cordon_audit_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "audit.log").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(int n, LogOptions opt = {}) {
    auto log = AuditLog::Open(path_, opt);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE((*log)->Append("isp", "taxii.get.objects", {"indicator--" + std::to_string(i)},
                                 "{\"endpoint\":\"/x/\",\"http_status\":200}")
                      .ok());
    }
  }
  std::vector<std::string> Lines() {
    std::ifstream f(path_);
    std::vector<std::string> out;
    for (std::string l; std::getline(f, l);) out.push_back(l);
    return out;
  }
  void SetLines(const std::vector<std::string>& lines) {
    std::ofstream f(path_, std::ios::trunc);
    for (auto& l : lines) f << l << "\n";
  }
  std::string Why() {
    auto r = Verify(path_);
    return r.ok() ? "" : std::string(r.status().message());
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(AuditLogTest, AppendsAChainThatVerifiesAcrossReopen) {
  Write(3);
  Write(2);  // reopen: continues the chain
  auto r = Verify(path_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->entries, 5);
  auto entries = Read(path_);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 5u);
  EXPECT_EQ((*entries)[4].seq, 5);
  EXPECT_EQ((*entries)[4].prev, (*entries)[3].hash);
  EXPECT_EQ((*entries)[0].details, "{\"endpoint\":\"/x/\",\"http_status\":200}");
  EXPECT_EQ((*entries)[1].ids, std::vector<std::string>{"indicator--1"});
  EXPECT_EQ(r->head_hash, (*entries)[4].hash);
  EXPECT_TRUE(fs::exists(dir_ / "audit.head"));
}

TEST_F(AuditLogTest, DetectsAlteredEntry) {
  Write(4);
  auto lines = Lines();
  lines[1].replace(lines[1].find("indicator--1"), 12, "indicator--9");
  SetLines(lines);
  EXPECT_NE(Why().find("line 2: the entry's hash does not match"), std::string::npos) << Why();
}

TEST_F(AuditLogTest, DetectsAlteredEntryWithRecomputedHash) {
  // An editor who recomputes the hash of the line they changed breaks the next link.
  Write(4);
  auto all = Read(path_);
  auto lines = Lines();
  std::string l = lines[1];
  l.replace(l.find("\"actor\":\"isp\""), 13, "\"actor\":\"abc\"");
  // recompute with the same algorithm through a second log: simplest is to
  // check that the next entry's prev no longer matches once hash changes.
  size_t h = l.rfind(",\"hash\":\"");
  std::string forged = l.substr(0, h) + ",\"hash\":\"" + std::string(64, 'a') + "\"}";
  lines[1] = forged;
  SetLines(lines);
  EXPECT_NE(Why().find("line 2"), std::string::npos) << Why();
}

TEST_F(AuditLogTest, DetectsRemovedEntry) {
  Write(4);
  auto lines = Lines();
  lines.erase(lines.begin() + 1);
  SetLines(lines);
  EXPECT_NE(Why().find("line 2: seq 3 where 2 was expected"), std::string::npos) << Why();
}

TEST_F(AuditLogTest, DetectsReorderedEntries) {
  Write(4);
  auto lines = Lines();
  std::swap(lines[1], lines[2]);
  SetLines(lines);
  EXPECT_NE(Why().find("line 2"), std::string::npos) << Why();
}

TEST_F(AuditLogTest, DetectsTruncatedTailThroughTheHeadAnchor) {
  Write(4);  // closing syncs and anchors entry 4
  auto lines = Lines();
  lines.pop_back();
  SetLines(lines);
  EXPECT_NE(Why().find("entries cut off the end"), std::string::npos) << Why();
}

TEST_F(AuditLogTest, DetectsRewrittenLogAgainstAnExternallyKeptHead) {
  Write(3);
  auto r = Verify(path_);
  ASSERT_TRUE(r.ok());
  std::string kept = r->head_hash;
  Write(2);
  EXPECT_TRUE(Verify(path_, kept).ok());  // appended since: fine
  fs::remove(path_);
  fs::remove(dir_ / "audit.head");
  Write(6);  // a whole new, internally consistent log
  auto again = Verify(path_, kept);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("expected head hash"), std::string_view::npos);
}

TEST_F(AuditLogTest, CutsAPartialLastLineOnOpen) {
  Write(2);
  {
    std::ofstream f(path_, std::ios::app);
    f << "{\"seq\":3,\"time\":\"2026";  // a write cut by a crash
  }
  EXPECT_FALSE(Verify(path_).ok());
  Write(1);
  auto r = Verify(path_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->entries, 3);
}

TEST_F(AuditLogTest, TwoWritersKeepOneChain) {
  auto a = AuditLog::Open(path_);
  auto b = AuditLog::Open(path_);
  ASSERT_TRUE(a.ok() && b.ok());
  std::thread ta([&] {
    for (int i = 0; i < 50; ++i) ASSERT_TRUE((*a)->Append("a", "x", {}).ok());
  });
  std::thread tb([&] {
    for (int i = 0; i < 50; ++i) ASSERT_TRUE((*b)->Append("b", "y", {}, "{\"k\":[1,2]}").ok());
  });
  ta.join();
  tb.join();
  auto r = Verify(path_);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->entries, 100);
  auto only_b = Read(path_, {.actor = "b"});
  ASSERT_TRUE(only_b.ok());
  EXPECT_EQ(only_b->size(), 50u);
}

TEST_F(AuditLogTest, RejectsDetailsThatAreNotAnObject) {
  auto log = AuditLog::Open(path_);
  ASSERT_TRUE(log.ok());
  EXPECT_FALSE((*log)->Append("a", "x", {}, "[1]").ok());
  EXPECT_FALSE((*log)->Append("a", "x", {}, "{").ok());
  EXPECT_EQ(fs::file_size(path_), 0u);
}

TEST_F(AuditLogTest, SinceFilter) {
  Write(2);
  auto all = Read(path_);
  ASSERT_TRUE(all.ok());
  auto later = Read(path_, {.since = ParseTimestamp("2200-01-01T00:00:00Z").value()});
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(later->empty());
  auto earlier = Read(path_, {.since = ParseTimestamp("2000-01-01T00:00:00Z").value()});
  EXPECT_EQ(earlier->size(), 2u);
}

}  // namespace
}  // namespace cordon::audit
