// Agreements applied through the real TAXII service over a real SQLite store:
// every endpoint, pagination after filtering, redaction, signatures, audit.
#include "federation/agreement.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <set>

#include "audit/audit_log.h"
#include "base/uuid.h"
#include "federation/signature.h"
#include "ingest/ingest.h"
#include "store/sqlite/db.h"
#include "store/sqlite/sqlite_store.h"
#include "taxii/auth.h"
#include "taxii/request.h"
#include "taxii/service.h"
#include "testutil/testutil.h"

namespace cordon::federation {
namespace {

constexpr const char* kC1 = "11111111-1111-4111-8111-111111111111";
constexpr const char* kC2 = "22222222-2222-4222-8222-222222222222";
constexpr const char* kTlpIds[] = {
    "",  // unmarked
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",  // CLEAR
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",  // GREEN
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",  // AMBER
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",  // AMBER+STRICT
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",  // RED
};
constexpr const char* kPartnerIdentity = "identity--0f0bf6c3-4a1b-4c8e-9f5e-0a2b4c6d8e10";

std::string Indicator(int i, const char* marking, const char* created_by = "") {
  std::string id = "indicator--" + NewUuid5(kStixScoNamespace, "ind" + std::to_string(i));
  std::string o = R"({"type":"indicator","spec_version":"2.1","id":")" + id +
                  R"(","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"n)" +
                  std::to_string(i) + R"(","description":"reported by alice@example.org",)" +
                  R"("pattern":"[ipv4-addr:value = '10.0.0.)" + std::to_string(i % 250) +
                  R"(']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z")";
  if (*marking) o += std::string(",\"object_marking_refs\":[\"") + marking + "\"]";
  if (*created_by) o += std::string(",\"created_by_ref\":\"") + created_by + "\"";
  return o + "}";
}

