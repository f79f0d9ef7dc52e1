// Matcher index benchmark (a CLI driver, not run by ctest; figures in
// docs/BENCHMARKS.md, section "Matcher index").
//
//   match_bench [--indicators N] [--queries Q] [--data DIR]
//
// Builds N synthetic indicators derived from the shared blocklists
// (urlhaus + blocklistproject domains, ipsum IPs, FireHOL netsets, then
// generated names and addresses in the same proportions): 58 % exact domains,
// 2 % domain suffixes (LIKE '%.x'), 35 % IPv4 addresses, 5 % IPv4 CIDR blocks.
// Reports build time, index memory (own accounting and RSS delta), and
// single-thread lookups/s of decoded keys (Matcher::Match, one key per event
// and eight keys per event, and batches of 32 one-key events through
// Matcher::MatchBatch, and 16 eight-key events per MatchBatch) for hit, miss
// and mixed key sets (one with many hits, one with few, as sensors see); and
// the keys of real traffic: every record of the shared Zeek (TSV) and
// Suricata EVE logs through the real decoders, one record per event as
// `cordon match` passes them, and in batches of 32.
#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "base/strings.h"
#include "events/decoder.h"
#include "match/index.h"
#include "normalize/normalize.h"
#include "testutil/testutil.h"

using namespace cordon;
using namespace cordon::match;

namespace {

double Seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time of this thread: "per core" figures stay meaningful on a shared machine.
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

size_t RssBytes() {
  std::ifstream in("/proc/self/statm");
  size_t pages = 0, rss = 0;
  in >> pages >> rss;
  return rss * size_t(sysconf(_SC_PAGESIZE));
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  for (std::string_view line : Split(text, '\n', EmptyParts::kSkip)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == '!') continue;
    out.emplace_back(line);
  }
  return out;
}

