// Compact open-addressing hash tables of the matcher's index (internal).
//
// Immutable once built; lookups never allocate. Values are 32-bit "targets":
// an indicator number, or (kPostingBit set) an offset into the index's
// posting array when several indicators share a key. Linear probing at a load
// factor of at most kMaxLoad; a slot is addressed by the high bits of a 64-bit
// hash (multiply-shift range reduction, so any capacity works and no memory
// is lost rounding up to a power of two).
#pragma once

#include <emmintrin.h>
#include <sys/mman.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

namespace cordon::match::internal {

// Allocates arrays of 2 MB and more as 2 MB-aligned anonymous mappings
// advised for transparent huge pages: a lookup in a table of hundreds of MB
// then costs a cache miss, not a cache miss plus a page-table walk (that
// itself misses). Smaller arrays come from the ordinary heap.
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kHuge = size_t(2) << 20;
  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}
  static size_t Rounded(size_t bytes) { return (bytes + kHuge - 1) / kHuge * kHuge; }
  T* allocate(size_t n) {
    size_t bytes = n * sizeof(T);
    if (bytes < kHuge) return std::allocator<T>().allocate(n);
    size_t len = Rounded(bytes);
    void* p = mmap(nullptr, len + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    uintptr_t base = reinterpret_cast<uintptr_t>(p);
    uintptr_t aligned = (base + kHuge - 1) & ~(kHuge - 1);
    if (aligned > base) munmap(p, aligned - base);
    if (base + len + kHuge > aligned + len) munmap(reinterpret_cast<void*>(aligned + len), base + kHuge - aligned);
    madvise(reinterpret_cast<void*>(aligned), len, MADV_HUGEPAGE);
    return reinterpret_cast<T*>(aligned);
  }
  void deallocate(T* p, size_t n) {
    size_t bytes = n * sizeof(T);
    if (bytes < kHuge) return std::allocator<T>().deallocate(p, n);
    munmap(p, Rounded(bytes));
  }
  template <typename U>
  friend bool operator==(const HugePageAllocator&, const HugePageAllocator<U>&) {
    return true;
  }
};
template <typename T>
using BigVector = std::vector<T, HugePageAllocator<T>>;

// Starts loading the cache line at `p`. Not __builtin_prefetch: GCC 12 finds
// a small function whose only effect is a prefetch "pure", and then deletes
// every call of it whose (void) result goes unused, so the prefetch never
// runs (seen in -fdump-tree-all: "Function is locally pure"). A volatile asm
// is never deleted.
inline void PrefetchLine(const void* p) {
#if defined(__x86_64__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

inline constexpr uint32_t kNone = UINT32_MAX;
inline constexpr uint32_t kPostingBit = 0x80000000u;
// FixedTable's load. Linear probing reads 1/2 (1 + 1/(1-a)^2) slots per miss:
// 8.5 at 0.75, 2.5 at 0.5; and most lookups are misses (callgrind of the Zeek
// TSV run at 0.75: ~10 slots per IPv4 lookup). An IPv4 entry then costs 16
// bytes of table instead of 10.7.
inline constexpr double kMaxLoad = 0.5;

inline uint64_t Mix(uint64_t a, uint64_t b) {
  unsigned __int128 r = (unsigned __int128)(a ^ 0xa0761d6478bd642full) * (b ^ 0xe7037ed1a0b428dbull);
  return uint64_t(r) ^ uint64_t(r >> 64);
}

// The ends of p[0, n) in two words, reading nothing outside it: from 8
// bytes on, the first and the last 8 (overlapping below 16); from 4, the first
// and the last 4; below, three bytes (first, middle, last) in `a`.
inline void LoadEnds(const char* p, size_t n, uint64_t* a, uint64_t* b) {
  *a = *b = 0;
  if (n >= 8) {
    std::memcpy(a, p, 8);
    std::memcpy(b, p + n - 8, 8);
  } else if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    *a = lo;
    *b = hi;
  } else if (n > 0) {
    *a = uint32_t(uint8_t(p[0])) << 16 | uint32_t(uint8_t(p[n >> 1])) << 8 | uint8_t(p[n - 1]);
  }
}