struct Reply {
  int status;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string Header(const std::string& name) const {
    for (auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return "";
  }
};

class AgreementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<testutil::TempDir>();
    std::string data = dir_->path().string();
    auto st = store::OpenSqliteStore(dir_->path() / "cordon.db");
    ASSERT_TRUE(st.ok()) << st.status();
    store_ = std::move(*st);
    ASSERT_TRUE(store_->PutApiRoot({"api", "t", "d", 10 << 20}).ok());
    ASSERT_TRUE(store_->PutCollection({kC1, "api", "one", "", ""}).ok());
    ASSERT_TRUE(store_->PutCollection({kC2, "api", "two", "", ""}).ok());
    auto peers = PeerStore::Open(FederationDbPath(data));
    ASSERT_TRUE(peers.ok());
    peers_ = std::move(*peers);
    auto log = audit::AuditLog::Open(audit::AuditLogPath(data));
    ASSERT_TRUE(log.ok());
    audit_ = std::move(*log);
    policy_ = std::make_shared<FederationPolicy>(peers_, audit_);
    taxii::ServiceOptions opt;
    opt.peer_policy = policy_;
    service_ = std::make_unique<taxii::Service>(*store_, opt);
    // The node operator: sees everything. The partner: user "isp" with '*' on
    // the store (too much): the agreement narrows it.
    AddUser("admin", {"*"}, {"*"});
    AddUser("isp", {"*"}, {"*"});
    keys_ = GenerateKeyPair();
  }

  void AddUser(const std::string& name, std::vector<std::string> r, std::vector<std::string> w) {
    ASSERT_TRUE(store_->PutUser({name, "", r, w}).ok());
    std::string token = taxii::NewApiToken();
    ASSERT_TRUE(store_->PutToken({taxii::TokenHash(token), name, ""}).ok());
    tokens_[name] = "Bearer " + token;
  }

  Peer Isp() {
    Peer p;
    p.name = "isp";
    p.identity_id = kPartnerIdentity;
    p.public_key = keys_.public_key;
    p.read_collections = {kC1};
    p.write_collections = {kC1};
    p.tlp_ceiling = Tlp::kGreen;
    return p;
  }
  void SetPeer(const Peer& p) {
    ASSERT_TRUE(peers_->Put(p).ok());
    // A new policy: no waiting for the refresh interval.
    policy_ = std::make_shared<FederationPolicy>(peers_, audit_);
    taxii::ServiceOptions opt;
    opt.peer_policy = policy_;
    service_ = std::make_unique<taxii::Service>(*store_, opt);
  }

  void Load(const std::vector<std::string>& objects, const char* collection = kC1) {
    std::vector<std::string_view> views(objects.begin(), objects.end());
    auto r = ingest::IngestObjects(*store_, collection, views, stix::DefaultVersion::kInfer);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->rejected, 0) << r->objects[0].reason;
  }

  Reply Call(const std::string& user, const std::string& method, const std::string& target,
             const std::string& body = "") {
    net::Request req;
    req.method = method;
    req.target = target;
    req.accept = taxii::kTaxiiMediaType;
    req.content_type = taxii::kTaxiiMediaType;
    req.authorization = tokens_[user];
    req.body = body;
    net::Response r = service_->Handle(req);
    return {r.status, r.body, r.headers};
  }

  // Follows next links; returns the ids of all pages and checks each page.
  std::vector<std::string> PageThrough(const std::string& user, const std::string& endpoint, int limit,
                                       int* pages = nullptr) {
    std::vector<std::string> ids;
    std::string next;
    for (int n = 0; n < 1000; ++n) {
      std::string target = std::string("/api/collections/") + kC1 + "/" + endpoint + "/?limit=" +
                           std::to_string(limit) + (next.empty() ? "" : "&next=" + next);
      Reply r = Call(user, "GET", target);
      EXPECT_EQ(r.status, 200) << r.body;
      simdjson::dom::parser parser;
      simdjson::dom::element doc = parser.parse(r.body);
      std::vector<std::string> page_ids;
      simdjson::dom::array objects;
      if (!doc["objects"].get(objects)) {
        for (auto o : objects) page_ids.emplace_back(std::string_view(o["id"]));
      }
      bool more = doc["more"];
      if (more) {
        EXPECT_EQ(page_ids.size(), static_cast<size_t>(limit)) << "a full page before the end";
      }
      if (!page_ids.empty()) {
        EXPECT_FALSE(r.Header("X-TAXII-Date-Added-First").empty());
        EXPECT_FALSE(r.Header("X-TAXII-Date-Added-Last").empty());
      }
      if (endpoint == "manifest" && !page_ids.empty()) {
        // Date-added headers describe the first and last served entries.
        EXPECT_EQ(r.Header("X-TAXII-Date-Added-First"),
                  std::string_view(objects.at(0)["date_added"].get_string().value()));
        EXPECT_EQ(r.Header("X-TAXII-Date-Added-Last"),
                  std::string_view(objects.at(page_ids.size() - 1)["date_added"].get_string().value()));
      }
      ids.insert(ids.end(), page_ids.begin(), page_ids.end());
      if (pages) ++*pages;
      if (!more) break;
      next = std::string(std::string_view(doc["next"]));
    }
    return ids;
  }

  std::unique_ptr<testutil::TempDir> dir_;
  std::unique_ptr<store::Store> store_;
  std::shared_ptr<PeerStore> peers_;
  std::shared_ptr<audit::AuditLog> audit_;
  std::shared_ptr<FederationPolicy> policy_;
  std::unique_ptr<taxii::Service> service_;
  std::map<std::string, std::string> tokens_;
  KeyPair keys_;
};

TEST_F(AgreementTest, ObjectTlpReadsTheMostRestrictiveMarking) {
  EXPECT_EQ(ObjectTlp(Indicator(1, kTlpIds[0])), Tlp::kNone);
  EXPECT_EQ(ObjectTlp(Indicator(1, kTlpIds[3])), Tlp::kAmber);
  std::string both = Indicator(1, kTlpIds[2]);
  both.insert(both.find(kTlpIds[2]) - 1, std::string("\"") + kTlpIds[5] + "\",");
  EXPECT_EQ(ObjectTlp(both), Tlp::kRed);
  // Granular markings count: a RED pattern makes the whole object RED.
  std::string granular = Indicator(2, kTlpIds[2]);
  granular.insert(granular.size() - 1, std::string(R"(,"granular_markings":[{"selectors":["pattern"],"marking_ref":")") +
                                           kTlpIds[5] + "\"}]");
  EXPECT_EQ(ObjectTlp(granular), Tlp::kRed);
  // Ids compare ignoring case (the validator accepts upper-case UUIDs).
  std::string upper = Indicator(3, kTlpIds[5]);
  const size_t at = upper.find(kTlpIds[5]) + std::string_view("marking-definition--").size();
  for (size_t i = at; i < at + 36; ++i) upper[i] = char(std::toupper(static_cast<unsigned char>(upper[i])));
  EXPECT_EQ(ObjectTlp(upper), Tlp::kRed);
  // OpenCTI's TLP:AMBER+STRICT id.
  EXPECT_EQ(ObjectTlp(Indicator(4, "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37")), Tlp::kAmberStrict);
}

