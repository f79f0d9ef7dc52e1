// Sync against a scripted partner (an in-process plain-HTTP server answering
// canned TAXII pages): paging by next, retry after 503, checkpoint only after
// storing, idempotent re-pull, rejected objects recorded, bad URLs refused.
#include "federation/sync.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "federation/sync_client.h"
#include "net/http_server.h"
#include "store/sqlite/sqlite_store.h"
#include "testutil/testutil.h"

namespace cordon::federation {
namespace {

constexpr const char* kRemote = "11111111-1111-4111-8111-111111111111";
constexpr const char* kLocal = "22222222-2222-4222-8222-222222222222";

std::string Indicator(int n) {
  char id[64];
  std::snprintf(id, sizeof id, "indicator--%08x-0000-4000-8000-000000000000", n);
  return std::string("{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"") + id +
         "\",\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\","
         "\"pattern\":\"[ipv4-addr:value = '198.51.100." + std::to_string(n) +
         "']\",\"pattern_type\":\"stix\",\"valid_from\":\"2026-01-01T00:00:00.000Z\"}";
}

// Page 1: objects 1, 2 (more, next=p2); page 2: object 3 and an invalid one.
// The first GET of page 1 answers 503 (retried).
class ScriptedPartner {
 public:
  ScriptedPartner() {
    net::ServerOptions o;
    o.transport = net::Transport::kPlainHttp;
    o.threads = 1;
    server_ = std::move(*net::HttpServer::Start(o, [this](const net::Request& r) { return Handle(r); }));
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()) + "/taxii2/"; }
  std::vector<std::string> targets() {
    std::lock_guard lock(mu_);
    return targets_;
  }

 private:
  net::Response Handle(const net::Request& r) {
    std::string target(r.target);
    {
      std::lock_guard lock(mu_);
      targets_.push_back(target);
    }
    net::Response res;
    res.content_type = "application/taxii+json;version=2.1";
    if (target == "/taxii2/") {
      res.body = R"({"title":"t","default":"/api/","api_roots":["/api/"]})";
      return res;
    }
    if (target.find("/api/collections/" + std::string(kRemote) + "/objects/") != 0) {
      res.status = 404;
      return res;
    }
    if (target.find("next=p2") != std::string::npos) {
      res.body = "{\"more\":false,\"objects\":[" + Indicator(3) + R"(,{"type":"indicator","id":"bad"}]})";
      res.headers.emplace_back("X-TAXII-Date-Added-Last", "2026-03-01T00:00:03.000000Z");
      return res;
    }
    if (target.find("added_after=2026-03-01T00%3A00%3A03") != std::string::npos ||
        target.find("added_after=2026-03-01T00:00:03") != std::string::npos) {
      res.body = R"({"more":false})";
      return res;
    }
    if (!failed_once_.exchange(true)) {
      res.status = 503;
      return res;
    }
    res.body = "{\"more\":true,\"next\":\"p2\",\"objects\":[" + Indicator(1) + "," + Indicator(2) + "]}";
    res.headers.emplace_back("X-TAXII-Date-Added-Last", "2026-03-01T00:00:02.000000Z");
    return res;
  }

  std::unique_ptr<net::HttpServer> server_;
  std::mutex mu_;
  std::vector<std::string> targets_;
  std::atomic<bool> failed_once_{false};
};

class SyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*store::OpenSqliteStore(dir_.path() / "cordon.db"));
    ASSERT_TRUE(store_->PutApiRoot({"cordon", "t", "d", 1 << 20}).ok());
    ASSERT_TRUE(store_->PutCollection({kLocal, "cordon", "local", "", ""}).ok());
    auto peers = PeerStore::Open(FederationDbPath(dir_.path().string()));
    ASSERT_TRUE(peers.ok());
    Peer p;
    p.name = "partner";
    p.url = partner_.url();
    p.pull = {{kRemote, kLocal}};
    ASSERT_TRUE((*peers)->Put(p).ok()) << (*peers)->Put(p);
    SyncOptions o;
    o.first_backoff = std::chrono::milliseconds(1);
    auto engine = SyncEngine::Open(dir_.path().string(), *store_, std::nullopt, o);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
  }

  testutil::TempDir dir_;
  ScriptedPartner partner_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<SyncEngine> engine_;
};