// A fast, well-mixed 64-bit hash of a byte string (wyhash-style).
inline uint64_t HashBytes(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  uint64_t h = 0x8bb84b93962eacc9ull ^ n;
  while (n >= 16) {
    uint64_t a, b;
    std::memcpy(&a, p, 8);
    std::memcpy(&b, p + 8, 8);
    h = Mix(a ^ h, b ^ 0x4b33a62ed433d4a3ull);
    p += 16;
    n -= 16;
  }
  uint64_t a, b;
  LoadEnds(p, n, &a, &b);
  return Mix(Mix(a ^ h, b ^ 0x4b33a62ed433d4a3ull), h ^ 0x1d8e4e27c47d124full);
}

// A cheap hash of a domain suffix for the Bloom filter in front of the
// suffix table: its length and its first and last 8 bytes (fewer when
// shorter), one multiply. Every parent of a domain key with a listed label
// count is tested (~3 per key); HashBytes, twice the work, is left to the
// few the filter lets through. Not a table hash: names that differ only in
// their middle bytes share it.
inline uint64_t SuffixSketch(std::string_view s) {
  uint64_t a, b;
  LoadEnds(s.data(), s.size(), &a, &b);
  return Mix(a ^ s.size(), b ^ 0x4b33a62ed433d4a3ull);
}

// Not std::popcount: without -mpopcnt (the baseline x86-64 Debian builds
// for) that is a call into libgcc, which made every domain key ~90
// instructions dearer.
inline size_t PopCount(uint64_t x) {
  x -= x >> 1 & 0x5555555555555555ull;
  x = (x & 0x3333333333333333ull) + (x >> 2 & 0x3333333333333333ull);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
  return size_t((x * 0x0101010101010101ull) >> 56);
}

// The dots of p[0, n), n <= 64, as a bit mask (bit i: p[i] is a dot), found
// 16 bytes per compare with loads that never cross the name's ends, the last
// partial block included. A domain key's parents are then taken from the
// mask in a register: no per-dot loop, no array of positions (storing each
// dot cost every domain key a mispredicted loop exit; callgrind: a domain
// miss 356 -> 344 instructions, 2.24 -> 1.73 mispredicted branches).
inline uint64_t DotMask(const char* p, size_t n) {
  auto dots = [](__m128i bytes) {
    return uint64_t(unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('.')))));
  };
  if (n < 16) {  // the whole name in one register
    uint64_t lo = 0, hi = 0;
    if (n >= 8) {
      std::memcpy(&lo, p, 8);
      std::memcpy(&hi, p + n - 8, 8);
      hi = (hi >> 8) >> 8 * (15 - n);  // bytes 8..n-1 (none when n == 8)
    } else if (n >= 4) {
      uint32_t a, b;
      std::memcpy(&a, p, 4);
      std::memcpy(&b, p + n - 4, 4);
      lo = a | uint64_t(b) << 8 * (n - 4);
    } else if (n > 0) {
      lo = uint8_t(p[0]) | uint64_t(uint8_t(p[n >> 1])) << 8 * (n >> 1) | uint64_t(uint8_t(p[n - 1])) << 8 * (n - 1);
    }
    return dots(_mm_set_epi64x(int64_t(hi), int64_t(lo)));
  }
  // Blocks at 0, 16, ..., the last one ending at the name's end (it may
  // overlap the one before: its bits are the same).
  uint64_t mask = 0;
  for (size_t i = 0; i < n; i += 16) {
    const size_t at = std::min(i, n - 16);
    mask |= dots(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + at))) << at;
  }
  return mask;
}

// No DNS name is longer (253 bytes as text, 255 with a trailing dot and
// the root): a longer domain key can have no listed parent.
inline constexpr size_t kMaxDomainName = 256;

