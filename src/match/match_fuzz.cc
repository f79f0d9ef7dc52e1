// Fuzz target: the matcher's lookups against a reference. One index (built
// once) lists exact domains, domain suffixes, a LIKE expression, IPv4
// addresses and blocks, among thousands of generated ones so that table
// buckets overflow. Each input is a list of log values, one per line; each
// value a decoder could key (a domain name or an IP address, normalised as a
// decoder does) becomes a key of one event. Contract under test: Match
// reports exactly the indicators a brute-force comparison of every key with
// every listed value finds, each once; and MatchBatch, with the event twice
// in one batch (staged lookups), reports the same for each copy.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_format.h"
#include "match/index.h"
#include "normalize/normalize.h"

using namespace cordon;
using namespace cordon::match;

namespace {

struct Block {
  uint32_t first, last;
};

// What the index lists, kept for the brute-force reference.
struct Listed {
  std::map<std::string, std::vector<uint32_t>> domains;   // exact
  std::map<std::string, std::vector<uint32_t>> suffixes;  // LIKE '%.<suffix>'
  std::vector<std::pair<std::string, uint32_t>> like_tails;  // LIKE '%_<tail>': one byte at least, then tail
  std::map<uint32_t, std::vector<uint32_t>> v4;
  std::vector<std::pair<Block, uint32_t>> blocks;
  std::shared_ptr<const Index> index;
};

const Listed& TheIndex() {
  static const Listed* listed = [] {
    auto* l = new Listed();
    std::vector<IndicatorSpec> specs;
    auto add = [&](std::string pattern) {
      IndicatorSpec s;
      s.id = absl::StrFormat("indicator--00000000-0000-4000-8000-%012d", specs.size());
      s.pattern = std::move(pattern);
      specs.push_back(std::move(s));
      return uint32_t(specs.size() - 1);
    };
    auto domain = [&](const std::string& d) { l->domains[d].push_back(add("[domain-name:value = '" + d + "']")); };
    auto suffix = [&](const std::string& d) {
      l->suffixes[d].push_back(add("[domain-name:value LIKE '%." + d + "']"));
    };
    auto ip = [&](uint32_t v) {
      l->v4[v].push_back(add(absl::StrFormat("[ipv4-addr:value = '%d.%d.%d.%d']", v >> 24, v >> 16 & 255,
                                             v >> 8 & 255, v & 255)));
    };
    auto block = [&](uint32_t v, int len) {
      uint32_t mask = len == 0 ? 0 : ~uint32_t(0) << (32 - len);
      uint32_t first = v & mask;
      uint32_t ind = add(absl::StrFormat("[ipv4-addr:value ISSUBSET '%d.%d.%d.%d/%d']", first >> 24,
                                         first >> 16 & 255, first >> 8 & 255, first & 255, len));
      l->blocks.push_back({{first, first | ~mask}, ind});
    };
    for (const char* d : {"example.com", "a.example.com", "b.c.example.org", "xn--bcher-kva.de", "com", "a", "a.a",
                          "x.y.z.w.v.u.t.s.r.q.p.o.n.m.l.k.j.i.h.g.f.e.d.c.b.a", "0123456789abcdef.net",
                          "0123456789abcdef0.net", "a-label-of-exactly-thirty-two-by.org"})
      domain(d);
    domain("example.com");  // listed twice: a posting list
    for (const char* d : {"example.com", "org", "c.example.org", "a", "de", "0123456789abcdef.net"}) suffix(d);
    l->like_tails.push_back({"evil.com", add("[domain-name:value LIKE '%_evil.com']")});
    for (int i = 0; i < 6000; ++i) domain(absl::StrFormat("h%d.gen%d.example.net", i, i % 37));
    for (int i = 0; i < 300; ++i) suffix(absl::StrFormat("s%d.example.net", i));
    for (uint32_t v : {0u, 1u, 0x0a000001u, 0xc0a80101u, 0xffffffffu, 0x7f000001u}) ip(v);
    ip(0x0a000001u);  // listed twice
    for (uint32_t i = 0; i < 6000; ++i) ip(i * 2654435761u);
    block(0x0a000000u, 8);
    block(0x0a010000u, 16);
    block(0x0a010100u, 24);
    block(0xc0a80100u, 24);
    block(0xfffffff0u, 28);
    block(0x00000000u, 31);
    for (uint32_t i = 0; i < 500; ++i) block(i * 40503u << 12, 20);
    auto built = Index::Build(std::move(specs));
    if (!built.ok() || !(*built)->report().rejected.empty()) {
      std::fprintf(stderr, "match_fuzz: index build failed\n");
      std::abort();
    }
    l->index = *built;
    return l;
  }();
  return *listed;
}

uint32_t V4(const normalize::IpAddress& a) {
  return uint32_t(a.bytes[12]) << 24 | uint32_t(a.bytes[13]) << 16 | uint32_t(a.bytes[14]) << 8 | a.bytes[15];
}

std::set<uint32_t> Expected(const Listed& l, const Event& e) {
  std::set<uint32_t> out;
  auto add_all = [&](const std::vector<uint32_t>& v) { out.insert(v.begin(), v.end()); };
  for (const Key& k : e.keys) {
    if (k.type == KeyType::kDomain) {
      std::string_view d = k.text;
      if (auto it = l.domains.find(std::string(d)); it != l.domains.end()) add_all(it->second);
      for (const auto& [s, inds] : l.suffixes)
        if (d.size() > s.size() && d.substr(d.size() - s.size()) == s && d[d.size() - s.size() - 1] == '.')
          add_all(inds);
      for (const auto& [tail, ind] : l.like_tails)
        if (d.size() > tail.size() && d.substr(d.size() - tail.size()) == tail) out.insert(ind);
    } else if (k.type == KeyType::kIp && k.ip.IsV4()) {
      uint32_t v = V4(k.ip);
      if (auto it = l.v4.find(v); it != l.v4.end()) add_all(it->second);
      for (const auto& [b, ind] : l.blocks)
        if (v >= b.first && v <= b.last) out.insert(ind);
    }
  }
  return out;
}

struct Collect : HitSink {
  std::vector<std::pair<const Event*, uint32_t>> hits;
  void OnHit(const Event& e, const Hit& h) override { hits.push_back({&e, h.indicator}); }
};

[[noreturn]] void Fail(const char* what, const Event& e, const std::set<uint32_t>& want,
                       const std::vector<uint32_t>& got) {
  std::fprintf(stderr, "match_fuzz: %s\nkeys:", what);
  for (const Key& k : e.keys)
    std::fprintf(stderr, " %s", k.type == KeyType::kIp ? normalize::FormatIp(k.ip).c_str() : std::string(k.text).c_str());
  std::fprintf(stderr, "\nwant:");
  for (uint32_t i : want) std::fprintf(stderr, " %u", i);
  std::fprintf(stderr, "\ngot:");
  for (uint32_t i : got) std::fprintf(stderr, " %u", i);
  std::fprintf(stderr, "\n");
  std::abort();
}

void Check(const char* what, const Event& e, const std::set<uint32_t>& want, const std::vector<uint32_t>& got) {
  std::set<uint32_t> distinct(got.begin(), got.end());
  if (distinct.size() != got.size()) Fail((std::string(what) + ": an indicator reported twice").c_str(), e, want, got);
  if (distinct != want) Fail(what, e, want, got);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Listed& l = TheIndex();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> texts;  // owns the key texts
  std::vector<Key> keys;
  while (!text.empty() && keys.size() < 40) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    Key k;
    if (auto ip = normalize::Ip(line); ip.ok()) {
      k.type = KeyType::kIp;
      k.ip = *ip;
    } else if (auto d = normalize::Domain(line); d.ok()) {
      k.type = KeyType::kDomain;
      texts.push_back(*std::move(d));
    } else {
      continue;
    }
    keys.push_back(k);
  }
  // Key texts point into `texts`, which no longer grows.
  size_t t = 0;
  for (Key& k : keys)
    if (k.type == KeyType::kDomain) k.text = texts[t++];

  Event event;
  event.time = *ParseTimestamp("2025-06-01T00:00:00Z");
  event.keys = keys;
  const std::set<uint32_t> want = Expected(l, event);

  Matcher matcher(l.index);
  Collect one;
  matcher.Match(event, one);
  std::vector<uint32_t> got;
  for (const auto& h : one.hits) got.push_back(h.second);
  Check("Match differs from the reference", event, want, got);

  // Twice in one batch: enough keys for the staged passes.
  Event events[2] = {event, event};
  Collect batch;
  matcher.MatchBatch(std::span<const Event>(events, 2), batch);
  for (const Event& e : events) {
    std::vector<uint32_t> of_e;
    for (const auto& h : batch.hits)
      if (h.first == &e) of_e.push_back(h.second);
    Check("MatchBatch differs from the reference", e, want, of_e);
  }
  return 0;
}
