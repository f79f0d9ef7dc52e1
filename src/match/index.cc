#include "match/index.h"

#include <emmintrin.h>
#include <hs/hs.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "base/strings.h"
#include "base/uuid.h"
#include "match/tables.h"
#include "pattern/evaluator.h"
#include "pattern/pattern.h"

namespace cordon::match {

using internal::FixedTable;
using internal::kNone;
using internal::kPostingBit;
using internal::StringTable;
using V6 = std::array<uint8_t, 16>;

namespace {

constexpr size_t kTypes = size_t(KeyType::kCount);
constexpr std::string_view kIdPrefix = "indicator--";

// "indicator--" + the canonical 8-4-4-4-12 form of `uuid`, written in place
// (for a hit whose sink asks for it). The 32 digits come from two SSE2
// vectors, nibble + '0' and + 39 more above 9: ~30 instructions, where a loop
// over the bytes took ~175 (callgrind of match_bench).
void FormatIndicatorId(const std::array<uint8_t, 16>& uuid, std::string* out) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(uuid.data()));
  const __m128i low4 = _mm_set1_epi8(0x0f);
  const __m128i high = _mm_and_si128(_mm_srli_epi16(v, 4), low4), low = _mm_and_si128(v, low4);
  auto digits = [](__m128i nibbles) {
    __m128i letters = _mm_and_si128(_mm_cmpgt_epi8(nibbles, _mm_set1_epi8(9)), _mm_set1_epi8('a' - '0' - 10));
    return _mm_add_epi8(_mm_add_epi8(nibbles, _mm_set1_epi8('0')), letters);
  };
  char hex[32];
  _mm_storeu_si128(reinterpret_cast<__m128i*>(hex), digits(_mm_unpacklo_epi8(high, low)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(hex + 16), digits(_mm_unpackhi_epi8(high, low)));
  out->resize(kIdPrefix.size() + 36);
  char* o = std::copy(kIdPrefix.begin(), kIdPrefix.end(), out->data());
  std::memcpy(o, hex, 8);
  o[8] = '-';
  std::memcpy(o + 9, hex + 8, 4);
  o[13] = '-';
  std::memcpy(o + 14, hex + 12, 4);
  o[18] = '-';
  std::memcpy(o + 19, hex + 16, 4);
  o[23] = '-';
  std::memcpy(o + 24, hex + 20, 12);
}

uint32_t LoadV4(const IpAddress& a) {
  uint32_t v;
  std::memcpy(&v, a.bytes.data() + 12, 4);
  return std::endian::native == std::endian::little ? __builtin_bswap32(v) : v;
}
V6 MaskV6(const V6& a, int len) {
  V6 out = a;
  for (int bit = len; bit < 128; ++bit) out[bit / 8] &= uint8_t(~(0x80 >> (bit % 8)));
  return out;
}

bool ParseUuidBytes(std::string_view s, std::array<uint8_t, 16>* out) {
  if (!IsUuid(s)) return false;
  int n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '-') continue;
    auto hex = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    int v = hex(s[i]);
    if (n % 2 == 0) (*out)[n / 2] = uint8_t(v << 4);
    else (*out)[n / 2] |= uint8_t(v);
    ++n;
  }
  return n == 32;
}

// (key, indicator) pairs sorted and grouped into (key, target) entries; keys
// listed by several indicators get a posting list.
template <typename Pair, typename Same>
void Group(std::vector<Pair>& pairs, Same same, std::vector<uint32_t>* postings) {
  size_t out = 0;
  for (size_t i = 0; i < pairs.size();) {
    size_t j = i + 1;
    while (j < pairs.size() && same(pairs[i], pairs[j])) ++j;
    Pair first = pairs[i];
    // indicators of a run are sorted: drop repeats of one indicator
    std::vector<uint32_t> inds;
    if (j - i > 1) {
      for (size_t k = i; k < j; ++k)
        if (inds.empty() || inds.back() != pairs[k].target) inds.push_back(pairs[k].target);
    }
    if (inds.size() > 1) {
      first.target = kPostingBit | uint32_t(postings->size());
      postings->push_back(uint32_t(inds.size()));
      postings->insert(postings->end(), inds.begin(), inds.end());
    }
    pairs[out++] = first;
    i = j;
  }
  pairs.resize(out);
  pairs.shrink_to_fit();
}

struct StrAtom {
  uint64_t hash;
  uint32_t offset;  // into the collector's arena
  uint32_t len;
  uint32_t target;  // indicator (after Group: target)
};

struct StrCollector {
  std::string arena;
  std::vector<StrAtom> atoms;
  void Add(std::string_view key, uint32_t ind) {
    atoms.push_back(StrAtom{internal::HashBytes(key), uint32_t(arena.size()), uint32_t(key.size()), ind});
    arena.append(key);
  }
  std::string_view Key(const StrAtom& a) const { return std::string_view(arena).substr(a.offset, a.len); }
};

struct RegexAtom {
  std::string expression;
  unsigned flags;
  uint32_t indicator;
  uint32_t pattern_slot;  // every indicator with a regex atom keeps its pattern
  std::string tail;       // Atom::literal_tail
};

}  // namespace