// The last k <= 8 bytes of `s` (k <= s.size()), ASCII-lowercased, the first
// of them in the most significant byte. Called for every key of a type with a
// LIKE tail filter: from 8 bytes on, one load and a SWAR lowercase (a byte
// loop was ~50 instructions a key, a tenth of a domain lookup).
inline uint64_t LowerTail(std::string_view s, size_t k) {
  uint64_t v = 0;
  if (s.size() >= 8) {
    std::memcpy(&v, s.data() + s.size() - 8, 8);
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
    constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
    const uint64_t low7 = v & ~kHigh;
    const uint64_t at_least_a = low7 + (0x80 - 'A') * kOnes;       // high bit: byte >= 'A'
    const uint64_t above_z = low7 + (0x80 - 'Z' - 1) * kOnes;       // high bit: byte > 'Z'
    const uint64_t upper = at_least_a & ~above_z & ~v & kHigh;      // and < 0x80
    v |= upper >> 2;                                                // 0x80 >> 2 == 0x20
    return k == 8 ? v : v & ((uint64_t(1) << (8 * k)) - 1);
  }
  for (size_t i = 0; i < k; ++i) {
    uint8_t c = uint8_t(s[s.size() - k + i]);
    if (c >= 'A' && c <= 'Z') c |= 0x20;
    v = v << 8 | c;
  }
  return v;
}

inline uint64_t HashU64(uint64_t v) { return Mix(v, 0x9e3779b97f4a7c15ull); }

inline size_t Capacity(size_t n) { return n == 0 ? 0 : size_t(double(n) / kMaxLoad) + 1; }
inline size_t SlotOf(uint64_t h, size_t capacity) {
  return size_t(((unsigned __int128)h * capacity) >> 64);
}

// One bit per bucket of a table.
class BitSet {
 public:
  void Assign(size_t n) { words_.assign((n + 63) / 64, 0); }
  void Set(size_t i) { words_[i >> 6] |= uint64_t(1) << (i & 63); }
  bool Test(size_t i) const { return words_[i >> 6] >> (i & 63) & 1; }
  size_t MemoryBytes() const { return words_.capacity() * 8; }

 private:
  std::vector<uint64_t> words_;
};

// A Bloom filter in front of an exact table, so that a lookup of a key the
// table does not hold (nearly every lookup: sensors see mostly unlisted
// values) reads one word of the filter instead of a line of the table. At
// 10M indicators a table is hundreds of MB, and its line, even prefetched a
// stage ahead, cost ~8-10 ns of this VM's memory throughput per key
// (bench/memory_lines); the filter, at one byte per key, stays in the
// last-level cache. Blocked: the four bits of a key lie in one 64-bit word,
// so a test is one read. `h` is the table's own hash of the key; the filter
// multiplies it, and takes the word from the product's high bits (as the
// table takes its slot from h's) and the bits from its middle ones. The
// tables call Prefetch and MayHold only when it is not empty() (Assign(0)
// leaves no word).
class KeyFilter {
 public:
  // Sized for `n` keys; then Add each.
  void Assign(size_t n) { words_.assign(n == 0 ? 0 : (n * kBitsPerKey + 63) / 64, 0); }
  void Add(uint64_t h) {
    const uint64_t g = Rehash(h);
    words_[WordOf(g)] |= Bits(g);
  }
  void Prefetch(uint64_t h) const { PrefetchLine(&words_[WordOf(Rehash(h))]); }
  // False: the key is certainly absent. True: it may be present (also for
  // about 3.4 % of the absent keys; tables_test).
  bool MayHold(uint64_t h) const {
    const uint64_t g = Rehash(h), bits = Bits(g);
    return (words_[WordOf(g)] & bits) == bits;
  }
  // Assigned for no key: the table holds none, or was built without a filter.
  bool empty() const { return words_.empty(); }
  size_t MemoryBytes() const { return words_.capacity() * 8; }

 private:
  static constexpr size_t kBitsPerKey = 8;
  static uint64_t Rehash(uint64_t h) { return h * 0x9e3779b97f4a7c15ull; }
  size_t WordOf(uint64_t g) const { return SlotOf(g, words_.size()); }
  static uint64_t Bits(uint64_t g) {  // bits 20-43 of the product: from h's low 44 bits, beyond the tag's 8
    return uint64_t(1) << (g >> 20 & 63) | uint64_t(1) << (g >> 26 & 63) | uint64_t(1) << (g >> 32 & 63) |
           uint64_t(1) << (g >> 38 & 63);
  }
  BigVector<uint64_t> words_;
};

