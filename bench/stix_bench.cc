// Per-object costs on the ingest path: splitting an envelope, validating objects
// (one simdjson DOM parse each) and parsing indicator patterns, on real data.
//   build/bench/stix_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "pattern/pattern.h"
#include "stix/bundle.h"
#include "stix/object.h"
#include "testutil/testutil.h"

namespace cordon {
namespace {

const std::string& IcsBundle() {
  static const std::string text =
      testutil::ReadFile(testutil::SharedData("stix/mitre-attack/ics-attack-18.1.json"));
  return text;
}

std::string IndicatorEnvelope(int n) {
  std::string out = "{\"objects\":[";
  for (int i = 0; i < n; ++i) {
    if (i) out += ',';
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08x-0000-4000-8000-000000000000\","
             "\"created\":\"2026-01-01T00:00:00.000Z\",\"modified\":\"2026-01-01T00:00:00.000Z\","
             "\"pattern\":\"[ipv4-addr:value = '10.0.%d.%d']\",\"pattern_type\":\"stix\","
             "\"valid_from\":\"2026-01-01T00:00:00Z\",\"confidence\":50}",
             i, (i >> 8) & 255, i & 255);
    out += buf;
  }
  return out + "]}";
}

void BM_SplitEnvelope1000(benchmark::State& state) {
  std::string env = IndicatorEnvelope(1000);
  for (auto _ : state) {
    auto list = stix::SplitObjects(env);
    benchmark::DoNotOptimize(list);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(state.iterations() * env.size());
}
BENCHMARK(BM_SplitEnvelope1000);

void BM_ValidateIndicators(benchmark::State& state) {
  std::string env = IndicatorEnvelope(1000);
  auto list = stix::SplitObjects(env);
  for (auto _ : state) {
    for (auto obj : list->objects) benchmark::DoNotOptimize(stix::ValidateObject(obj));
  }
  state.SetItemsProcessed(state.iterations() * list->objects.size());
}
BENCHMARK(BM_ValidateIndicators);

void BM_ValidateAttackIcs(benchmark::State& state) {
  auto list = stix::SplitObjects(IcsBundle());
  for (auto _ : state) {
    for (auto obj : list->objects) benchmark::DoNotOptimize(stix::ValidateObject(obj));
  }
  state.SetItemsProcessed(state.iterations() * list->objects.size());
  state.SetBytesProcessed(state.iterations() * IcsBundle().size());
}
BENCHMARK(BM_ValidateAttackIcs);

void BM_PatternValidate(benchmark::State& state) {
  const std::vector<std::string> patterns = {
      "[ipv4-addr:value = '198.51.100.1']",
      "[domain-name:value = 'update-check.example.net']",
      "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
      "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_port = 443] "
      "FOLLOWEDBY [url:value LIKE 'http://%.example.com/%'] WITHIN 300 SECONDS",
  };
  for (auto _ : state) {
    for (const auto& p : patterns) benchmark::DoNotOptimize(pattern::Validate(p, pattern::Version::k21));
  }
  state.SetItemsProcessed(state.iterations() * patterns.size());
}
BENCHMARK(BM_PatternValidate);

}  // namespace
}  // namespace cordon

BENCHMARK_MAIN();