struct Index::Impl {
  std::array<StringTable, kTypes> exact;
  StringTable domain_suffix;
  // Cheap filters in front of domain_suffix, so that walking the parents of
  // every domain key costs little when few suffixes are listed: which label
  // counts occur (bit min(n, 63)) and a blocked Bloom filter of their
  // internal::SuffixSketch (two bits in one 64-bit word; 2 bytes per suffix,
  // so it stays in cache and is tested at once).
  uint64_t suffix_label_counts = 0;
  size_t suffix_min_labels = 0, suffix_max_labels = 0;  // labels of the shortest and longest suffix (>= 1)
  std::vector<uint64_t> suffix_bloom;  // a power of two of words
  static uint64_t BloomBits(uint64_t h) { return uint64_t(1) << (h >> 52 & 63) | uint64_t(1) << (h >> 58); }
  size_t BloomIndex(uint64_t h) const { return size_t(h) & (suffix_bloom.size() - 1); }
  bool MaybeSuffix(uint64_t h) const { return (suffix_bloom[BloomIndex(h)] & BloomBits(h)) == BloomBits(h); }
  // IPv4 addresses (/32) in a hash table, shorter IPv4 blocks as intervals;
  // IPv6 blocks (not IPv4-mapped): one table per length 0..128.
  internal::Ip4Table v4_exact;
  internal::RangeMap4 v4_blocks;
  std::array<FixedTable<V6>, 129> v6;
  std::vector<int> v6_lengths;        // present, longest first
  std::vector<int> v6_lengths_for_v4;  // present and < 96 (blocks that hold IPv4-mapped space)
  FixedTable<uint32_t> ports;
  std::vector<uint32_t> postings;
  std::array<hs_database_t*, kTypes> regex{};
  // In front of each regex database: when every expression of the type ends
  // with a literal of at least kMinTail bytes (LIKE values not ending in % or
  // _), a bitmap of the hashes of their last `k` bytes. A key whose own last
  // k bytes miss it cannot match, and skips the Hyperscan call, which costs
  // more than all the hash lookups of a key together.
  struct TailFilter {
    static constexpr size_t kMinTail = 3;
    size_t k = 0;  // 0: no filter
    std::vector<uint64_t> bits;
    static size_t Bit(uint64_t tail, size_t nbits) { return size_t(internal::HashU64(tail)) & (nbits - 1); }
    bool MayMatch(std::string_view key) const {
      if (k == 0) return true;
      if (key.size() < k) return false;
      if (key.back() == '\n') return true;  // PCRE's $ also matches before a final newline
      size_t b = Bit(internal::LowerTail(key, k), bits.size() * 64);
      return bits[b >> 6] >> (b & 63) & 1;
    }
  };
  std::array<TailFilter, kTypes> regex_tail;
  std::vector<std::unique_ptr<pattern::Pattern>> patterns;
  // Indicator -> slot in patterns, for the indicators whose hits are confirmed.
  absl::flat_hash_map<uint32_t, uint32_t> eval_slot;
  // Indicators without usable atoms, with the observed fields one of which an
  // event must hold for them to match (ObservedFieldsNeeded), and their union.
  struct Unindexed {
    uint32_t indicator;
    uint64_t fields;
  };
  std::vector<Unindexed> evaluate_only;
  uint64_t evaluate_only_fields = 0;
  void AddUnindexed(uint32_t indicator, uint64_t fields) {
    evaluate_only.push_back({indicator, fields});
    evaluate_only_fields |= fields;
  }

  ~Impl() {
    for (hs_database_t* db : regex)
      if (db) hs_free_database(db);
  }
};


Index::Index() : impl_(std::make_unique<Impl>()) {}
Index::~Index() = default;

std::shared_ptr<const Index> Index::Empty() {
  static const std::shared_ptr<const Index> empty = std::shared_ptr<const Index>(new Index());
  return empty;
}

std::string_view Hit::indicator_id() const {
  if (id_->empty()) FormatIndicatorId(*uuid_, id_);
  return *id_;
}

std::string Index::IndicatorId(uint32_t i) const {
  std::string out;
  FormatIndicatorId(records_[i].uuid, &out);
  return out;
}

size_t Index::MemoryBytes() const {
  const Impl& m = *impl_;
  size_t n = records_.capacity() * sizeof(Record) + windows_.capacity() * sizeof(Window) + m.eval_slot.capacity() * 9 + m.postings.capacity() * 4 + m.evaluate_only.capacity() * sizeof(Impl::Unindexed) +
             m.domain_suffix.MemoryBytes() + m.suffix_bloom.capacity() * 8 + m.ports.MemoryBytes();
  for (const auto& t : m.exact) n += t.MemoryBytes();
  n += m.v4_exact.MemoryBytes() + m.v4_blocks.MemoryBytes();
  for (const auto& t : m.v6) n += t.MemoryBytes();
  for (const auto& f : m.regex_tail) n += f.bits.capacity() * 8;
  for (hs_database_t* db : m.regex) {
    size_t size = 0;
    if (db && hs_database_size(db, &size) == HS_SUCCESS) n += size;
  }
  n += m.patterns.size() * (sizeof(pattern::Pattern) + 256);  // rough: small trees
  return n;
}

std::string BuildReport::Summary() const {
  return absl::StrFormat(
      "%d indicators: %d compiled (%d decided by the index), %d evaluate-only, %d never match, %d revoked, "
      "%d rejected; %d atoms (%d exact, %d suffix, %d cidr, %d regex, %d regex prefilter-only); %.2f s, %.1f MB",
      indicators, compiled, decided, evaluated_only, never_match, revoked, rejected.size(), atoms, atoms_by_kind[0],
      atoms_by_kind[1], atoms_by_kind[2], atoms_by_kind[3], regex_prefilter, seconds,
      double(memory_bytes) / 1e6);
}