// Variable-length byte-string keys and their targets, stored in one arena as
// [len][bytes][target] (len: one byte, or 0xff followed by 4 bytes; target: 4
// bytes). The table is an array of 64-byte groups, each holding 12 slots: 12
// tag bytes (0xff = empty, else 8 bits of the hash; slots fill from the first)
// and 12 arena offsets. A lookup reads its home group (one cache line), compares
// the tags 16 at a time as in Abseil's Swiss tables, and reads the key of a
// matching tag, whose target lies right after it; a miss usually reads the group
// line and nothing else. A key whose home group is full goes to the next group
// with room; a probe goes on past a group only if it is full. At load 0.6 an
// entry costs 64 / 7.2 = 8.9 bytes of table and 4 of arena besides its key.
// (Tags, slots and keys in three arrays cost a hit three dependent lines, and a
// batch that prefetched the slot lines with the tags read three lines per miss.)
class StringTable {
 public:
  struct Entry {
    std::string_view key;
    uint32_t target;
  };
  // `entries` must have distinct keys. Without a filter (kNoFilter),
  // MayHold is true for every hash unless the table is empty: for a table
  // whose lookups pass a filter of their own first (the domain suffixes).
  enum Filter { kFilter, kNoFilter };
  void Build(const std::vector<Entry>& entries, Filter filter = kFilter);

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  size_t MemoryBytes() const { return groups_.capacity() * sizeof(Group) + arena_.capacity() + filter_.MemoryBytes(); }

  // Batched lookups split Find into its two dependent reads (group, key and
  // target), so that a batch issues one step's reads for all its keys before
  // it waits for any of them:
  //   PrefetchFilter(h) ... MayHold(h)? PrefetchGroup(h) ... Candidate(h) -> c ... PrefetchKey(c, key.size())
  //   ... Confirm(key, h, c).
  // Confirm(key, h, Candidate(h)) == Find(key, h) always; MayHold(h) is
  // true for every key the table holds (KeyFilter).
  void PrefetchFilter(uint64_t h) const {
    if (!filter_.empty()) filter_.Prefetch(h);
  }
  bool MayHold(uint64_t h) const { return size_ != 0 && (filter_.empty() || filter_.MayHold(h)); }
  static constexpr uint32_t kAbsent = UINT32_MAX;     // Candidate: the home group proves the key absent
  static constexpr uint32_t kAskFind = UINT32_MAX - 1;  // Candidate: the home group is full; Find decides
  void PrefetchGroup(uint64_t h) const {
    if (size_ != 0) PrefetchLine(&groups_[GroupOf(h)]);
  }
  // The first slot (group << 4 | slot) of the home group whose tag matches
  // `h`, or kAbsent / kAskFind.
  uint32_t Candidate(uint64_t h) const {
    if (size_ == 0) return kAbsent;
    const size_t g = GroupOf(h);
    const Group& group = groups_[g];
    const unsigned match = TagMatches(group, Tag(h));
    if (match) return uint32_t(g << 4 | size_t(__builtin_ctz(match)));
    return group.tag[kSlots - 1] == kEmpty ? kAbsent : kAskFind;
  }
  // Loads the candidate's arena entry, through its last byte were it a key
  // of `key_size` bytes (the key it is compared with): an entry straddles
  // two cache lines about one time in three, and the second line, not
  // loaded, cost a hit a miss in Confirm.
  void PrefetchKey(uint32_t candidate, size_t key_size) const {
    if (candidate >= kAskFind) return;
    const size_t at = OffsetOf(candidate);
    PrefetchLine(arena_.data() + at);
    PrefetchLine(arena_.data() + std::min(at + EntryBytes(key_size) - 1, arena_.size() - 1));
  }
  uint32_t Confirm(std::string_view key, uint64_t h, uint32_t candidate) const {
    if (candidate == kAbsent) return kNone;
    if (candidate != kAskFind) {
      uint32_t target;
      if (TargetIfKey(OffsetOf(candidate), key, &target)) return target;
    }
    return Find(key, h);  // another slot with the same tag, or a longer probe
  }
  // The target of `key` (whose HashBytes is `h`), or kNone.
  uint32_t Find(std::string_view key, uint64_t h) const {
    if (size_ == 0) return kNone;
    size_t g = GroupOf(h);
    const uint8_t tag = Tag(h);
    while (true) {
      const Group& group = groups_[g];
      for (unsigned match = TagMatches(group, tag); match; match &= match - 1) {
        uint32_t target;
        if (TargetIfKey(group.offset[__builtin_ctz(match)], key, &target)) return target;
      }
      if (group.tag[kSlots - 1] == kEmpty) return kNone;
      if (++g == groups_.size()) g = 0;
    }
  }
  // Groups Find(key) reads (for tests of the hash's spread).
  size_t ProbeLength(std::string_view key, uint64_t h) const;
  template <typename F>
  void ForEach(F&& f) const {
    for (const Group& group : groups_)
      for (size_t i = 0; i < kSlots && group.tag[i] != kEmpty; ++i) {
        const std::string_view k = KeyAt(group.offset[i]);
        f(k, TargetAfter(k));
      }
  }