TEST_F(AgreementTest, PaginationAfterFilteringOnObjectsAndManifest) {
  std::vector<std::string> objects;
  std::vector<std::string> expected;  // unmarked, CLEAR, GREEN: visible at ceiling GREEN
  for (int i = 0; i < 90; ++i) {
    int level = (i * 7) % 6;
    objects.push_back(Indicator(i, kTlpIds[level]));
    if (level <= 2) expected.push_back("indicator--" + NewUuid5(kStixScoNamespace, "ind" + std::to_string(i)));
  }
  Load(objects);
  SetPeer(Isp());
  for (int limit : {1, 4, 7, 100}) {
    int pages = 0;
    EXPECT_EQ(PageThrough("isp", "objects", limit, &pages), expected) << "limit " << limit;
    EXPECT_EQ(pages, std::max<int>(1, (expected.size() + limit - 1) / limit)) << "limit " << limit;
    EXPECT_EQ(PageThrough("isp", "manifest", limit), expected) << "limit " << limit;
  }
  EXPECT_EQ(PageThrough("admin", "objects", 50).size(), 90u);  // the operator sees all
  // A higher ceiling lets AMBER and AMBER+STRICT through, RED never.
  Peer p = Isp();
  p.tlp_ceiling = Tlp::kAmberStrict;
  SetPeer(p);
  EXPECT_EQ(PageThrough("isp", "objects", 13).size(), 75u);
}

TEST_F(AgreementTest, HiddenObjectsLookAbsentOnObjectAndVersions) {
  Load({Indicator(1, kTlpIds[5]), Indicator(2, kTlpIds[2])});
  SetPeer(Isp());
  std::string red = "indicator--" + NewUuid5(kStixScoNamespace, "ind1");
  std::string green = "indicator--" + NewUuid5(kStixScoNamespace, "ind2");
  std::string absent = "indicator--" + NewUuid4();
  std::string base = std::string("/api/collections/") + kC1 + "/objects/";
  Reply hidden = Call("isp", "GET", base + red + "/");
  Reply missing = Call("isp", "GET", base + absent + "/");
  EXPECT_EQ(hidden.status, 404);
  EXPECT_EQ(missing.status, 404);
  std::string normalised = hidden.body;
  normalised.replace(normalised.find(red), red.size(), absent);
  EXPECT_EQ(normalised, missing.body);  // same answer as for an object that does not exist
  EXPECT_EQ(Call("isp", "GET", base + red + "/versions/").status, 404);
  EXPECT_EQ(Call("isp", "GET", base + green + "/").status, 200);
  EXPECT_EQ(Call("isp", "GET", base + green + "/versions/").status, 200);
  EXPECT_EQ(Call("admin", "GET", base + red + "/").status, 200);
  // A filter for the hidden id on the list endpoints returns nothing.
  Reply listed = Call("isp", "GET", std::string("/api/collections/") + kC1 + "/objects/?match[id]=" + red);
  EXPECT_EQ(listed.body, "{\"more\":false}");
  // Partners never delete.
  EXPECT_EQ(Call("isp", "DELETE", base + red + "/").status, 403);
  EXPECT_EQ(Call("isp", "DELETE", base + absent + "/").status, 403);
}