Result<std::shared_ptr<const Index>> Index::Build(std::vector<IndicatorSpec> specs) {
  auto start = std::chrono::steady_clock::now();
  std::shared_ptr<Index> index(new Index());
  Impl& m = *index->impl_;
  BuildReport& report = index->report_;
  report.indicators = specs.size();
  if (specs.size() >= kPostingBit) return absl::ResourceExhaustedError("more than 2^31 indicators");

  std::array<StrCollector, kTypes> exact;
  StrCollector suffix;
  struct V4Pair { uint32_t key; uint32_t target; };
  struct V6Pair { V6 key; uint32_t target; };
  std::vector<V4Pair> v4_exact;
  std::vector<internal::RangeMap4::Block> v4_blocks;
  std::array<std::vector<V6Pair>, 129> v6;
  std::vector<V4Pair> ports;
  std::array<std::vector<RegexAtom>, kTypes> regex;
  absl::flat_hash_map<std::tuple<int64_t, int64_t, stix::Tlp>, uint32_t> window_ids;

  index->records_.reserve(specs.size());

  for (IndicatorSpec& spec : specs) {
    auto reject = [&](std::string reason) { report.rejected.push_back({spec.id, std::move(reason)}); };
    std::array<uint8_t, 16> uuid;
    if (spec.id.compare(0, kIdPrefix.size(), kIdPrefix) != 0 ||
        !ParseUuidBytes(std::string_view(spec.id).substr(kIdPrefix.size()), &uuid)) {
      reject("id is not indicator--<uuid>");
      continue;
    }
    if (spec.revoked) {
      ++report.revoked;
      continue;
    }
    int64_t from = spec.valid_from.ns;
    int64_t until = spec.valid_until ? spec.valid_until->ns : INT64_MAX;
    if (until <= from) {
      reject(absl::StrFormat("valid_until %s is not after valid_from %s", FormatTimestamp(*spec.valid_until),
                             FormatTimestamp(spec.valid_from)));
      continue;
    }
    AtomSet atoms;
    std::unique_ptr<pattern::Pattern> parsed;
    if (std::optional<AtomSet> simple = ExtractSimpleAtoms(spec.pattern)) {
      atoms = std::move(*simple);
    } else {
      auto p = pattern::Parse(spec.pattern, spec.version);
      if (!p.ok()) {
        reject(absl::StrFormat("pattern: %s", p.status().message()));
        continue;
      }
      atoms = ExtractAtoms(*p);
      atoms.decides &= !atoms.directional;  // a hit on a connection's side is confirmed by evaluation
      bool has_regex = false;
      for (const Atom& a : atoms.atoms) has_regex |= a.kind == AtomKind::kRegex;
      if (!atoms.decides || (atoms.atoms.empty() && atoms.never.empty()) || has_regex) {
        parsed = std::make_unique<pattern::Pattern>(*std::move(p));
        NormaliseConstants(*parsed);
      }
    }
    uint32_t ind = uint32_t(index->records_.size());
    auto [it, inserted] =
        window_ids.try_emplace(std::make_tuple(from, until, spec.tlp), uint32_t(index->windows_.size()));
    if (inserted) index->windows_.push_back({from, until, spec.tlp});
    uint32_t eval = kNone;
    if (parsed) {
      eval = uint32_t(m.patterns.size());
      m.patterns.push_back(std::move(parsed));
    }
    index->records_.push_back(Record{uuid, it->second | (atoms.decides ? 0 : kNeedsEvaluation)});
    if (!atoms.decides) m.eval_slot[ind] = eval;
    if (!atoms.never.empty()) {  // in the index, with nothing to look up
      ++report.never_match;
      report.warnings.push_back({spec.id, "never matches: " + atoms.never});
      continue;
    }
    if (atoms.atoms.empty()) {
      m.AddUnindexed(ind, eval != kNone ? ObservedFieldsNeeded(*m.patterns[eval]) : kAnyObservedField);
      ++report.evaluated_only;
      continue;
    }
    ++report.compiled;
    if (atoms.decides) ++report.decided;
    for (const Atom& a : atoms.atoms) {
      ++report.atoms;
      ++report.atoms_by_kind[int(a.kind)];
      switch (a.kind) {
        case AtomKind::kExact:
        case AtomKind::kCidr:
          if (a.key == KeyType::kPort) {
            ports.push_back({a.number, ind});
          } else if (a.key == KeyType::kIp) {
            if (a.prefix.IsV4() && a.prefix.length == 128) {
              v4_exact.push_back({LoadV4(a.prefix.addr), ind});
            } else if (a.prefix.IsV4()) {
              uint32_t first = LoadV4(a.prefix.addr);
              int host_bits = 128 - a.prefix.length;
              uint32_t last = host_bits == 32 ? 0xffffffffu : first | ((1u << host_bits) - 1);
              v4_blocks.push_back({first, last, ind});
            }
            else v6[a.prefix.length].push_back({a.prefix.addr.bytes, ind});
          } else {
            exact[size_t(a.key)].Add(a.value, ind);
          }
          break;
        case AtomKind::kDomainSuffix:
          suffix.Add(a.value, ind);
          break;
        case AtomKind::kRegex: {
          unsigned flags = HS_FLAG_UTF8 | HS_FLAG_ALLOWEMPTY | HS_FLAG_SINGLEMATCH;
          if (a.caseless) flags |= HS_FLAG_CASELESS;
          std::string tail = a.literal_tail;
          if (a.caseless && std::any_of(tail.begin(), tail.end(), [](char c) { return uint8_t(c) >= 0x80; }))
            tail.clear();  // Unicode case folding: the bytes of a match may differ
          regex[size_t(a.key)].push_back({a.value, flags, ind, eval, std::move(tail)});
          break;
        }
      }
    }
  }
  specs.clear();
  specs.shrink_to_fit();

  // Hyperscan first: an expression it cannot take changes how its indicator
  // is treated (prefilter => confirmed by evaluation; neither => evaluate-only).
  for (size_t t = 0; t < kTypes; ++t) {
    std::vector<RegexAtom>& list = regex[t];
    if (list.empty()) continue;
    std::vector<RegexAtom> usable;
    for (RegexAtom& r : list) {
      hs_expr_info_t* info = nullptr;
      hs_compile_error_t* err = nullptr;
      bool ok = hs_expression_info(r.expression.c_str(), r.flags, &info, &err) == HS_SUCCESS;
      if (err) hs_free_compile_error(err);
      if (info) free(info);
      err = nullptr;
      if (!ok) {
        // A prefilter is a superset of the expression: still a necessary condition.
        unsigned pre = r.flags | HS_FLAG_PREFILTER;
        info = nullptr;
        ok = hs_expression_info(r.expression.c_str(), pre, &info, &err) == HS_SUCCESS;
        if (err) hs_free_compile_error(err);
        if (info) free(info);
        if (ok) {
          r.flags = pre;
          ++report.regex_prefilter;
        }
      }
      // Either way a hit is no longer a match by itself.
      if ((!ok || (r.flags & HS_FLAG_PREFILTER)) && !(index->records_[r.indicator].window & kNeedsEvaluation)) {
        index->records_[r.indicator].window |= kNeedsEvaluation;
        m.eval_slot[r.indicator] = r.pattern_slot;
        --report.decided;
      }
      if (!ok) {
        ++report.regex_unsupported;
        report.warnings.push_back({index->IndicatorId(r.indicator),
                                   absl::StrFormat("regex /%s/ is not supported by Hyperscan: the pattern is "
                                                   "evaluated against every event instead (that holds a field it needs)",
                                                   r.expression)});
        m.AddUnindexed(r.indicator, ObservedFieldsNeeded(*m.patterns[r.pattern_slot]));
        continue;
      }
      usable.push_back(std::move(r));
    }
    list = std::move(usable);
    if (list.empty()) continue;
    size_t k = 8;
    for (const RegexAtom& r : list) k = std::min(k, r.tail.size());
    if (k >= Impl::TailFilter::kMinTail) {
      Impl::TailFilter& f = m.regex_tail[t];
      f.k = k;
      size_t nbits = 4096;
      while (nbits < list.size() * 16) nbits *= 2;
      f.bits.assign(nbits / 64, 0);
      for (const RegexAtom& r : list) {
        size_t b = Impl::TailFilter::Bit(internal::LowerTail(r.tail, k), nbits);
        f.bits[b >> 6] |= uint64_t(1) << (b & 63);
      }
    }
    std::vector<const char*> exprs;
    std::vector<unsigned> flags, ids;
    for (const RegexAtom& r : list) {
      exprs.push_back(r.expression.c_str());
      flags.push_back(r.flags);
      ids.push_back(r.indicator);
    }
    hs_compile_error_t* err = nullptr;
    if (hs_compile_multi(exprs.data(), flags.data(), ids.data(), unsigned(exprs.size()), HS_MODE_BLOCK, nullptr,
                         &m.regex[t], &err) != HS_SUCCESS) {
      std::string msg = err ? err->message : "unknown error";
      int which = err ? err->expression : -1;
      if (err) hs_free_compile_error(err);
      return absl::InternalError(absl::StrFormat("Hyperscan compile of %d %s expressions failed at %d: %s",
                                                 exprs.size(), KeyTypeName(KeyType(t)), which, msg));
    }
  }
  // Exact and suffix tables.
  auto build_strings = [&](StrCollector& c, StringTable& table, StringTable::Filter filter) {
    if (c.atoms.empty()) return;
    std::sort(c.atoms.begin(), c.atoms.end(), [&](const StrAtom& a, const StrAtom& b) {
      if (a.hash != b.hash) return a.hash < b.hash;
      int cmp = c.Key(a).compare(c.Key(b));
      if (cmp != 0) return cmp < 0;
      return a.target < b.target;
    });
    Group(c.atoms, [&](const StrAtom& a, const StrAtom& b) { return a.hash == b.hash && c.Key(a) == c.Key(b); },
          &m.postings);
    std::vector<StringTable::Entry> entries;
    entries.reserve(c.atoms.size());
    for (const StrAtom& a : c.atoms) entries.push_back({c.Key(a), a.target});
    table.Build(entries, filter);
    c = StrCollector();
  };
  for (size_t t = 0; t < kTypes; ++t) {
    if (exact[t].arena.size() >= kNone) return absl::ResourceExhaustedError("more than 4 GB of keys of one type");
    build_strings(exact[t], m.exact[t], StringTable::kFilter);
  }
  build_strings(suffix, m.domain_suffix, StringTable::kNoFilter);  // behind suffix_bloom
  if (!m.domain_suffix.empty()) {
    size_t words = 1;
    while (words * 64 < m.domain_suffix.size() * 16) words *= 2;
    m.suffix_bloom.assign(words, 0);
    m.domain_suffix.ForEach([&](std::string_view key, uint32_t) {
      uint64_t h = internal::SuffixSketch(key);
      m.suffix_bloom[m.BloomIndex(h)] |= Impl::BloomBits(h);
      size_t labels = 1 + size_t(std::count(key.begin(), key.end(), '.'));
      m.suffix_label_counts |= uint64_t(1) << std::min<size_t>(labels, 63);
      m.suffix_max_labels = std::max(m.suffix_max_labels, labels);
    });
    m.suffix_min_labels = size_t(std::countr_zero(m.suffix_label_counts));
  }

  auto build_fixed = [&](auto& pairs, auto& table) {
    if (pairs.empty()) return;
    std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
      return a.key != b.key ? a.key < b.key : a.target < b.target;
    });
    Group(pairs, [](const auto& a, const auto& b) { return a.key == b.key; }, &m.postings);
    using Entry = typename std::remove_reference_t<decltype(table)>::Entry;
    std::vector<Entry> entries;
    entries.reserve(pairs.size());
    for (const auto& p : pairs) entries.push_back(Entry{p.key, p.target});
    table.Build(entries);
    pairs.clear();
    pairs.shrink_to_fit();
  };
  build_fixed(v4_exact, m.v4_exact);
  m.v4_blocks.Build(std::move(v4_blocks), &m.postings);
  for (int len = 128; len >= 0; --len) {
    if (v6[len].empty()) continue;
    build_fixed(v6[len], m.v6[len]);
    m.v6_lengths.push_back(len);
    if (len < 96) m.v6_lengths_for_v4.push_back(len);
  }
  build_fixed(ports, m.ports);
  m.postings.shrink_to_fit();

  index->records_.shrink_to_fit();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  report.memory_bytes = index->MemoryBytes();
  return std::shared_ptr<const Index>(std::move(index));
}