 private:
  // At 0.7, 24 % of the misses read a second group (tables_test); at 0.6,
  // 8 %, and domain misses at 10M indicators ran 10 % faster.
  static constexpr double kGroupLoad = 0.6;
  static constexpr size_t kSlots = 12;
  static constexpr uint8_t kEmpty = 0xff;
  struct alignas(64) Group {
    uint8_t tag[16];  // kSlots tags, then 4 unused bytes (kEmpty)
    uint32_t offset[kSlots];
  };
  static_assert(sizeof(Group) == 64);
  static uint8_t Tag(uint64_t h) {
    uint8_t t = uint8_t(h);
    return t == kEmpty ? 0xfe : t;
  }
  static unsigned TagMatches(const Group& group, uint8_t tag) {
    const __m128i tags = _mm_load_si128(reinterpret_cast<const __m128i*>(group.tag));
    return unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(tags, _mm_set1_epi8(char(tag))))) & ((1u << kSlots) - 1);
  }
  uint32_t OffsetOf(uint32_t candidate) const { return groups_[candidate >> 4].offset[candidate & 15]; }
  size_t GroupOf(uint64_t h) const { return SlotOf(h, groups_.size()); }
  std::string_view KeyAt(uint32_t offset) const {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(arena_.data()) + offset;
    if (*p != 0xff) return {reinterpret_cast<const char*>(p + 1), *p};
    uint32_t len;
    std::memcpy(&len, p + 1, 4);
    return {reinterpret_cast<const char*>(p + 5), len};
  }
  // The arena bytes of a key of `key_size` bytes: length (1 byte, or 0xff
  // and 4 bytes), key, target.
  static size_t EntryBytes(size_t key_size) { return (key_size < 0xff ? 1 : 5) + key_size + 4; }
  // The target stored right after a key that KeyAt returned.
  static uint32_t TargetAfter(std::string_view key_in_arena) {
    uint32_t target;
    std::memcpy(&target, key_in_arena.data() + key_in_arena.size(), 4);
    return target;
  }
  // If the arena entry at `offset` is `key`: its target, and true.
  bool TargetIfKey(uint32_t offset, std::string_view key, uint32_t* target) const {
    const std::string_view k = KeyAt(offset);
    if (k != key) return false;
    *target = TargetAfter(k);
    return true;
  }
  BigVector<Group> groups_;
  BigVector<char> arena_;
  KeyFilter filter_;  // empty when built with kNoFilter
  size_t size_ = 0;
};

