// Cost per object of sharing agreements and signatures (issue 5). Figures in
// docs/BENCHMARKS.md ("Federation"). Run: build/bench/federation_bench
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <memory>

#include "base/uuid.h"
#include "federation/agreement.h"
#include "federation/jcs.h"
#include "federation/signature.h"
#include "ingest/ingest.h"
#include "store/sqlite/sqlite_store.h"
#include "taxii/auth.h"
#include "taxii/request.h"
#include "taxii/service.h"
#include "testutil/testutil.h"

namespace cordon::federation {
namespace {

constexpr const char* kGreen = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
constexpr const char* kRed = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";
constexpr const char* kCollection = "11111111-1111-4111-8111-111111111111";

std::string Indicator(int i, const char* marking) {
  return R"({"type":"indicator","spec_version":"2.1","id":"indicator--)" +
         NewUuid5(kStixScoNamespace, std::to_string(i)) +
         R"(","created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z","name":"C2 server )" +
         std::to_string(i) + R"(","description":"Command and control server seen in phishing campaign; reported by analyst@cert.example",)" +
         R"("indicator_types":["malicious-activity"],"pattern":"[ipv4-addr:value = '198.51.100.)" +
         std::to_string(i % 250) + R"(']","pattern_type":"stix","valid_from":"2026-01-01T00:00:00Z",)" +
         R"("object_marking_refs":[")" + marking + R"("]})";
}

Peer BenchPeer(bool redact) {
  Peer p;
  p.name = "isp";
  p.read_collections = {"*"};
  p.tlp_ceiling = Tlp::kAmber;
  p.personal_data.drop_types = {"email-addr", "user-account"};
  p.personal_data.redact_free_text = redact;
  return p;
}

void BM_AgreementVisible(benchmark::State& state) {
  Agreement a(BenchPeer(false));
  std::string o = Indicator(1, kGreen);
  for (auto _ : state) benchmark::DoNotOptimize(a.Visible("indicator", o));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * o.size());
}
BENCHMARK(BM_AgreementVisible);

void BM_AgreementServeRedacted(benchmark::State& state) {
  Agreement a(BenchPeer(true));
  std::string o = Indicator(1, kGreen);
  std::string out;
  for (auto _ : state) {
    out.clear();
    a.AppendServed(o, out);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AgreementServeRedacted);

// Real objects: ATT&CK ICS (larger, unmarked objects with long descriptions).
void BM_AgreementVisibleAttack(benchmark::State& state) {
  static std::string text = testutil::ReadFile(testutil::SharedData("stix/mitre-attack/ics-attack-18.1.json"));
  static simdjson::dom::parser parser;
  static std::vector<std::string> objects = [] {
    std::vector<std::string> v;
    for (auto o : parser.parse(text)["objects"].get_array()) v.push_back(simdjson::to_string(o));
    return v;
  }();
  Agreement a(BenchPeer(false));
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string& o = objects[i++ % objects.size()];
    bytes += o.size();
    benchmark::DoNotOptimize(a.Visible("attack-pattern", o));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_AgreementVisibleAttack);

void BM_Canonicalize(benchmark::State& state) {
  std::string o = Indicator(1, kGreen);
  for (auto _ : state) benchmark::DoNotOptimize(Canonicalize(o));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Canonicalize);

void BM_Sign(benchmark::State& state) {
  KeyPair k = GenerateKeyPair();
  std::string o = Indicator(1, kGreen);
  for (auto _ : state) benchmark::DoNotOptimize(Sign(o, k, "identity--x"));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sign);

void BM_Verify(benchmark::State& state) {
  KeyPair k = GenerateKeyPair();
  std::string o = *Sign(Indicator(1, kGreen), k, "identity--x");
  for (auto _ : state) benchmark::DoNotOptimize(Verify(o, k.public_key));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Verify);

// GET objects pages of 100 through the service: operator (no agreement) vs a
// partner (agreement applied; 1 object in 10 is TLP:RED and skipped).
struct ServiceFixture {
  testutil::TempDir dir;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<taxii::Service> service;
  std::string admin, isp;
  ServiceFixture(bool redact) {
    store = std::move(*store::OpenSqliteStore(dir.path() / "cordon.db"));
    (void)store->PutApiRoot({"api", "t", "d", 100 << 20});
    (void)store->PutCollection({kCollection, "api", "c", "", ""});
    std::vector<std::string> objs;
    for (int i = 0; i < 5000; ++i) objs.push_back(Indicator(i, i % 10 == 9 ? kRed : kGreen));
    std::vector<std::string_view> views(objs.begin(), objs.end());
    (void)ingest::IngestObjects(*store, kCollection, views, stix::DefaultVersion::kInfer);
    for (const char* u : {"admin", "isp"}) {
      (void)store->PutUser({u, "", {"*"}, {}});
      std::string t = taxii::NewApiToken();
      (void)store->PutToken({taxii::TokenHash(t), u, ""});
      (std::string(u) == "admin" ? admin : isp) = "Bearer " + t;
    }
    auto peers = std::shared_ptr<PeerStore>(std::move(*PeerStore::Open((dir.path() / "federation.db").string())));
    (void)peers->Put(BenchPeer(redact));
    taxii::ServiceOptions opt;
    opt.peer_policy = std::make_shared<FederationPolicy>(peers, nullptr);
    service = std::make_unique<taxii::Service>(*store, opt);
  }
};

void GetPages(benchmark::State& state, bool as_peer, bool redact) {
  static ServiceFixture* plain = new ServiceFixture(false);
  static ServiceFixture* redacting = new ServiceFixture(true);
  ServiceFixture& f = redact ? *redacting : *plain;
  std::string target = std::string("/api/collections/") + kCollection + "/objects/?limit=100";
  net::Request req;
  req.method = "GET";
  req.target = target;
  req.accept = taxii::kTaxiiMediaType;
  req.authorization = as_peer ? f.isp : f.admin;
  for (auto _ : state) {
    net::Response r = f.service->Handle(req);
    if (r.status != 200) state.SkipWithError("not 200");
    benchmark::DoNotOptimize(r.body);
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
void BM_GetPageOperator(benchmark::State& s) { GetPages(s, false, false); }
void BM_GetPagePartner(benchmark::State& s) { GetPages(s, true, false); }
void BM_GetPagePartnerRedacting(benchmark::State& s) { GetPages(s, true, true); }
BENCHMARK(BM_GetPageOperator)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GetPagePartner)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GetPagePartnerRedacting)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace cordon::federation

BENCHMARK_MAIN();
