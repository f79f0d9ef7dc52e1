#include "federation/peers.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/sqlite/db.h"

namespace cordon::federation {
namespace {

namespace fs = std::filesystem;

std::string TempDb(const char* name) {
  fs::path dir = fs::temp_directory_path() / ("cordon_peers_" + std::to_string(getpid()));
  fs::create_directories(dir);
  fs::path p = dir / name;
  fs::remove(p);
  return p.string();
}

Peer Sample() {
  Peer p;
  p.name = "jpcert";
  p.identity_id = "identity--0f0bf6c3-4a1b-4c8e-9f5e-0a2b4c6d8e10";
  p.public_key = std::string(43, 'A') + "=";
  p.require_signatures = true;
  p.read_collections = {"*"};
  p.write_collections = {"c1"};
  p.allowed_types = {"indicator", "sighting"};
  p.tlp_ceiling = Tlp::kAmber;
  p.personal_data = {.drop_types = {"email-addr"}, .redact_properties = {"x_contact"}, .redact_free_text = true};
  p.url = "https://127.0.0.1:7443/taxii2/";
  p.remote_user = "us";
  p.remote_password = "s3cret \"quoted\"";
  p.ca_file = "/tmp/ca.pem";
  p.pull = {{"r1", "l1"}};
  p.push = {{"l2", "r2"}, {"l3", "r3"}};
  return p;
}

void ExpectSame(const Peer& a, const Peer& b) { EXPECT_EQ(PeerToJson(a), PeerToJson(b)); }

TEST(Peers, JsonRoundTrip) {
  Peer p = Sample();
  auto back = ParsePeerJson(PeerToJson(p));
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSame(p, *back);
  EXPECT_EQ(back->remote_password, "s3cret \"quoted\"");
  EXPECT_EQ(back->push.size(), 2u);
  EXPECT_EQ(back->tlp_ceiling, Tlp::kAmber);
  EXPECT_TRUE(back->personal_data.redact_free_text);
  EXPECT_EQ(PeerToDisplayJson(p).find("s3cret"), std::string::npos);
}

TEST(Peers, ParseTlpLevels) {
  EXPECT_EQ(*ParseTlp("clear"), Tlp::kClear);
  EXPECT_EQ(*ParseTlp("TLP:WHITE"), Tlp::kClear);
  EXPECT_EQ(*ParseTlp("amber+strict"), Tlp::kAmberStrict);
  EXPECT_FALSE(ParseTlp("purple").ok());
}

TEST(Peers, ValidateRejectsBadRecords) {
  Peer p = Sample();
  p.tlp_ceiling = Tlp::kRed;
  EXPECT_NE(ValidatePeer(p).message().find("TLP:RED"), std::string_view::npos);
  p = Sample();
  p.name = "a b";
  EXPECT_FALSE(ValidatePeer(p).ok());
  p = Sample();
  p.public_key = "";
  EXPECT_NE(ValidatePeer(p).message().find("require_signatures"), std::string_view::npos);
  p = Sample();
  p.identity_id = "indicator--x";
  EXPECT_FALSE(ValidatePeer(p).ok());
  p = Sample();
  p.url = "ftp://x";
  EXPECT_FALSE(ValidatePeer(p).ok());
  EXPECT_TRUE(ValidatePeer(Sample()).ok());
}

TEST(PeerStore, PutGetListRemoveAndReopen) {
  std::string path = TempDb("a.db");
  {
    auto store = PeerStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    Peer a = Sample();
    Peer b = Sample();
    b.name = "cert-fr";
    b.identity_id = "identity--1f0bf6c3-4a1b-4c8e-9f5e-0a2b4c6d8e10";
    ASSERT_TRUE((*store)->Put(a).ok());
    ASSERT_TRUE((*store)->Put(b).ok());
    b.tlp_ceiling = Tlp::kClear;  // replace
    ASSERT_TRUE((*store)->Put(b).ok());
    auto list = (*store)->List();
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[0].name, "cert-fr");
    EXPECT_EQ((*list)[0].tlp_ceiling, Tlp::kClear);
    auto by_id = (*store)->FindByIdentity(a.identity_id);
    ASSERT_TRUE(by_id.ok());
    EXPECT_EQ(by_id->name, "jpcert");
    EXPECT_TRUE(absl::IsNotFound((*store)->FindByIdentity("identity--nope").status()));
    Peer bad = Sample();
    bad.tlp_ceiling = Tlp::kRed;
    EXPECT_FALSE((*store)->Put(bad).ok());
  }
  auto store = PeerStore::Open(path);
  ASSERT_TRUE(store.ok());
  auto a = (*store)->Get("jpcert");
  ASSERT_TRUE(a.ok());
  ExpectSame(*a, Sample());
  ASSERT_TRUE((*store)->Remove("jpcert").ok());
  EXPECT_TRUE(absl::IsNotFound((*store)->Get("jpcert").status()));
  EXPECT_TRUE(absl::IsNotFound((*store)->Remove("jpcert")));
}

TEST(PeerStore, SnapshotSeesOtherConnectionsChanges) {
  std::string path = TempDb("b.db");
  auto server = PeerStore::Open(path);
  auto cli = PeerStore::Open(path);
  ASSERT_TRUE(server.ok() && cli.ok());
  auto s1 = (*server)->Snapshot();
  ASSERT_TRUE(s1.ok());
  EXPECT_TRUE((*s1)->peers.empty());
  auto again = (*server)->Snapshot();
  EXPECT_EQ(s1->get(), again->get());  // unchanged file: the same snapshot
  ASSERT_TRUE((*cli)->Put(Sample()).ok());
  auto s2 = (*server)->Snapshot();
  ASSERT_TRUE(s2.ok());
  ASSERT_EQ((*s2)->peers.size(), 1u);
  EXPECT_EQ((*s2)->peers[0].name, "jpcert");
  ASSERT_TRUE((*cli)->Remove("jpcert").ok());
  EXPECT_TRUE((*(*server)->Snapshot())->peers.empty());
}

}  // namespace
}  // namespace cordon::federation