// IPv4 addresses (host order) to targets, in 64-byte buckets of eight keys
// and eight targets (kNone = empty; slots fill from 0). A key whose home
// bucket is full goes to the next with room (linear probing by buckets) and
// marks the full buckets it passed as overflowed, in a bitmap small enough
// to stay in cache; a probe goes on past a bucket only if it overflowed. So
// a lookup, hit or miss, nearly always reads one cache line, where the
// linear-probing FixedTable read 2.5 slots per miss at load 0.5 (16 bytes
// per entry; this table: 11.4).
class Ip4Table {
 public:
  struct Entry {
    uint32_t key;
    uint32_t target;
  };
  // `entries` must have distinct keys.
  void Build(const std::vector<Entry>& entries);
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  size_t MemoryBytes() const {
    return buckets_.capacity() * sizeof(Bucket) + overflow_.MemoryBytes() + filter_.MemoryBytes();
  }
  static uint64_t Hash(uint32_t v) { return HashU64(v); }
  // As StringTable's: PrefetchFilter(h) ... MayHold(h)? Prefetch(h) ... Find(key, h).
  void PrefetchFilter(uint64_t h) const {
    if (size_ != 0) filter_.Prefetch(h);
  }
  bool MayHold(uint64_t h) const { return size_ != 0 && filter_.MayHold(h); }
  void Prefetch(uint64_t h) const {
    if (size_ != 0) PrefetchLine(&buckets_[SlotOf(h, buckets_.size())]);
  }
  uint32_t Find(uint32_t key, uint64_t h) const {
    if (size_ == 0) return kNone;
    size_t i = SlotOf(h, buckets_.size());
    const __m128i q = _mm_set1_epi32(int(key));
    while (true) {
      const Bucket& b = buckets_[i];
      const __m128i lo = _mm_cmpeq_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(b.key)), q);
      const __m128i hi = _mm_cmpeq_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(b.key + 4)), q);
      unsigned match =
          unsigned(_mm_movemask_ps(_mm_castsi128_ps(lo))) | unsigned(_mm_movemask_ps(_mm_castsi128_ps(hi))) << 4;
      for (; match; match &= match - 1) {
        uint32_t t = b.target[__builtin_ctz(match)];
        if (t != kNone) return t;  // an empty slot's key (0) matched 0.0.0.0: not an entry
      }
      if (!overflow_.Test(i)) return kNone;
      if (++i == buckets_.size()) i = 0;
    }
  }
  uint32_t Find(uint32_t key) const { return Find(key, Hash(key)); }
  // Buckets Find(key) reads (for tests of the spread).
  size_t ProbeLength(uint32_t key) const;

 private:
  // An absent key's probe reads on average (tables_test, 100,000 random
  // keys): 1.09 buckets at load 0.6, 1.25 at 0.7, 1.88 at 0.8. 0.7 keeps the
  // table under 12 bytes per entry.
  static constexpr double kBucketLoad = 0.7;
  struct alignas(64) Bucket {
    uint32_t key[8];
    uint32_t target[8];
  };
  static_assert(sizeof(Bucket) == 64);
  BigVector<Bucket> buckets_;
  BitSet overflow_;  // per bucket
  KeyFilter filter_;
  size_t size_ = 0;
};

// Fixed-size keys: uint32_t (IPv4 address, port) or a 16-byte IPv6 address.
template <typename K>
class FixedTable {
 public:
  struct Entry {
    K key;
    uint32_t target;
  };
  void Build(const std::vector<Entry>& entries) {
    size_ = entries.size();
    slots_.assign(Capacity(entries.size()), Slot{K{}, kNone});
    for (const Entry& e : entries) {
      size_t i = SlotOf(Hash(e.key), slots_.size());
      while (slots_[i].target != kNone)
        if (++i == slots_.size()) i = 0;
      slots_[i] = Slot{e.key, e.target};
    }
  }
  bool empty() const { return slots_.empty(); }
  size_t size() const { return size_; }
  size_t MemoryBytes() const { return slots_.capacity() * sizeof(Slot); }
  static uint64_t Hash(const K& k) {
    if constexpr (sizeof(K) == 4) {
      return HashU64(k);
    } else {
      uint64_t a, b;
      std::memcpy(&a, &k, 8);
      std::memcpy(&b, reinterpret_cast<const char*>(&k) + 8, 8);
      return Mix(a ^ 0x9e3779b97f4a7c15ull, b);
    }
  }
  void Prefetch(uint64_t h) const {
    if (!slots_.empty()) PrefetchLine(&slots_[SlotOf(h, slots_.size())]);
  }
  uint32_t Find(const K& key, uint64_t h) const {
    if (slots_.empty()) return kNone;
    size_t i = SlotOf(h, slots_.size());
    while (true) {
      const Slot& s = slots_[i];
      if (s.target == kNone) return kNone;
      if (s.key == key) return s.target;
      if (++i == slots_.size()) i = 0;
    }
  }
  uint32_t Find(const K& key) const { return Find(key, Hash(key)); }

 private:
  struct Slot {
    K key;
    uint32_t target;
  };
  BigVector<Slot> slots_;
  size_t size_ = 0;
};

