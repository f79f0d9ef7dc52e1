// Warning-list checks on the 12 real MISP lists in ../shared/data (about 117,000
// entries: CIDR, hostname, string and substring lists), per value kind; and the
// time to load them.
//   build/bench/warninglist_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>
#include <vector>

#include "feeds/warninglist.h"
#include "testutil/testutil.h"

namespace cordon::feeds {
namespace {

std::vector<WarningList> RealLists() {
  std::vector<WarningList> out;
  for (const auto& e : std::filesystem::directory_iterator(testutil::SharedData("misp/warninglists"))) {
    out.push_back(*ParseWarningList(testutil::ReadFile(e.path())));
  }
  return out;
}

const WarningLists& Lists() {
  static const WarningLists lists = WarningLists::Build(RealLists());
  return lists;
}

void Check(benchmark::State& state, ValueKind kind, std::vector<std::string> values) {
  const WarningLists& w = Lists();
  size_t i = 0, hits = 0;
  for (auto _ : state) {
    hits += w.Check(kind, values[i++ % values.size()]).has_value();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit_ratio"] = double(hits) / state.iterations();
}

void BM_CheckDomain(benchmark::State& s) {
  Check(s, ValueKind::kDomain, {"a.b.c.malware-host.example", "accounts.google.com", "x.duckdns.org",
                                "www.example.org", "cdn.evil.example"});
}
void BM_CheckIp(benchmark::State& s) {
  Check(s, ValueKind::kIp, {"8.8.8.8", "185.220.101.7", "10.1.2.3", "52.95.110.1", "2001:db8::1"});
}
void BM_CheckCidr(benchmark::State& s) {
  Check(s, ValueKind::kCidr, {"185.220.100.0/22", "10.0.0.0/8", "52.0.0.0/11", "203.0.113.0/24"});
}
void BM_CheckUrl(benchmark::State& s) {
  Check(s, ValueKind::kUrl, {"https://bit.ly/abc", "http://evil.example/x.php?q=1", "https://app.any.run/t/1"});
}
BENCHMARK(BM_CheckDomain);
BENCHMARK(BM_CheckIp);
BENCHMARK(BM_CheckCidr);
BENCHMARK(BM_CheckUrl);

void BM_BuildIndex(benchmark::State& state) {
  std::vector<WarningList> lists = RealLists();
  for (auto _ : state) benchmark::DoNotOptimize(WarningLists::Build(lists));
}
BENCHMARK(BM_BuildIndex)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace cordon::feeds

BENCHMARK_MAIN();