TEST_F(AgreementTest, ReMarkingRedRetractsEarlierVersions) {
  // v1 GREEN, v2 the same indicator re-marked RED; and another one that
  // stays GREEN in both versions.
  std::string v1 = Indicator(7, kTlpIds[2]), v2 = Indicator(7, kTlpIds[5]);
  const std::string later = "2026-02-01T00:00:00.000Z";
  v2.replace(v2.find("\"modified\":\"2026-01-01T00:00:00.000Z\""), 37, "\"modified\":\"" + later + "\"");
  std::string w1 = Indicator(8, kTlpIds[2]), w2 = Indicator(8, kTlpIds[2]);
  w2.replace(w2.find("\"modified\":\"2026-01-01T00:00:00.000Z\""), 37, "\"modified\":\"" + later + "\"");
  Load({v1, w1, v2, w2});
  SetPeer(Isp());
  const std::string red = "indicator--" + NewUuid5(kStixScoNamespace, "ind7");
  const std::string green = "indicator--" + NewUuid5(kStixScoNamespace, "ind8");
  const std::string base = std::string("/api/collections/") + kC1;
  EXPECT_EQ(Call("isp", "GET", base + "/objects/" + red + "/").status, 404);
  EXPECT_EQ(Call("isp", "GET", base + "/objects/" + red + "/?match[version]=all").status, 404);
  EXPECT_EQ(Call("isp", "GET", base + "/objects/" + red + "/?match[version]=first").status, 404);
  EXPECT_EQ(Call("isp", "GET", base + "/objects/" + red + "/versions/").status, 404);
  const std::string admin_versions = Call("admin", "GET", base + "/objects/" + red + "/versions/").body;
  EXPECT_NE(admin_versions.find("2026-01-01"), std::string::npos);  // the node's own users see both
  EXPECT_NE(admin_versions.find("2026-02-01"), std::string::npos);
  // Listing every version, a page at a time: the GREEN object's two versions, nothing of the RED one.
  for (const char* endpoint : {"objects", "manifest"}) {
    std::vector<std::string> ids;
    std::string next;
    for (int n = 0; n < 10; ++n) {
      Reply r = Call("isp", "GET", base + "/" + endpoint + "/?match[version]=all&limit=1" + (next.empty() ? "" : "&next=" + next));
      ASSERT_EQ(r.status, 200) << r.body;
      simdjson::dom::parser parser;
      simdjson::dom::element doc = parser.parse(r.body);
      simdjson::dom::array objects;
      if (!doc["objects"].get(objects)) {
        for (auto o : objects) ids.emplace_back(std::string_view(o["id"]));
      }
      if (!bool(doc["more"])) break;
      next = std::string(std::string_view(doc["next"]));
    }
    EXPECT_EQ(ids, (std::vector<std::string>{green, green})) << endpoint;
  }
  EXPECT_EQ(Call("isp", "GET", base + "/objects/" + green + "/?match[version]=all").status, 200);
}

TEST_F(AgreementTest, CollectionsOutsideTheAgreementAreInvisible) {
  Load({Indicator(1, kTlpIds[1])}, kC2);
  SetPeer(Isp());
  Reply cols = Call("isp", "GET", "/api/collections/");
  EXPECT_NE(cols.body.find(kC1), std::string::npos);
  EXPECT_EQ(cols.body.find(kC2), std::string::npos);
  EXPECT_EQ(Call("isp", "GET", std::string("/api/collections/") + kC2 + "/").status, 404);
  EXPECT_EQ(Call("isp", "GET", std::string("/api/collections/") + kC2 + "/objects/").status, 404);
  EXPECT_EQ(Call("admin", "GET", std::string("/api/collections/") + kC2 + "/objects/").status, 200);
}

TEST_F(AgreementTest, TypesAndPersonalDataRulesOnRealObservables) {
  // python-stix2's SCO examples: email-addr and user-account among 18 types.
  std::string list = testutil::ReadFile(testutil::SharedData("stix/python-stix2-sco-examples-bundle.json"));
  std::string envelope = "{\"objects\":" + list + "}";
  auto r = ingest::IngestDocument(*store_, kC1, envelope);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_GT(r->added, 50);
  Peer p = Isp();
  p.personal_data.drop_types = {"email-addr", "user-account", "email-message"};
  SetPeer(p);
  auto served = PageThrough("isp", "objects", 1000);
  auto all = PageThrough("admin", "objects", 1000);
  std::set<std::string> served_types, all_types;
  for (auto& id : served) served_types.insert(id.substr(0, id.find("--")));
  for (auto& id : all) all_types.insert(id.substr(0, id.find("--")));
  EXPECT_TRUE(all_types.count("email-addr") && all_types.count("user-account"));
  EXPECT_FALSE(served_types.count("email-addr") || served_types.count("user-account") ||
               served_types.count("email-message"));
  std::map<std::string, size_t> count;
  for (auto& id : all) ++count[id.substr(0, id.find("--"))];
  EXPECT_EQ(served.size() + count["email-addr"] + count["user-account"] + count["email-message"], all.size());
  p.allowed_types = {"ipv4-addr", "domain-name"};
  SetPeer(p);
  served = PageThrough("isp", "manifest", 5);
  EXPECT_EQ(served.size(), count["ipv4-addr"] + count["domain-name"]);
  EXPECT_GT(served.size(), 5u);
}