TEST_F(SyncTest, PullsEveryPageRetriesAndRecordsRejections) {
  auto reports = engine_->SyncOnce();
  ASSERT_TRUE(reports.ok()) << reports.status();
  ASSERT_EQ(reports->size(), 1u);
  const SyncReport& r = reports->front();
  EXPECT_TRUE(r.errors.empty()) << FormatSyncReport(r);
  EXPECT_EQ(r.pulled_added, 3);
  EXPECT_EQ(r.pulled_rejected, 1);
  ASSERT_EQ(r.rejections.size(), 1u);
  EXPECT_NE(r.rejections[0].find("bad"), std::string::npos);
  EXPECT_EQ(*store_->CountObjects(kLocal), 3);
  EXPECT_EQ(*engine_->PullCheckpoint("partner", kRemote), "2026-03-01T00:00:03.000000Z");
  // discovery, 503, page 1, page 2 (with next and the first page's added_after unchanged = none).
  auto t = partner_.targets();
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[1], t[2]);  // the retried request is the same
  EXPECT_NE(t[3].find("next=p2"), std::string::npos);
  EXPECT_EQ(t[3].find("added_after"), std::string::npos);
}

TEST_F(SyncTest, SecondRoundStartsFromTheCheckpointAndStoresNothingTwice) {
  ASSERT_TRUE(engine_->SyncOnce().ok());
  auto again = engine_->SyncOnce();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->front().pulled_added, 0);
  EXPECT_TRUE(again->front().errors.empty()) << FormatSyncReport(again->front());
  EXPECT_EQ(*store_->CountObjects(kLocal), 3);
  EXPECT_NE(partner_.targets().back().find("added_after=2026-03-01T00:00:03"), std::string::npos);
}

TEST_F(SyncTest, RejectionsAreListedPerPeer) {
  EXPECT_TRUE(ListRejections(dir_.path().string())->empty());
  ASSERT_TRUE(engine_->SyncOnce().ok());
  auto rows = ListRejections(dir_.path().string());
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  const SyncRejection& r = rows->front();
  EXPECT_EQ(r.peer, "partner");
  EXPECT_EQ(r.collection, kLocal);
  EXPECT_EQ(r.object_id, "bad");
  EXPECT_FALSE(r.reason.empty());
  EXPECT_TRUE(ParseTimestamp(r.at).ok()) << r.at;
  EXPECT_NE(FormatRejection(r).find(" partner " + std::string(kLocal) + " bad "), std::string::npos)
      << FormatRejection(r);
  EXPECT_TRUE(ListRejections(dir_.path().string(), "other")->empty());
  EXPECT_EQ(ListRejections(dir_.path().string(), "partner")->size(), 1u);
}

TEST_F(SyncTest, UnknownPeerIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(engine_->SyncOnce("nobody").status()));
}

TEST(TaxiiClientTest, RejectsMalformedUrlsAndUnreadableCaFiles) {
  EXPECT_TRUE(absl::IsInvalidArgument(TaxiiClient::Create({.url = "ftp://x/taxii2/"}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(TaxiiClient::Create({.url = "https:///taxii2/"}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      TaxiiClient::Create({.url = "https://h/taxii2/", .ca_file = "/nonexistent/ca.pem"}).status()));
}

TEST(TaxiiClientTest, ConnectionRefusedIsUnavailable) {
  auto c = TaxiiClient::Create({.url = "http://127.0.0.1:1/taxii2/", .connect_timeout = std::chrono::milliseconds(500)});
  ASSERT_TRUE(c.ok());
  auto r = (*c)->ApiRootPath();
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
}

}  // namespace
}  // namespace cordon::federation