// IPv4 CIDR blocks (any lengths) as disjoint elementary intervals, filed by
// the /16 they touch: a lookup reads one entry of a 2^16-entry directory,
// then the /16's slice: the low 16 bits of its intervals' starts (ascending,
// 32 per cache line, counted 16 per compare), then the target of the one
// that holds the address. Blocks are laminar (nested or disjoint), so each
// interval's target lists every block that covers it. A binary search over
// 32-bit starts cost ~4 dependent reads and as many unpredictable branches
// per lookup at 10M indicators. (A 64-byte line per /16 holding the starts
// inline, 4 MB, was as fast at 10M but fell out of L2 at 1M.)
//
// In front of it, one bit per /24 (2 MB): set when a block covers any of
// the /24's addresses. Most addresses a sensor sees are in no listed block;
// for them a lookup is that one read, which a batch prefetches with the
// exact table's filter word, instead of three dependent ones (directory, starts,
// target): +28 % random IPv4 keys/s at 1M indicators, +20 % at 10M.
class RangeMap4 {
 public:
  struct Block {
    uint32_t first, last;  // inclusive
    uint32_t indicator;
  };
  // `postings` receives the lists of intervals covered by several indicators.
  void Build(std::vector<Block> blocks, std::vector<uint32_t>* postings);
  bool empty() const { return directory_.empty(); }
  size_t MemoryBytes() const {
    return covered_.capacity() * 8 + directory_.capacity() * 4 + lows_.capacity() * 2 + targets_.capacity() * 4;
  }
  void Prefetch(uint32_t addr) const {
    if (!empty()) PrefetchLine(&covered_[addr >> 14]);
  }
  // Find in stages, for batches (a covered address's three reads depend on
  // each other; one address at a time they cost a batch of random IPv4 keys
  // at 10M indicators a third of its time):
  //   Prefetch(a) ... Covered(a) ... PrefetchDirectory(a) ... PrefetchSlice(a) ...
  //   Interval(a) -> i ... PrefetchTarget(i) ... Target(i) == Find(a) for a covered a.
  bool Covered(uint32_t addr) const { return !empty() && covered_[addr >> 14] >> (addr >> 8 & 63) & 1; }
  void PrefetchDirectory(uint32_t addr) const { PrefetchLine(&directory_[addr >> 16]); }
  void PrefetchSlice(uint32_t addr) const { PrefetchLine(&lows_[directory_[addr >> 16]]); }
  uint32_t Interval(uint32_t addr) const {
    const uint32_t at = directory_[addr >> 16], n = directory_[(addr >> 16) + 1] - at;
    return at + uint32_t(CountAtMost(&lows_[at], n, uint16_t(addr))) - 1;
  }
  void PrefetchTarget(uint32_t interval) const { PrefetchLine(&targets_[interval]); }
  uint32_t Target(uint32_t interval) const { return targets_[interval]; }
  uint32_t Find(uint32_t addr) const { return Covered(addr) ? targets_[Interval(addr)] : kNone; }

 private:
  // How many of the ascending p[0, n) are <= v (p[0] == 0, so at least 1).
  // Reads up to kPad elements past p[n - 1]: lows_ is padded.
  static size_t CountAtMost(const uint16_t* p, size_t n, uint16_t v) {
    const __m128i bias = _mm_set1_epi16(short(0x8000));  // unsigned order as signed
    const __m128i q = _mm_set1_epi16(short(v ^ 0x8000));
    for (size_t i = 0;; i += 16) {
      const __m128i a = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)), bias);
      const __m128i b = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 8)), bias);
      const unsigned above =
          unsigned(_mm_movemask_epi8(_mm_packs_epi16(_mm_cmpgt_epi16(a, q), _mm_cmpgt_epi16(b, q)))) | 1u << 16;
      const size_t first_above = size_t(__builtin_ctz(above));
      // Past n the elements are the next slice's: the first above v within
      // the slice, else all n.
      if (first_above < 16 || i + 16 >= n) return std::min(i + first_above, n);
    }
  }
  static constexpr size_t kPad = 15;
  BigVector<uint64_t> covered_;  // bit a >> 8: some block covers an address of /24 a
  std::vector<uint32_t> directory_;  // 65537: the slice of /16 i is [directory_[i], directory_[i + 1])
  // Per slice: first the interval holding the /16's first address (low 0),
  // then those starting inside it.
  std::vector<uint16_t> lows_;
  std::vector<uint32_t> targets_;  // kNone = no block
};

}  // namespace cordon::match::internal