TEST_F(AgreementTest, RedactionOfPropertiesAndFreeTextDropsOurSignature) {
  KeyPair ours = GenerateKeyPair();
  auto signed_obj = Sign(Indicator(5, kTlpIds[2]), ours, "identity--x");
  ASSERT_TRUE(signed_obj.ok());
  Load({*signed_obj});
  Peer p = Isp();
  p.personal_data.redact_free_text = true;
  p.personal_data.redact_properties = {"name"};
  SetPeer(p);
  Reply r = Call("isp", "GET", std::string("/api/collections/") + kC1 + "/objects/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("alice@example.org"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("\"name\""), std::string::npos);
  EXPECT_EQ(r.body.find(kSignatureExtension), std::string::npos);
  EXPECT_NE(r.body.find("\"pattern\""), std::string::npos);
  simdjson::dom::parser parser;
  EXPECT_FALSE(parser.parse(r.body).error());
  Reply admin = Call("admin", "GET", std::string("/api/collections/") + kC1 + "/objects/");
  EXPECT_NE(admin.body.find("alice@example.org"), std::string::npos);
  EXPECT_NE(admin.body.find(kSignatureExtension), std::string::npos);
}

TEST_F(AgreementTest, ObjectsClaimingASigningPartnerMustVerify) {
  Peer p = Isp();
  p.require_signatures = true;
  SetPeer(p);
  auto good = Sign(Indicator(1, kTlpIds[2], kPartnerIdentity), keys_, kPartnerIdentity);
  ASSERT_TRUE(good.ok());
  std::string tampered = *good;
  tampered.replace(tampered.find("\"n1\""), 4, "\"n9\"");
  std::string unsigned_obj = Indicator(2, kTlpIds[2], kPartnerIdentity);
  std::string someone_else = Indicator(3, kTlpIds[2], "identity--5f0bf6c3-4a1b-4c8e-9f5e-0a2b4c6d8e10");
  std::string body = "{\"objects\":[" + *good + "," + tampered + "," + unsigned_obj + "," + someone_else + "]}";
  for (const char* who : {"isp", "admin"}) {  // whoever posts it
    Reply r = Call(who, "POST", std::string("/api/collections/") + kC1 + "/objects/", body);
    ASSERT_EQ(r.status, 202) << r.body;
    simdjson::dom::parser parser;
    simdjson::dom::element st = parser.parse(r.body);
    EXPECT_EQ(int64_t(st["success_count"]), 2) << r.body;
    EXPECT_EQ(int64_t(st["failure_count"]), 2) << r.body;
    std::string failures = simdjson::to_string(st["failures"]);
    EXPECT_NE(failures.find("partner 'isp', which requires signatures: signature does not match"),
              std::string::npos) << failures;
    EXPECT_NE(failures.find("no signature"), std::string::npos) << failures;
  }
}

TEST_F(AgreementTest, EveryPartnerRequestIsAudited) {
  Load({Indicator(1, kTlpIds[2]), Indicator(2, kTlpIds[5])});
  SetPeer(Isp());
  Call("isp", "GET", std::string("/api/collections/") + kC1 + "/objects/");
  Call("isp", "GET", std::string("/api/collections/") + kC2 + "/objects/");
  Call("admin", "GET", std::string("/api/collections/") + kC1 + "/objects/");  // not a partner: not audited
  ASSERT_TRUE(audit_->Flush().ok());
  auto entries = audit::Read(audit::AuditLogPath(dir_->path().string()));
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].actor, "isp");
  EXPECT_EQ((*entries)[0].action, "taxii.get.objects");
  EXPECT_EQ((*entries)[0].ids, std::vector<std::string>{"indicator--" + NewUuid5(kStixScoNamespace, "ind1")});
  EXPECT_NE((*entries)[0].details.find("\"http_status\":200"), std::string::npos);
  EXPECT_NE((*entries)[1].details.find("\"http_status\":404"), std::string::npos);
  EXPECT_TRUE(audit::Verify(audit::AuditLogPath(dir_->path().string())).ok());
  // A trail that cannot be appended to (here: a foreign line at its end) withholds the answer.
  {
    std::ofstream log(audit::AuditLogPath(dir_->path().string()), std::ios::app);
    log << "not an audit entry\n";
  }
  Reply refused = Call("isp", "GET", std::string("/api/collections/") + kC1 + "/objects/");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.body.find("indicator--"), std::string::npos);
  EXPECT_EQ(Call("admin", "GET", std::string("/api/collections/") + kC1 + "/objects/").status, 200);
}

}  // namespace
}  // namespace cordon::federation