std::string Ip4(uint32_t v) {
  return absl::StrFormat("%d.%d.%d.%d", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
}

struct CountSink : HitSink {
  uint64_t hits = 0;
  void OnHit(const Event&, const Hit&) override { ++hits; }
};

// Keys are stored once; events point into them.
struct KeySet {
  explicit KeySet(std::string n) : name(std::move(n)) {}
  std::string name;
  std::vector<std::string> texts;  // until Finish
  std::string arena;  // key texts back to back, as in a decoder's (hot) buffer
  std::vector<Key> keys;
};

void AddDomain(KeySet& s, const std::string& d) {
  s.texts.push_back(*normalize::Domain(d));
  Key k;
  k.type = KeyType::kDomain;
  s.keys.push_back(k);
}
void AddIp(KeySet& s, const std::string& ip) {
  Key k;
  k.type = KeyType::kIp;
  k.ip = *normalize::Ip(ip);
  s.texts.emplace_back();
  s.keys.push_back(k);
}
void Finish(KeySet& s) {
  size_t bytes = 0;
  for (const std::string& t : s.texts) bytes += t.size();
  s.arena.reserve(bytes);
  std::vector<size_t> offsets;
  for (const std::string& t : s.texts) {
    offsets.push_back(s.arena.size());
    s.arena += t;
  }
  for (size_t i = 0; i < s.keys.size(); ++i)
    if (s.keys[i].type != KeyType::kIp) s.keys[i].text = std::string_view(s.arena).substr(offsets[i], s.texts[i].size());
}

// Runs every key of `s` through the matcher, `per_event` keys per event;
// returns keys per second of thread CPU time (best of `rounds`). Like a
// decoder, it reuses Events and fills their keys from a sequential buffer.
// `batch` > 1: events are matched in batches of that many (Matcher::MatchBatch).
double Measure(Matcher& m, const KeySet& s, size_t per_event, size_t batch, uint64_t* hits, int rounds = 3) {
  std::vector<Event> events(batch);
  for (Event& e : events) {
    e.time = *ParseTimestamp("2025-06-01T00:00:00Z");
    e.keys.reserve(per_event);
  }
  double best = 0;
  for (int r = 0; r < rounds; ++r) {
    CountSink sink;
    double t0 = ThreadCpuSeconds();
    for (size_t i = 0; i < s.keys.size();) {
      size_t n = 0;
      for (; n < batch && i < s.keys.size(); ++n, i += per_event) {
        size_t cnt = std::min(s.keys.size(), i + per_event) - i;
        events[n].keys.resize(cnt);
        for (size_t k = 0; k < cnt; ++k) events[n].keys[k] = s.keys[i + k];
      }
      if (batch > 1) m.MatchBatch(std::span<const Event>(events.data(), n), sink);
      else m.Match(events[0], sink);
    }
    double dt = ThreadCpuSeconds() - t0;
    best = std::max(best, double(s.keys.size()) / dt);
    *hits = sink.hits;
  }
  return best;
}

// The keys of every record of the shared logs, as the decoders make them.
struct LogKeys {
  std::string arena;
  std::vector<Key> keys;
  std::vector<uint32_t> per_record;  // keys of each record with at least one
};

LogKeys DecodeSharedLogs() {
  LogKeys out;
  struct Text {
    size_t offset, size;
  };
  std::vector<Text> texts;
  auto add_file = [&](events::Format format, const std::string& relative) {
    std::string text = testutil::ReadFile(testutil::SharedData(relative));
    text.append(events::kJsonPadding, '\0');  // the decoders may read past a line's end
    std::string_view all(text.data(), text.size() - events::kJsonPadding);
    auto decoder = events::Decoder::Create(format);
    decoder->BeginSource(relative);
    Event e;
    for (size_t pos = 0; pos < all.size();) {
      size_t nl = all.find('\n', pos);
      if (nl == std::string_view::npos) nl = all.size();
      std::string_view line = all.substr(pos, nl - pos);
      pos = nl + 1;
      if (decoder->Decode(line, &e) != events::LineKind::kEvent || e.keys.empty()) continue;
      for (Key k : e.keys) {
        texts.push_back({out.arena.size(), k.text.size()});
        out.arena.append(k.text);
        k.field = {};
        out.keys.push_back(k);
      }
      out.per_record.push_back(uint32_t(e.keys.size()));
    }
  };
  for (const char* f : {"conn.log", "dns.log", "http.log"})
    add_file(events::Format::kZeek, std::string("logs/zeek/stratosphere-005-zeek-scenario-malicious/") + f);
  for (const char* f : {"dns.log.zst", "ssl.log.zst", "x509.log", "notice.log", "weird.log.zst", "smtp.log", "ftp.log"})
    add_file(events::Format::kZeek, std::string("logs/zeek/wrccdc-2018/tsv/") + f);
  add_file(events::Format::kEve, "logs/suricata/stratosphere-test6-malicious.eve.json.zst");
  for (size_t i = 0; i < out.keys.size(); ++i)
    out.keys[i].text = std::string_view(out.arena).substr(texts[i].offset, texts[i].size);
  return out;
}

// Keys per second of thread CPU time (best of `rounds`), the records of `logs`
// matched one per Match call (`batch` == 1) or `batch` per MatchBatch.
double MeasureRecords(Matcher& m, const LogKeys& logs, size_t batch, uint64_t* hits, int rounds = 3) {
  std::vector<Event> events(batch);
  for (Event& e : events) e.time = *ParseTimestamp("2025-06-01T00:00:00Z");  // within every indicator's validity
  double best = 0;
  for (int r = 0; r < rounds; ++r) {
    CountSink sink;
    double t0 = ThreadCpuSeconds();
    size_t k = 0;
    for (size_t i = 0; i < logs.per_record.size();) {
      size_t n = 0;
      for (; n < batch && i < logs.per_record.size(); ++n, ++i) {
        events[n].keys.assign(logs.keys.begin() + ptrdiff_t(k), logs.keys.begin() + ptrdiff_t(k + logs.per_record[i]));
        k += logs.per_record[i];
      }
      if (batch > 1) m.MatchBatch(std::span<const Event>(events.data(), n), sink);
      else m.Match(events[0], sink);
    }
    double dt = ThreadCpuSeconds() - t0;
    best = std::max(best, double(logs.keys.size()) / dt);
    *hits = sink.hits;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = 1000000, queries = 2000000;
  bool exact_only = false;
  // --only NAME: run one key set; --column 1..4: one column of the table
  // (profiling); --exact-only 1: no suffix and CIDR indicators (shows what those cost).
  std::string only;
  int column = 0;
  for (int i = 1; i < argc; i += 2) {
    std::string a = argv[i];
    if (i + 1 >= argc) a = "--help";
    if (a == "--indicators") n = std::stoul(argv[i + 1]);
    else if (a == "--queries") queries = std::stoul(argv[i + 1]);
    else if (a == "--exact-only") exact_only = std::string(argv[i + 1]) == "1";
    else if (a == "--only") only = argv[i + 1];
    else if (a == "--column") column = std::stoi(argv[i + 1]);
    else if (a == "--data") setenv("CORDON_SHARED_DATA", argv[i + 1], 1);
    else {
      std::fprintf(stderr,
                   "usage: match_bench [--indicators N] [--queries Q] [--data DIR] [--only KEYS] [--column 1-4] "
                   "[--exact-only 1]\n");
      return 2;
    }
  }
  // Real values.
  std::vector<std::string> real_domains;
  for (const char* f : {"indicators/urlhaus/urlhaus-filter-domains.txt", "indicators/blocklistproject/phishing-nl.txt.zst"})
    for (std::string& d : Lines(testutil::ReadFile(testutil::SharedData(f))))
      if (normalize::Domain(d).ok()) real_domains.push_back(std::move(d));
  for (std::string& l : Lines(testutil::ReadFile(testutil::SharedData("indicators/blocklistproject/ransomware.txt")))) {
    size_t sp = l.find(' ');
    std::string d = sp == std::string::npos ? l : l.substr(sp + 1);
    if (normalize::Domain(d).ok()) real_domains.push_back(std::move(d));
  }
  std::vector<std::string> real_ips;
  for (std::string& l : Lines(testutil::ReadFile(testutil::SharedData("indicators/ipsum/ipsum.txt.zst"))))
    real_ips.push_back(l.substr(0, l.find_first_of(" \t")));
  std::vector<std::string> real_nets;
  for (const char* f : {"firehol_level1.netset", "firehol_level2.netset", "firehol_level4.netset.zst",
                        "spamhaus_drop.netset", "spamhaus_edrop.netset", "dshield.netset"})
    for (std::string& l : Lines(testutil::ReadFile(testutil::SharedData(std::string("indicators/firehol/") + f))))
      if (l.find('/') != std::string::npos && normalize::Cidr(l).ok()) real_nets.push_back(std::move(l));
  std::printf("real values: %zu domains, %zu IPs, %zu CIDR blocks\n", real_domains.size(), real_ips.size(),
              real_nets.size());

  size_t n_domains = n * 58 / 100, n_suffix = n * 2 / 100, n_ips = n * 35 / 100;
  if (exact_only) n_suffix = 0;
  size_t n_nets = exact_only ? 0 : n - n_domains - n_suffix - n_ips;
  if (exact_only) n_ips = n - n_domains;
  std::vector<IndicatorSpec> specs;
  specs.reserve(n);
  std::vector<std::string> ind_domains, ind_suffixes, ind_ips;
  auto id = [](size_t i) { return absl::StrFormat("indicator--%08x-0000-4000-8000-%012x", uint32_t(i >> 20), i); };
  auto add = [&](std::string pattern) {
    IndicatorSpec s;
    s.id = id(specs.size());
    s.pattern = std::move(pattern);
    s.valid_from = *ParseTimestamp("2025-01-01T00:00:00Z");
    specs.push_back(std::move(s));
  };
  size_t rd = real_domains.size();
  for (size_t i = 0; i < n_domains; ++i) {
    std::string d = i < rd ? real_domains[i] : absl::StrFormat("%06x.%s", (i * 0x9e3779b1u) & 0xffffff, real_domains[i % rd]);
    if (d.size() > 200) d = d.substr(d.size() - 200);
    if (d[0] == '.' || d[0] == '-') d = "x" + d;
    add("[domain-name:value = '" + d + "']");
    if (i % 4 == 0 && ind_domains.size() < queries) ind_domains.push_back(d);
  }
  for (size_t i = 0; i < n_suffix; ++i) {
    std::string d = absl::StrFormat("s%x.%s", i, real_domains[(i * 7919) % rd]);
    if (d.size() > 200) d = d.substr(d.size() - 200);
    add("[domain-name:value LIKE '%." + d + "']");
    if (ind_suffixes.size() < queries) ind_suffixes.push_back(d);
  }
  for (size_t i = 0; i < n_ips; ++i) {
    std::string ip = i < real_ips.size() ? real_ips[i] : Ip4(uint32_t(i * 2654435761u));
    add("[ipv4-addr:value = '" + ip + "']");
    if (i % 4 == 0 && ind_ips.size() < queries) ind_ips.push_back(ip);
  }
  for (size_t i = 0; i < n_nets; ++i) {
    std::string net = i < real_nets.size() ? real_nets[i]
                                           : (i % 1024 == 0 ? Ip4(uint32_t(i * 40503u) << 16) + "/16"
                                                         : Ip4(uint32_t(i * 2246822519u) << 8) + "/24");
    add("[ipv4-addr:value ISSUBSET '" + net + "']");
  }
  // Real traffic: the keys of the shared logs; every 50th distinct domain and
  // IPv4 address among them is listed too, so that some records hit.
  LogKeys logs;
  size_t planted = 0;
  if (only.empty() || only == "logs") {
    logs = DecodeSharedLogs();
    absl::flat_hash_set<std::string> distinct;
    size_t key_types[size_t(KeyType::kCount)] = {};
    for (const Key& k : logs.keys) {
      ++key_types[size_t(k.type)];
      std::string value;
      if (k.type == KeyType::kDomain) value = "[domain-name:value = '" + std::string(k.text) + "']";
      else if (k.type == KeyType::kIp && k.ip.IsV4()) value = "[ipv4-addr:value = '" + normalize::FormatIp(k.ip) + "']";
      else continue;
      if (distinct.insert(value).second && distinct.size() % 50 == 0) {
        add(value);
        ++planted;
      }
    }
    std::printf("shared logs: %zu records, %zu keys:", logs.per_record.size(), logs.keys.size());
    for (size_t t = 0; t < size_t(KeyType::kCount); ++t)
      if (key_types[t]) std::printf(" %s %zu", std::string(KeyTypeName(KeyType(t))).c_str(), key_types[t]);
    std::printf("; %zu distinct domains and IPv4 addresses, %zu of them listed\n", distinct.size(), planted);
  }
  double t0 = Seconds(), c0 = ThreadCpuSeconds();
  auto built = Index::Build(std::move(specs));
  double build_s = Seconds() - t0, build_cpu = ThreadCpuSeconds() - c0;
  if (!built.ok()) {
    std::fprintf(stderr, "build failed: %s\n", std::string(built.status().message()).c_str());
    return 1;
  }
  std::shared_ptr<const Index> index = std::move(*built);
  built = absl::InternalError("moved");
  specs = {};
  malloc_trim(0);
  std::printf("%s\n", index->report().Summary().c_str());
  std::printf("build: %.2f s wall, %.2f s CPU for %zu indicators\n", build_s, build_cpu, n);
  std::printf("memory: own accounting %.1f MB = %.1f B/indicator\n", index->MemoryBytes() / 1e6,
              double(index->MemoryBytes()) / double(n));
  std::mt19937_64 rng(42);
  auto pick = [&](const std::vector<std::string>& v, size_t i) { return v[rng() % v.size()]; };
  KeySet domain_hit("domain exact hit"), domain_miss("domain miss"), suffix_hit("domain suffix hit"),
      ip_hit("ipv4 exact hit"), ip_random("ipv4 random (CIDR/miss)"), mixed("mixed");
  for (size_t i = 0; i < queries; ++i) {
    AddDomain(domain_hit, pick(ind_domains, i));
    AddDomain(domain_miss, absl::StrFormat("q%x.%s", i, real_domains[i % rd]));
    AddDomain(suffix_hit, "www." + (ind_suffixes.empty() ? real_domains[i % rd] : pick(ind_suffixes, i)));
    AddIp(ip_hit, pick(ind_ips, i));
    AddIp(ip_random, Ip4(uint32_t(rng())));
  }
  // mixed: 30 % domain hits, 40 % domain misses, 5 % suffix hits, 10 % IP hits, 15 % random IPs.
  // few hits: what a sensor sees, mostly unlisted values (per 1000: 5 domain
  // hits, 1 suffix hit, 4 IP hits, 600 domain misses, 390 random IPs).
  auto draw = [&](KeySet& into, const std::vector<std::pair<int, const KeySet*>>& parts) {
    int total = 0;
    for (const auto& [weight, from] : parts) total += weight;
    for (size_t i = 0; i < queries; ++i) {
      int r = int(rng() % unsigned(total));
      const KeySet* from = parts.back().second;
      for (const auto& [weight, set] : parts) {
        if (r < weight) {
          from = set;
          break;
        }
        r -= weight;
      }
      size_t j = rng() % from->keys.size();
      into.texts.push_back(from->texts[j]);
      into.keys.push_back(from->keys[j]);
    }
  };
  KeySet few_hits("mixed, few hits");
  draw(mixed, {{30, &domain_hit}, {40, &domain_miss}, {5, &suffix_hit}, {10, &ip_hit}, {15, &ip_random}});
  draw(few_hits, {{5, &domain_hit}, {600, &domain_miss}, {1, &suffix_hit}, {4, &ip_hit}, {390, &ip_random}});
  const std::vector<KeySet*> sets = {&domain_hit, &domain_miss, &suffix_hit, &ip_hit, &ip_random, &mixed, &few_hits};
  for (KeySet* s : sets) Finish(*s);
  for (KeySet* s : sets) s->texts = {};

  Matcher m(index);
  std::printf("\n%-26s %14s %14s %14s %14s %10s\n", "keys", "1 key/event", "8 keys/event", "batch 32", "8 keys x 16",
              "hits/key");
  for (const KeySet* s : sets) {
    if (!only.empty() && s->name != only) continue;
    uint64_t hits1 = 0, hits8 = 0, hitsb = 0, hitsx = 0;
    auto measure = [&](int col, size_t per_event, size_t batch, uint64_t* hits) {
      return column == 0 || column == col ? Measure(m, *s, per_event, batch, hits) : 0.0;
    };
    double r1 = measure(1, 1, 1, &hits1);
    double r8 = measure(2, 8, 1, &hits8);
    double rb = measure(3, 1, 32, &hitsb);
    double rx = measure(4, 8, 16, &hitsx);
    // Batching must not change what is reported (one-key events, and eight-key events).
    if (column == 0 && (hits1 != hitsb || hits8 != hitsx))
      std::printf("hit counts differ in batches: %llu vs %llu, %llu vs %llu\n", (unsigned long long)hits1,
                  (unsigned long long)hitsb, (unsigned long long)hits8, (unsigned long long)hitsx);
    std::printf("%-26s %11.2f M/s %11.2f M/s %11.2f M/s %11.2f M/s %10.3f\n", s->name.c_str(), r1 / 1e6, r8 / 1e6,
                rb / 1e6, rx / 1e6, double(column <= 1 ? hits1 : column == 2 ? hits8 : column == 3 ? hitsb : hitsx) /
                                        double(s->keys.size()));
  }
  if (!logs.keys.empty()) {
    uint64_t hits1 = 0, hitsb = 0;
    double r1 = MeasureRecords(m, logs, 1, &hits1);
    double rb = MeasureRecords(m, logs, 32, &hitsb);
    std::printf("%-26s %11.2f M/s %14s %11.2f M/s %14s %10.4f   (%zu keys of %zu records, per record / batch 32)\n",
                "shared logs (real)", r1 / 1e6, "", rb / 1e6, "", double(hits1) / double(logs.keys.size()),
                logs.keys.size(), logs.per_record.size());
    // Port keys cost next to nothing when no indicator lists a port: the
    // same runs counted in the other keys only.
    size_t ports = size_t(std::count_if(logs.keys.begin(), logs.keys.end(),
                                        [](const Key& k) { return k.type == KeyType::kPort; }));
    double share = double(logs.keys.size() - ports) / double(logs.keys.size());
    std::printf("%-26s %11.2f M/s %14s %11.2f M/s              (the same, port keys not counted)\n",
                "shared logs, no ports", r1 * share / 1e6, "", rb * share / 1e6);
    if (hits1 != hitsb)
      std::printf("hit counts differ in batches: %llu vs %llu\n", (unsigned long long)hits1, (unsigned long long)hitsb);
  }
  // The fixed cost of the harness and of Match itself: the mixed keys against
  // an index that holds nothing.
  if (column == 0) {
    Matcher empty(Index::Empty());
    uint64_t h = 0;
    std::printf("%-26s %11.2f M/s   (mixed keys, empty index: harness + Match overhead)\n", "no index",
                Measure(empty, mixed, 1, 1, &h) / 1e6);
    std::printf("%-26s %11.2f M/s   (the same, batch 32)\n", "no index", Measure(empty, mixed, 1, 32, &h) / 1e6);
  }
  // What freeing the index gives back to the OS = what it held (its large
  // arrays are separate mappings, so this is not blurred by heap residue of the
  // freed input specs, which an RSS delta across Build would include).
  m.~Matcher();
  new (&m) Matcher(Index::Empty());
  size_t rss_with = RssBytes();
  index.reset();  // no malloc_trim: only the index's own mappings go back
  size_t rss_without = RssBytes();
  std::printf("\nRSS released when the index is freed: %.1f MB = %.1f B/indicator\n",
              double(rss_with - rss_without) / 1e6, double(rss_with - rss_without) / double(n));
  return 0;
}