// ---------------------------------------------------------------- IndexHolder

IndexHolder::IndexHolder(std::shared_ptr<const Index> initial) : current_(std::move(initial)) {}

void IndexHolder::Swap(std::shared_ptr<const Index> next) {
  current_.store(std::move(next), std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

// ---------------------------------------------------------------- Matcher

// Batches with fewer keys (a single record, as `cordon match` passes them)
// look each key up whole after the first pass: the extra stage loops would
// cost more instructions than their overlap saves (callgrind of the Zeek TSV
// run: +230 per record), while the prefetches of the first pass still overlap.
constexpr size_t kStagedMinKeys = 8;

namespace {

// The keys of a batch, filed by kind so that each kind is looked up in a tight
// loop of its own (no per-key type switch, no pass over keys that have nothing
// to look up). `n` numbers a key in the batch, events and keys in order.
struct V4Probe {
  uint32_t addr;
  uint32_t n;
  uint64_t hash;
};
struct BlockProbe {  // an IPv4 key in a /24 some listed block covers
  uint32_t addr;
  uint32_t n;
  uint32_t interval;  // RangeMap4::Interval
};
struct StringProbe {  // a key of a type with an exact table
  const Key* key;
  uint64_t hash;
  uint32_t n;
  uint32_t target;  // while staged: StringTable::Candidate's values
};
struct SuffixProbe {  // a parent of a domain key that may be a listed suffix
  const Key* key;
  uint64_t hash;      // of the parent
  uint32_t n;
  uint32_t parent;    // offset of the parent in key->text
  uint32_t target;    // while staged: StringTable::Candidate's values
};
// A grow-only array reused batch after batch. Push writes through a pointer
// with no capacity test: Reserve makes room for a known number of pushes
// first (vector::push_back's test and its out-of-line growth call cost a
// fifth of a hit's instructions under callgrind).
template <typename T>
class Scratch {
 public:
  void Clear() { size_ = 0; }
  void Reserve(size_t more) {
    if (room_ < size_ + more) {
      buf_.resize(std::max(room_ * 2, size_ + more));
      room_ = buf_.size();  // kept: buf_.size() divides by sizeof(T) at every call
    }
  }
  void Push(const T& v) { buf_[size_++] = v; }
  void Resize(size_t n) { size_ = n; }  // n <= size()
  size_t size() const { return size_; }
  T* begin() { return buf_.data(); }
  T* end() { return buf_.data() + size_; }

 private:
  std::vector<T> buf_;
  size_t size_ = 0, room_ = 0;
};

// What one atom lookup of key `n` found (never kNone). Each kind of lookup
// appends in key order, so the report pass merges them by `n`.
struct Found {
  uint32_t n;
  uint32_t target;
  AtomKind kind;
};

}  // namespace

struct Matcher::State {
  hs_scratch_t* scratch = nullptr;
  const Event* event = nullptr;
  HitSink* sink = nullptr;
  size_t hits = 0;
  std::vector<uint32_t> seen;  // indicators considered for the current event
  uint64_t seen_bits = 0;      // bit ind % 64 of each: most hits need no scan of `seen`
  // Observed data of the current event, loaded on first need, per pattern version.
  bool observed_tried[2] = {false, false};
  std::optional<pattern::ObservationSet> observed[2];
  std::string id;  // "indicator--..." of the hit being reported
  const Key* regex_key = nullptr;  // the key a Hyperscan scan runs on
  // The batch being matched (MatchBatch), grown once and never shrunk.
  Scratch<V4Probe> v4;
  Scratch<V4Probe> v4_listed;  // those the exact table may hold (staged)
  Scratch<BlockProbe> blocks;
  Scratch<StringProbe> strings;
  Scratch<SuffixProbe> suffixes;
  Scratch<uint32_t> slow;  // keys looked up one at a time in the report pass (MatchSlowKey)
  Scratch<Found> found_v4, found_block, found_merged, found_exact, found_suffix;

  ~State() {
    if (scratch) hs_free_scratch(scratch);
  }
};

Matcher::Matcher(const IndexHolder& holder) : holder_(&holder), state_(std::make_unique<State>()) {
  state_->seen.reserve(64);
  state_->id.reserve(48);
  Refresh();
}

Matcher::Matcher(std::shared_ptr<const Index> index)
    : index_(std::move(index)), state_(std::make_unique<State>()) {
  state_->seen.reserve(64);
  state_->id.reserve(48);
  Refresh();
}

Matcher::~Matcher() = default;

void Matcher::Refresh() {
  if (holder_) {
    generation_ = holder_->generation();  // before Current(): see IndexHolder::Swap
    index_ = holder_->Current();
  }
  for (hs_database_t* db : index_->impl_->regex)
    if (db) hs_alloc_scratch(db, &state_->scratch);
}

// Called for every key's exact, suffix and block target, most of them kNone:
// the test is inlined at each call, the rest is out of line.
inline void Matcher::Consider(uint32_t target, const Key* key, AtomKind kind) {
  if (target != kNone) ConsiderTarget(target, key, kind);
}

inline void Matcher::ConsiderOne(uint32_t ind, const Key* key, AtomKind kind) {
  State& st = *state_;
  const Index& index = *index_;
  const Index::Record& rec = index.records_[ind];
  const auto& w = index.windows_[rec.window & ~Index::kNeedsEvaluation];
  int64_t t = st.event->time.ns;
  if (t < w.from || t >= w.until) return;
  const uint64_t bit = uint64_t(1) << (ind & 63);
  if (st.seen_bits & bit)
    for (uint32_t s : st.seen)
      if (s == ind) return;
  st.seen_bits |= bit;
  st.seen.push_back(ind);
  bool evaluated = false;
  if (rec.window & Index::kNeedsEvaluation) {
    const uint32_t eval = index.impl_->eval_slot.find(ind)->second;
    if (eval != kNone) {
      if (!Evaluate(*index.impl_->patterns[eval])) return;
      evaluated = true;
    }
  }
  st.id.clear();
  Hit hit;
  hit.indicator = ind;
  hit.uuid_ = &rec.uuid;
  hit.id_ = &st.id;
  hit.key = key;
  hit.kind = kind;
  hit.evaluated = evaluated;
  hit.tlp = w.tlp;
  ++st.hits;
  st.sink->OnHit(*st.event, hit);
}

void Matcher::ConsiderTarget(uint32_t target, const Key* key, AtomKind kind) {
  if (!(target & kPostingBit)) {
    ConsiderOne(target, key, kind);
    return;
  }
  ConsiderPostings(target & ~kPostingBit, key, kind);
}

void Matcher::ConsiderPostings(uint32_t at, const Key* key, AtomKind kind) {
  const std::vector<uint32_t>& postings = index_->impl_->postings;
  uint32_t n = postings[at];
  for (uint32_t i = 1; i <= n; ++i) ConsiderOne(postings[at + i], key, kind);
}

// Out of line: most hits need no evaluation, and this code, inlined,
// made every hit save and restore registers for it.
bool Matcher::Evaluate(const pattern::Pattern& pat) {
  State& st = *state_;
  if (!st.event->observed) return false;
  const int v = pat.version == pattern::Version::k20 ? 0 : 1;
  if (!st.observed_tried[v]) {
    st.observed_tried[v] = true;
    auto set = st.event->observed->BuildObserved(pat.version);
    if (set.ok()) st.observed[v] = *std::move(set);
    else ++stats_.observed_errors;
  }
  if (!st.observed[v]) return false;
  ++stats_.evaluations;
  auto r = pattern::Evaluate(pat, *st.observed[v]);
  if (!r.ok()) {
    ++stats_.evaluation_errors;
    return false;
  }
  return r->matched;
}

size_t Matcher::Match(const Event& event, HitSink& sink) { return MatchBatch(std::span(&event, 1), sink); }

// Two passes. The lookup pass files the batch's keys by kind and looks each
// kind up in its own loop, in stages that issue one step's memory reads for
// all keys before the next step waits for them: (1) hash, prefetch the word
// of the table's KeyFilter; for domains, test the parents that may be listed
// suffixes against the Bloom filter and hash and prefetch the few it lets
// through; (2) test the filter, and for the few keys it lets through (the
// table's keys and ~3 % of the others) prefetch the home group or bucket;
// (3) pick the candidate slot and prefetch its key bytes; (4) compare the
// key, prefetch the indicator's record. An IPv4 key in a /24 some block covers
// takes three more steps (directory, slice, target; RangeMap4), interleaved
// with the strings' steps. With millions of indicators each read is
// a cache miss; one key at a time the core would wait for three misses in a
// row per hit. What is found is appended, per kind, in key order. The report
// pass then goes through the events in order and reports what their keys
// found, merged by key; an event whose keys found nothing costs a few
// compares. Keys that need more than a table read (a regex, IPv6 blocks,
// ports) are looked up there, one at a time.
size_t Matcher::MatchBatch(std::span<const Event> events, HitSink& sink) {
  if (holder_ && holder_->generation() != generation_) Refresh();
  State& st = *state_;
  const Index::Impl& m = *index_->impl_;
  const Index& index = *index_;
  const StringTable& suffixes = m.domain_suffix;

  size_t nkeys = 0;
  for (const Event& e : events) nkeys += e.keys.size();
  st.v4.Clear();
  st.strings.Clear();
  st.suffixes.Clear();
  st.slow.Clear();
  st.v4.Reserve(nkeys);
  st.strings.Reserve(nkeys);
  st.slow.Reserve(nkeys);
  const bool v4_listed = !m.v4_exact.empty() || !m.v4_blocks.empty();
  const bool v4_slow = !m.v6_lengths_for_v4.empty(), v6_slow = !m.v6_lengths.empty(), ports_slow = !m.ports.empty();
  uint32_t n = 0;
  for (const Event& e : events) {
    for (const Key& key : e.keys) {
      switch (key.type) {
        case KeyType::kIp:
          if (key.ip.IsV4()) {
            if (v4_listed) {
              const uint32_t v = LoadV4(key.ip);
              const uint64_t h = internal::Ip4Table::Hash(v);
              m.v4_exact.PrefetchFilter(h);
              m.v4_blocks.Prefetch(v);
              st.v4.Push({v, n, h});
            }
            if (v4_slow) st.slow.Push(n);
          } else if (v6_slow) {
            st.slow.Push(n);
          }
          break;
        case KeyType::kPort:
          if (ports_slow) st.slow.Push(n);
          break;
        default: {
          const StringTable& table = m.exact[size_t(key.type)];
          if (!table.empty()) {
            const uint64_t h = internal::HashBytes(key.text);
            table.PrefetchFilter(h);
            st.strings.Push({&key, h, n, 0});
          }
          if (key.type == KeyType::kDomain && !suffixes.empty()) {
            const std::string_view name = key.text;
            // Parents from the longest: the order Match reports suffix hits in.
            // Only those with a label count some suffix has: the loop's bounds
            // take the shortest and longest (a TLD parent, with no suffix of
            // one label, used to cost a mispredicted test per key), the
            // label-count mask the gaps between. `take` gives the next dot's
            // position, from the first.
            auto parents = [&](size_t ndots, auto take) {
              st.suffixes.Reserve(ndots);
              size_t labels = ndots;  // of the parent after the next dot
              for (; labels > m.suffix_max_labels; --labels) take();
              for (; labels >= m.suffix_min_labels; --labels) {
                const uint32_t dot = take();
                if (!(m.suffix_label_counts >> std::min<size_t>(labels, 63) & 1)) continue;
                // The Bloom filter (2 bytes per suffix) stays in cache: tested
                // at once, so that only the parents it lets through are
                // hashed in full and staged.
                const std::string_view parent = name.substr(dot + 1);
                if (!m.MaybeSuffix(internal::SuffixSketch(parent))) continue;
                const uint64_t h = internal::HashBytes(parent);
                suffixes.PrefetchGroup(h);
                st.suffixes.Push({&key, h, n, dot + 1, StringTable::kAskFind});
              }
            };
            if (name.size() <= 64) {  // nearly all: the dots in a register
              uint64_t mask = internal::DotMask(name.data(), name.size());
              parents(internal::PopCount(mask), [&mask] {
                const uint32_t at = uint32_t(std::countr_zero(mask));
                mask &= mask - 1;
                return at;
              });
            } else if (name.size() <= internal::kMaxDomainName) {  // a longer key is no DNS name: skipped
              size_t at = 0;
              parents(size_t(std::count(name.begin(), name.end(), '.')), [&] {
                while (name[at] != '.') ++at;
                return uint32_t(at++);
              });
            }
          }
          // The tail filter here, not in the report pass: with any regex
          // listed, a key it lets through makes its event take the slow path.
          if (m.regex[size_t(key.type)] && m.regex_tail[size_t(key.type)].MayMatch(key.text)) st.slow.Push(n);
        }
      }
      ++n;
    }
  }
  const bool staged = n >= kStagedMinKeys;
  // Appends what key n found, if anything, and starts loading its record:
  // both ends, as a 20-byte record straddles two cache lines one time in
  // four, and the half not loaded then cost the hit a miss in the report
  // pass (domain hits at 1M ran 25 % faster without reading the record).
  auto found = [&](Scratch<Found>& list, uint32_t n, uint32_t target, AtomKind kind) {
    if (target == kNone) return;
    list.Push({n, target, kind});
    if (!(target & kPostingBit)) {
      const Index::Record* rec = &index.records_[target];
      internal::PrefetchLine(rec);
      internal::PrefetchLine(reinterpret_cast<const char*>(rec + 1) - 1);
    }
  };

  st.found_v4.Clear();
  st.found_v4.Reserve(2 * st.v4.size());
  st.found_exact.Clear();
  st.found_exact.Reserve(st.strings.size());
  st.found_suffix.Clear();
  st.found_suffix.Reserve(st.suffixes.size());
  if (staged) {
    // The stages of the kinds interleaved: each prefetch has another kind's
    // loop to land in. First the filters (KeyFilter): only the keys a table
    // may hold go on to its table.
    st.blocks.Clear();
    st.blocks.Reserve(st.v4.size());
    st.v4_listed.Clear();
    st.v4_listed.Reserve(st.v4.size());
    for (const V4Probe& p : st.v4) {
      if (m.v4_exact.MayHold(p.hash)) {
        m.v4_exact.Prefetch(p.hash);
        st.v4_listed.Push(p);
      }
      if (m.v4_blocks.Covered(p.addr)) {
        m.v4_blocks.PrefetchDirectory(p.addr);
        st.blocks.Push({p.addr, p.n, 0});
      }
    }
    StringProbe* kept = st.strings.begin();
    for (const StringProbe& p : st.strings) {
      const StringTable& table = m.exact[size_t(p.key->type)];
      if (table.MayHold(p.hash)) {
        table.PrefetchGroup(p.hash);
        *kept++ = p;
      }
    }
    st.strings.Resize(size_t(kept - st.strings.begin()));
    for (const BlockProbe& p : st.blocks) m.v4_blocks.PrefetchSlice(p.addr);
    for (const V4Probe& p : st.v4_listed)
      found(st.found_v4, p.n, m.v4_exact.Find(p.addr, p.hash), AtomKind::kExact);
    for (StringProbe& p : st.strings) {
      const StringTable& table = m.exact[size_t(p.key->type)];
      p.target = table.Candidate(p.hash);
      table.PrefetchKey(p.target, p.key->text.size());
    }
    for (SuffixProbe& p : st.suffixes) {
      p.target = suffixes.Candidate(p.hash);
      suffixes.PrefetchKey(p.target, p.key->text.size() - p.parent);
    }
    for (BlockProbe& p : st.blocks) {
      p.interval = m.v4_blocks.Interval(p.addr);
      m.v4_blocks.PrefetchTarget(p.interval);
    }
    for (const StringProbe& p : st.strings)
      found(st.found_exact, p.n, m.exact[size_t(p.key->type)].Confirm(p.key->text, p.hash, p.target),
            AtomKind::kExact);
    st.found_block.Clear();
    st.found_block.Reserve(st.blocks.size());
    for (const BlockProbe& p : st.blocks)
      found(st.found_block, p.n, m.v4_blocks.Target(p.interval), AtomKind::kCidr);
    // Into found_v4, exact before block for a key: one list less for the
    // report pass to merge at every key (a fifth list cost a domain hit 23
    // instructions), and no work when no block was hit.
    if (st.found_block.size() != 0) {
      st.found_merged.Clear();
      st.found_merged.Reserve(st.found_v4.size() + st.found_block.size());
      const Found *a = st.found_v4.begin(), *b = st.found_block.begin();
      while (a != st.found_v4.end() && b != st.found_block.end()) st.found_merged.Push(b->n < a->n ? *b++ : *a++);
      for (; a != st.found_v4.end(); ++a) st.found_merged.Push(*a);
      for (; b != st.found_block.end(); ++b) st.found_merged.Push(*b);
      std::swap(st.found_v4, st.found_merged);
    }
  } else {  // suffix probes keep kAskFind: Confirm finds
    for (const V4Probe& p : st.v4) {
      if (m.v4_exact.MayHold(p.hash)) found(st.found_v4, p.n, m.v4_exact.Find(p.addr, p.hash), AtomKind::kExact);
      found(st.found_v4, p.n, m.v4_blocks.Find(p.addr), AtomKind::kCidr);
    }
    for (const StringProbe& p : st.strings) {
      const StringTable& table = m.exact[size_t(p.key->type)];
      if (table.MayHold(p.hash)) found(st.found_exact, p.n, table.Find(p.key->text, p.hash), AtomKind::kExact);
    }
  }
  for (const SuffixProbe& p : st.suffixes)
    found(st.found_suffix, p.n, suffixes.Confirm(p.key->text.substr(p.parent), p.hash, p.target),
          AtomKind::kDomainSuffix);

  // Report, event by event, key by key: a key's exact and block hits, then
  // its suffixes (longest first), then its slow lookups; last the
  // evaluate-only indicators.
  constexpr uint32_t kEnd = UINT32_MAX;
  const Found* fv4 = st.found_v4.begin();
  const Found* fexact = st.found_exact.begin();
  const Found* fsuffix = st.found_suffix.begin();
  const uint32_t* slow = st.slow.begin();
  const Found* const fv4_end = fv4 + st.found_v4.size();
  const Found* const fexact_end = fexact + st.found_exact.size();
  const Found* const fsuffix_end = fsuffix + st.found_suffix.size();
  const uint32_t* const slow_end = slow + st.slow.size();
  auto head = [](const Found* f, const Found* end) { return f != end ? f->n : kEnd; };
  auto report = [&](const Found*& f, const Found* end, uint32_t at, const Key* key) {
    for (; f != end && f->n == at; ++f) ConsiderTarget(f->target, key, f->kind);
  };
  // The next key with something to report.
  auto next_key = [&] {
    return std::min({head(fv4, fv4_end), head(fexact, fexact_end), head(fsuffix, fsuffix_end),
                     slow != slow_end ? *slow : kEnd});
  };
  size_t hits = 0;
  uint32_t first = 0;
  for (const Event& e : events) {
    const uint32_t last = first + uint32_t(e.keys.size());
    // The fields the event's observed data would hold, among those some
    // evaluate-only indicator needs (one virtual call, no JSON built).
    const uint64_t fields =
        m.evaluate_only.empty() || !e.observed ? 0 : e.observed->ObservedFields() & m.evaluate_only_fields;
    const bool evaluate = fields != 0;
    uint32_t next = next_key();
    if (next < last || evaluate) {
      BeginEvent(e, sink);
      while (next < last) {
        const Key* key = &e.keys[next - first];
        report(fv4, fv4_end, next, key);
        report(fexact, fexact_end, next, key);
        report(fsuffix, fsuffix_end, next, key);
        if (slow != slow_end && *slow == next) {
          MatchSlowKey(*key);
          ++slow;
        }
        next = next_key();
      }
      if (evaluate) EvaluateOnly(fields);
      hits += st.hits;
      stats_.hits += st.hits;
    }
    first = last;
  }
  stats_.events += events.size();
  return hits;
}

void Matcher::BeginEvent(const Event& event, HitSink& sink) {
  State& st = *state_;
  st.event = &event;
  st.sink = &sink;
  st.hits = 0;
  st.seen.clear();
  st.seen_bits = 0;
  st.observed_tried[0] = st.observed_tried[1] = false;
  st.observed[0].reset();
  st.observed[1].reset();
}

// The lookups of a key that are more than a table read: IPv6 blocks (for an
// IPv4 key, those that hold IPv4-mapped space), ports, regexes.
void Matcher::MatchSlowKey(const Key& k) {
  const Index::Impl& m = *index_->impl_;
  switch (k.type) {
    case KeyType::kIp:
      if (k.ip.IsV4()) {
        for (int len : m.v6_lengths_for_v4) Consider(m.v6[len].Find(MaskV6(k.ip.bytes, len)), &k, AtomKind::kCidr);
      } else {
        for (int len : m.v6_lengths)
          Consider(m.v6[len].Find(len == 128 ? k.ip.bytes : MaskV6(k.ip.bytes, len)), &k,
                   len == 128 ? AtomKind::kExact : AtomKind::kCidr);
      }
      break;
    case KeyType::kPort:
      Consider(m.ports.Find(k.number), &k, AtomKind::kExact);
      break;
    default: {
      const size_t type = size_t(k.type);
      if (IsValidUtf8(k.text)) {  // the tail filter passed it (MatchBatch)
        state_->regex_key = &k;
        hs_scan(m.regex[type], k.text.data(), unsigned(k.text.size()), 0, state_->scratch, &Matcher::OnRegexMatch,
                this);
      }
    }
  }
}

// The indicators without usable atoms that need one of `fields` (held by the
// event's observed data), against it; those its keys already hit are not
// evaluated again.
void Matcher::EvaluateOnly(uint64_t fields) {
  for (const Index::Impl::Unindexed& e : index_->impl_->evaluate_only)
    if (e.fields & fields) ConsiderOne(e.indicator, nullptr, AtomKind::kExact);  // skips those in st.seen
}

int Matcher::OnRegexMatch(unsigned int id, unsigned long long, unsigned long long, unsigned int, void* ctx) {
  auto* self = static_cast<Matcher*>(ctx);
  self->ConsiderOne(id, self->state_->regex_key, AtomKind::kRegex);
  return 0;  // continue: other expressions may match too
}

}  // namespace cordon::match
