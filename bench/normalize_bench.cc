// Address parsing on the decoders' hot path: normalize::ParseIpv4 over the
// IPv4 addresses of the shared Zeek logs (id.orig_h / id.resp_h of the
// wrccdc-2018 DNS log and the Stratosphere conn log, in file order, so the
// mix of octet lengths is a real one), beside glibc's inet_pton(AF_INET), the
// obvious baseline, on the same texts.
//   build/bench/normalize_bench [--benchmark_filter=...]
#include <arpa/inet.h>
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>
#include <vector>

#include "normalize/normalize.h"
#include "testutil/testutil.h"

namespace cordon::normalize {
namespace {

// The address columns of a Zeek TSV log, by its #fields header.
void AddressesOf(const std::string& text, std::vector<std::string>* out) {
  std::vector<size_t> columns;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    std::vector<std::string_view> fields;
    for (size_t b = 0;;) {
      size_t e = line.find('\t', b);
      fields.push_back(line.substr(b, e == std::string_view::npos ? e : e - b));
      if (e == std::string_view::npos) break;
      b = e + 1;
    }
    if (line.starts_with("#fields")) {
      columns.clear();
      for (size_t i = 1; i < fields.size(); ++i)
        if (fields[i] == "id.orig_h" || fields[i] == "id.resp_h") columns.push_back(i - 1);
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    for (size_t c : columns)
      if (c < fields.size() && fields[c].find(':') == std::string_view::npos) out->emplace_back(fields[c]);
  }
}

const std::vector<std::string>& Addresses() {
  static const std::vector<std::string> all = [] {
    std::vector<std::string> v;
    AddressesOf(testutil::ReadFile(testutil::SharedData("logs/zeek/wrccdc-2018/tsv/dns.log.zst")), &v);
    AddressesOf(testutil::ReadFile(testutil::SharedData("logs/zeek/stratosphere-005-zeek-scenario-malicious/conn.log")),
                &v);
    return v;
  }();
  return all;
}

void BM_ParseIpv4(benchmark::State& state) {
  const auto& in = Addresses();
  size_t ok = 0;
  for (auto _ : state) {
    for (const std::string& s : in) {
      IpAddress a;
      ok += ParseIpv4(s, &a);
      benchmark::DoNotOptimize(a);
    }
  }
  if (ok != in.size() * state.iterations()) state.SkipWithError("an address was refused");
  state.SetItemsProcessed(int64_t(state.iterations() * in.size()));
}
BENCHMARK(BM_ParseIpv4);

void BM_InetPton(benchmark::State& state) {
  const auto& in = Addresses();
  size_t ok = 0;
  for (auto _ : state) {
    for (const std::string& s : in) {
      unsigned char a[4];
      ok += inet_pton(AF_INET, s.c_str(), a) == 1;
      benchmark::DoNotOptimize(a);
    }
  }
  if (ok != in.size() * state.iterations()) state.SkipWithError("an address was refused");
  state.SetItemsProcessed(int64_t(state.iterations() * in.size()));
}
BENCHMARK(BM_InetPton);

}  // namespace
}  // namespace cordon::normalize

BENCHMARK_MAIN();