namespace cordon::federation {
namespace {

TEST_F(AgreementTest, AnUnreadableAgreementRefusesItsPartnerEverything) {
  Peer other = Isp();
  other.name = "cert";
  other.identity_id = "identity--1f0bf6c3-4a1b-4c8e-9f5e-0a2b4c6d8e11";
  AddUser("cert", {"*"}, {"*"});
  ASSERT_TRUE(peers_->Put(other).ok());
  SetPeer(Isp());
  Load({Indicator(1, kTlpIds[2])});
  const std::string objects = std::string("/api/collections/") + kC1 + "/objects/";
  ASSERT_EQ(Call("isp", "GET", objects).status, 200);
  // A record another version of cordon (or a hand edit) wrote, which this one cannot read: the
  // partner is not waved through as a non-partner; the other partner and the operator go on.
  ASSERT_TRUE(peers_->connection()
                  .Exec("UPDATE peers SET record = '{\"name\":\"isp\",\"tlp_ceiling\":\"AMBER-STRICT\"}' "
                        "WHERE name = 'isp'")
                  .ok());
  SetPeer(other);
  EXPECT_EQ(Call("isp", "GET", objects).status, 404);
  EXPECT_EQ(Call("isp", "GET", "/api/collections/").body.find(kC1), std::string::npos);
  EXPECT_EQ(Call("cert", "GET", objects).status, 200);
  EXPECT_EQ(Call("admin", "GET", objects).status, 200);
  // It is still a partner for the others' rules: its AMBER objects are not passed on, and objects
  // claiming to be its are refused (its key can no longer be read).
  Load({Indicator(5, kTlpIds[3], kPartnerIdentity)});
  Peer amber = other;
  amber.tlp_ceiling = Tlp::kAmber;
  SetPeer(amber);
  const std::string isp_amber = "indicator--" + NewUuid5(kStixScoNamespace, "ind5");
  EXPECT_EQ(Call("cert", "GET", objects).body.find(isp_amber), std::string::npos);
  EXPECT_NE(Call("admin", "GET", objects).body.find(isp_amber), std::string::npos);
  Reply forged = Call("admin", "POST", objects, "{\"objects\":[" + Indicator(6, kTlpIds[2], kPartnerIdentity) + "]}");
  EXPECT_EQ(forged.status, 202);
  EXPECT_NE(forged.body.find("whose record cannot be read"), std::string::npos) << forged.body;
  // With the peers unreadable altogether, nobody can be told from a partner: everyone is refused.
  auto elsewhere = PeerStore::Open(FederationDbPath(dir_->path().string()));
  ASSERT_TRUE(elsewhere.ok());
  ASSERT_TRUE((*elsewhere)->connection().Exec("DROP TABLE peers").ok());
  policy_ = std::make_shared<FederationPolicy>(peers_, audit_);
  taxii::ServiceOptions opt;
  opt.peer_policy = policy_;
  service_ = std::make_unique<taxii::Service>(*store_, opt);
  EXPECT_EQ(Call("cert", "GET", objects).status, 404);
  EXPECT_EQ(Call("admin", "GET", objects).status, 404);
}

TEST(Agreement, VisibilityRules) {
  Peer p;
  p.name = "x";
  p.tlp_ceiling = Tlp::kAmberStrict;
  Agreement a(p);
  EXPECT_TRUE(a.Visible("indicator", Indicator(1, kTlpIds[0])));  // unmarked = CLEAR
  EXPECT_TRUE(a.Visible("indicator", Indicator(1, kTlpIds[4])));  // AMBER+STRICT at the ceiling
  EXPECT_FALSE(a.Visible("indicator", Indicator(1, kTlpIds[5])));  // RED: never
  EXPECT_FALSE(a.Visible("indicator", "not json"));                // unreadable: not served
  p.tlp_ceiling = Tlp::kClear;
  p.allowed_types = {"indicator", "email-addr"};
  p.personal_data.drop_types = {"email-addr"};
  Agreement b(p);
  EXPECT_TRUE(b.Visible("indicator", Indicator(1, kTlpIds[1])));
  EXPECT_FALSE(b.Visible("indicator", Indicator(1, kTlpIds[2])));  // GREEN above CLEAR
  EXPECT_FALSE(b.Visible("malware", R"({"type":"malware"})"));     // type not allowed
  EXPECT_FALSE(b.Visible("email-addr", R"({"type":"email-addr","value":"a@b.c"})"));  // dropped
  // AMBER objects another partner created are not passed on; GREEN ones and our own AMBER ones are.
  Peer q;
  q.name = "y";
  q.tlp_ceiling = Tlp::kAmber;
  const char* other = "identity--2f0bf6c3-4a1b-4c8e-9f5e-0a2b4c6d8e12";
  Agreement d(q, {other});
  EXPECT_FALSE(d.Visible("indicator", Indicator(1, kTlpIds[3], other)));
  EXPECT_TRUE(d.Visible("indicator", Indicator(1, kTlpIds[2], other)));
  EXPECT_TRUE(d.Visible("indicator", Indicator(1, kTlpIds[3], kPartnerIdentity)));
  EXPECT_TRUE(d.Visible("indicator", Indicator(1, kTlpIds[3])));
  p.read_collections = {"c1"};
  p.write_collections = {"*"};
  Agreement c(p);
  EXPECT_TRUE(c.MayRead("c1"));
  EXPECT_FALSE(c.MayRead("c2"));
  EXPECT_TRUE(c.MayWrite("c2"));
}

TEST(Agreement, ServesBytesUnchangedWithoutRedaction) {
  Peer p;
  p.name = "x";
  Agreement a(p);
  std::string o = Indicator(3, kTlpIds[2]);
  std::string out;
  a.AppendServed(o, out);
  EXPECT_EQ(out, o);
}

TEST(Agreement, RedactionKeepsWhatTheTypeRequires) {
  Peer p;
  p.name = "x";
  p.personal_data.redact_free_text = true;
  p.personal_data.redact_properties = {"name"};
  Agreement a(p);
  // A note must have content and a report a name: the text goes, the property stays.
  std::string out;
  a.AppendServed(R"({"type":"note","content":"call Alice on +33 1 23","abstract":"Alice","name":"n"})", out);
  EXPECT_EQ(out, R"({"type":"note","content":"[redacted]"})");
  out.clear();
  a.AppendServed(R"({"type":"report","name":"Alice Dupont's laptop","description":"d","published":"p"})", out);
  EXPECT_EQ(out, R"({"type":"report","name":"[redacted]","published":"p"})");
  out.clear();
  a.AppendServed(R"({"type":"indicator","name":"Alice","description":"d","pattern":"[x:y = 'z']"})", out);
  EXPECT_EQ(out, R"({"type":"indicator","pattern":"[x:y = 'z']"})");  // optional there: removed
}

TEST(Agreement, FreeTextRedactionReachesNestedAndCustomProperties) {
  Peer p;
  p.name = "x";
  p.personal_data.redact_free_text = true;
  p.personal_data.drop_types = {"email-addr", "user-account"};
  Agreement a(p);
  auto served = [&](std::string_view json) {
    std::string out;
    a.AppendServed(json, out);
    return out;
  };
  EXPECT_EQ(served(R"({"type":"report","name":"r","external_references":[{"source_name":"cert","description":"call Bob on 555","url":"https://x"},"odd"],"x_reporter_email":"bob@example.org","labels":["l"]})"),
            R"({"type":"report","name":"r","external_references":[{"source_name":"cert","url":"https://x"},"odd"],"labels":["l"]})");
  EXPECT_EQ(served(R"({"type":"identity","name":"Alice Dupont","identity_class":"individual","contact_information":"+33 1"})"),
            R"({"type":"identity","name":"[redacted]","identity_class":"individual"})");
  EXPECT_EQ(served(R"({"type":"identity","name":"CERT-FR","identity_class":"organization"})"),
            R"({"type":"identity","name":"CERT-FR","identity_class":"organization"})");
  EXPECT_EQ(served(R"({"type":"note","content":"c","authors":["Alice"]})"), R"({"type":"note","content":"[redacted]"})");
  EXPECT_EQ(served(R"({"type":"email-message","is_multipart":false,"subject":"for Alice","body":"hi"})"),
            R"({"type":"email-message","is_multipart":false})");
  // STIX 2.0 observed-data holds its observables inline: the dropped types go from there.
  EXPECT_EQ(served(R"({"type":"observed-data","objects":{"0":{"type":"email-addr","value":"a@b.c"},"1":{"type":"domain-name","value":"d.example"}}})"),
            R"({"type":"observed-data","objects":{"1":{"type":"domain-name","value":"d.example"}}})");
  // Inline (2.0) observables get the same free-text rules.
  EXPECT_EQ(served(R"({"type":"observed-data","objects":{"0":{"type":"email-message","is_multipart":false,"subject":"for Alice","x_phone":"555"}}})"),
            R"({"type":"observed-data","objects":{"0":{"type":"email-message","is_multipart":false}}})");
  // A reference with nothing but a description keeps one (STIX needs description, url or external_id).
  EXPECT_EQ(served(R"({"type":"report","name":"r","external_references":[{"source_name":"internal","description":"Bob's notes"}]})"),
            R"({"type":"report","name":"r","external_references":[{"source_name":"internal","description":"[redacted]"}]})");
  // Without free-text redaction the dropped types still go from inline observables; observed data
  // left with none is not served at all (STIX forbids an empty "objects").
  p.personal_data.redact_free_text = false;
  Agreement b(p);
  std::string out;
  b.AppendServed(R"({"type":"observed-data","objects":{"0":{"type":"user-account","user_id":"alice"},"1":{"type":"ipv4-addr","value":"192.0.2.1"}},"x_note":"kept"})", out);
  EXPECT_EQ(out, R"({"type":"observed-data","objects":{"1":{"type":"ipv4-addr","value":"192.0.2.1"}},"x_note":"kept"})");
  EXPECT_FALSE(b.Visible("observed-data", R"({"type":"observed-data","objects":{"0":{"type":"user-account","user_id":"alice"}}})"));
}

TEST(Agreement, ReferencesToDroppedTypesAreWithheld) {
  Peer p;
  p.name = "x";
  p.personal_data.drop_types = {"email-addr"};
  Agreement a(p);
  const std::string email = "email-addr--282886f3-a57e-5600-bf88-c12ca9a10196";  // UUIDv5 of the address
  const std::string ind = "indicator--11111111-1111-4111-8111-111111111111";
  const std::string report = R"({"type":"report","name":"r","object_refs":[")" + ind + R"(",")" + email + R"("]})";
  EXPECT_TRUE(a.Visible("report", report));
  std::string out;
  a.AppendServed(report, out);
  EXPECT_EQ(out, R"({"type":"report","name":"r","object_refs":[")" + ind + R"("]})");
  // Nothing left to refer to, or a required reference to a dropped type: not served at all.
  EXPECT_FALSE(a.Visible("report", R"({"type":"report","name":"r","object_refs":[")" + email + R"("]})"));
  EXPECT_FALSE(a.Visible("relationship", R"({"type":"relationship","source_ref":")" + ind + R"(","target_ref":")" + email + R"("})"));
  EXPECT_FALSE(a.Visible("sighting", R"({"type":"sighting","sighting_of_ref":")" + email + R"("})"));
  EXPECT_TRUE(a.Visible("sighting", R"({"type":"sighting","sighting_of_ref":")" + ind + R"("})"));
  // A list left empty goes; an optional single reference goes.
  out.clear();
  a.AppendServed(R"({"type":"sighting","sighting_of_ref":")" + ind + R"(","where_sighted_refs":[")" + email + R"("]})", out);
  EXPECT_EQ(out, R"({"type":"sighting","sighting_of_ref":")" + ind + R"("})");
  out.clear();
  a.AppendServed(R"({"type":"email-message","is_multipart":false,"from_ref":")" + email + R"("})", out);
  EXPECT_EQ(out, R"({"type":"email-message","is_multipart":false})");
}

TEST(Agreement, SignatureCheckForPeers) {
  KeyPair k = GenerateKeyPair();
  Peer signing;
  signing.name = "jp";
  signing.identity_id = kPartnerIdentity;
  signing.public_key = k.public_key;
  signing.require_signatures = true;
  Peer lax = signing;
  lax.require_signatures = false;
  EXPECT_EQ(SignatureCheckFor({lax}), nullptr);
  auto check = SignatureCheckFor({lax, signing});
  ASSERT_NE(check, nullptr);
  std::string obj = Indicator(1, kTlpIds[2], kPartnerIdentity);
  EXPECT_FALSE(check(obj, {}).ok());
  EXPECT_TRUE(check(*Sign(obj, k, kPartnerIdentity), {}).ok());
  EXPECT_TRUE(check(Indicator(1, kTlpIds[2]), {}).ok());  // claims no one
}

}  // namespace
}  // namespace cordon::federation
