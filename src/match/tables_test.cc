#include "match/tables.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <iostream>
#include <memory>
#include <map>
#include <set>

namespace cordon::match::internal {
namespace {

std::set<uint32_t> Targets(uint32_t t, const std::vector<uint32_t>& postings) {
  if (t == kNone) return {};
  if (!(t & kPostingBit)) return {t};
  uint32_t at = t & ~kPostingBit;
  return std::set<uint32_t>(postings.begin() + at + 1, postings.begin() + at + 1 + postings[at]);
}

// Find against a linear scan at the edges of every block and of the /24s it
// touches (the grain of the filter in front of the slices), and at random
// addresses.
void ExpectAgreesWithLinearScan(const std::vector<RangeMap4::Block>& blocks, std::vector<uint32_t> probes,
                                std::mt19937& rng) {
  RangeMap4 map;
  std::vector<uint32_t> postings;
  map.Build(blocks, &postings);
  for (const auto& b : blocks) {
    for (uint32_t edge : {b.first, b.last, b.first & ~0xffu, b.last | 0xffu}) {
      probes.push_back(edge);
      if (edge > 0) probes.push_back(edge - 1);
      if (edge < 0xffffffffu) probes.push_back(edge + 1);
    }
  }
  for (int i = 0; i < 20000; ++i) probes.push_back(rng());
  for (uint32_t a : probes) {
    std::set<uint32_t> expected;
    for (const auto& b : blocks)
      if (a >= b.first && a <= b.last) expected.insert(b.indicator);
    ASSERT_EQ(Targets(map.Find(a), postings), expected) << std::hex << a;
  }
}

// Nested and adjacent blocks of every length, incl. /0 and duplicates; then
// the same without the /0, so that most /24s are in no block.
TEST(RangeMap4, AgreesWithLinearScan) {
  std::mt19937 rng(7);
  std::vector<RangeMap4::Block> blocks;
  auto add = [&](uint32_t addr, int len, uint32_t ind) {
    uint32_t mask = len == 0 ? 0 : 0xffffffffu << (32 - len);
    uint32_t first = addr & mask;
    blocks.push_back({first, first | ~mask, ind});
  };
  add(0, 0, 0);                 // everything
  add(0x0a000000, 8, 1);        // 10/8
  add(0x0a000000, 8, 2);        // the same block, another indicator
  add(0x0a010000, 16, 3);       // nested
  add(0x0a010100, 24, 4);       // nested deeper
  add(0x0a0101ff, 31, 5);       // at the end of its parent
  add(0xffffff00, 24, 6);       // the top of the space
  for (uint32_t i = 7; i < 400; ++i) add(rng(), 8 + int(rng() % 24), i);
  // /16s whose slices hold 1, 16, 17, 26, 27 and ~400 intervals (a lookup
  // counts their starts 16 at a time), some blocks on the /16's first or last
  // address.
  uint32_t ind = 400;
  for (uint32_t k = 0; k < 200; ++k) add(0x0b0c0000 + k * 0x140, 28, ind++);
  for (uint32_t k = 0; k < 8; ++k) add(0x0c0b0000 + k * 0x800, 24, ind++);    // 16 intervals
  for (uint32_t k = 0; k < 8; ++k) add(0x0c0c0100 + k * 0x800, 24, ind++);    // the head + 16
  for (uint32_t k = 0; k < 13; ++k) add(0x0c0d0000 + k * 0x800, 24, ind++);   // 26 intervals
  for (uint32_t k = 0; k < 13; ++k) add(0x0c0e0100 + k * 0x800, 24, ind++);   // the head + 26
  for (uint32_t k = 0; k < 16; ++k) add(0x0c0f0100 + k * 0x1000, 24, ind++);  // ends on the /16's last block
  add(0x0c0ff000, 20, ind++);
  add(0x0d0e0000, 16, ind++);
  add(0x0e000040, 26, ind++);  // alone in its /24: the /24's other addresses are in no block
  add(0x0e0001fe, 32, ind++);
  std::vector<uint32_t> probes = {0, 1, 0x09ffffff, 0x0a000000, 0x0a00ffff, 0x0a010000, 0x0a0100ff, 0x0a010100,
                                  0x0a0101fe, 0x0a0101ff, 0x0a010200, 0x0affffff, 0x0b000000, 0xfffffeff,
                                  0xffffff00, 0xffffffff, 0x0e000000, 0x0e00003f, 0x0e000080, 0x0e0001ff};
  for (uint32_t net : {0x0b0c0000u, 0x0c0b0000u, 0x0c0c0000u, 0x0c0d0000u, 0x0c0e0000u, 0x0c0f0000u, 0x0d0e0000u})
    for (int i = 0; i < 2000; ++i) probes.push_back(net | (rng() & 0xffff));
  ExpectAgreesWithLinearScan(blocks, probes, rng);
  blocks.erase(blocks.begin());
  ExpectAgreesWithLinearScan(blocks, probes, rng);
}

TEST(StringTable, FindsEveryKeyAndNothingElse) {
  std::vector<std::string> keys;
  for (int i = 0; i < 5000; ++i) keys.push_back("k" + std::to_string(i) + std::string(i % 300, 'x'));
  std::vector<StringTable::Entry> entries;
  for (size_t i = 0; i < keys.size(); ++i) entries.push_back({keys[i], uint32_t(i)});
  StringTable t;
  t.Build(entries);
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(t.Find(keys[i], HashBytes(keys[i])), i);
    EXPECT_TRUE(t.MayHold(HashBytes(keys[i]))) << keys[i];  // the filter in front never loses a key
  }
  size_t let_through = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string miss = "m" + std::to_string(i);
    EXPECT_EQ(t.Find(miss, HashBytes(miss)), kNone);
    let_through += t.MayHold(HashBytes(miss));
  }
  EXPECT_LT(let_through, 300u);  // ~3 %
  EXPECT_EQ(t.Find("", HashBytes("")), kNone);
  EXPECT_FALSE(StringTable().MayHold(HashBytes("")));
  // Without a filter, every key may be held, and the table finds the same.
  StringTable unfiltered;
  unfiltered.Build(entries, StringTable::kNoFilter);
  EXPECT_TRUE(unfiltered.MayHold(HashBytes("m1")));
  EXPECT_EQ(unfiltered.Find(keys[7], HashBytes(keys[7])), 7u);
  EXPECT_LT(unfiltered.MemoryBytes() + keys.size() / 2, t.MemoryBytes());  // no byte per key
  // ForEach yields every entry once, with its target.
  std::map<std::string, uint32_t> all;
  t.ForEach([&](std::string_view key, uint32_t target) { EXPECT_TRUE(all.emplace(key, target).second) << key; });
  ASSERT_EQ(all.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(all[keys[i]], i) << keys[i];
}

// At load 0.6 in groups of 12, nearly every lookup reads one group when the
// hash spreads keys well (1.01 per hit, 1.08 per miss); clustering would show
// here.
TEST(StringTable, ProbeLengthsOfDomainLikeKeys) {
  std::vector<std::string> keys;
  for (int i = 0; i < 200000; ++i) keys.push_back("host" + std::to_string(i * 7) + ".example" + std::to_string(i % 97) + ".com");
  std::vector<StringTable::Entry> entries;
  for (size_t i = 0; i < keys.size(); ++i) entries.push_back({keys[i], uint32_t(i)});
  StringTable t;
  t.Build(entries);
  double hit = 0, miss = 0;
  for (const std::string& k : keys) hit += double(t.ProbeLength(k, HashBytes(k)));
  for (int i = 0; i < 200000; ++i) {
    std::string k = "miss" + std::to_string(i) + ".example.com";
    miss += double(t.ProbeLength(k, HashBytes(k)));
  }
  hit /= double(keys.size());
  miss /= 200000.0;
  EXPECT_LT(hit, 1.05);
  EXPECT_LT(miss, 1.15);
  std::cout << "mean probe length: hit " << hit << ", miss " << miss << "\n";
}

}  // namespace
}  // namespace cordon::match::internal

namespace cordon::match::internal {
namespace {

// The staged lookup (Candidate, Confirm) gives Find's answer for present and
// absent keys, also in a table filled to its load limit, where groups
// overflow and tags collide (a small table of 4,000 keys: 8-bit tags repeat
// within groups).
TEST(StringTable, StagedLookupAgreesWithFind) {
  std::vector<std::string> keys;
  for (int i = 0; i < 4000; ++i) keys.push_back("k" + std::to_string(i * 7919) + ".example");
  std::vector<StringTable::Entry> entries;
  for (size_t i = 0; i < keys.size(); ++i) entries.push_back({keys[i], uint32_t(i)});
  StringTable table;
  table.Build(entries);
  size_t asked_find = 0, false_tag = 0;
  auto check = [&](const std::string& key, uint32_t want) {
    uint64_t h = HashBytes(key);
    table.PrefetchGroup(h);
    uint32_t c = table.Candidate(h);
    table.PrefetchKey(c, key.size());
    asked_find += c == StringTable::kAskFind;
    uint32_t got = table.Confirm(key, h, c);
    false_tag += c < StringTable::kAskFind && want == kNone;
    EXPECT_EQ(got, want) << key;
    EXPECT_EQ(got, table.Find(key, h)) << key;
  };
  for (size_t i = 0; i < keys.size(); ++i) check(keys[i], uint32_t(i));
  for (int i = 0; i < 4000; ++i) check("absent" + std::to_string(i) + ".example", kNone);
  // Both fallbacks were exercised: a full home group, and a tag that matched
  // another key's.
  EXPECT_GT(asked_find, 0u);
  EXPECT_GT(false_tag, 0u);
}

}  // namespace
}  // namespace cordon::match::internal

namespace cordon::match::internal {
namespace {

// Keys of 255 bytes and more take the long length form in the arena.
TEST(StringTable, LongKeys) {
  std::vector<std::string> keys = {std::string(254, 'a'), std::string(255, 'a'), std::string(256, 'a'),
                                   std::string(70000, 'b'), ""};
  std::vector<StringTable::Entry> entries;
  for (size_t i = 0; i < keys.size(); ++i) entries.push_back({keys[i], uint32_t(i)});
  StringTable table;
  table.Build(entries);
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(table.Find(keys[i], HashBytes(keys[i])), i);
  std::string other(255, 'c');
  EXPECT_EQ(table.Find(other, HashBytes(other)), kNone);
}

// The filter in front of the exact tables: it holds every key added, and
// lets few others through, with the tables' own hashes of domain-like and of
// IPv4 keys (it rehashes them; the tables take their slots from the same
// hashes).
TEST(KeyFilter, HoldsEveryKeyAndLetsFewOthersThrough) {
  for (bool ip : {false, true}) {
    auto hash = [ip](int i) {
      return ip ? Ip4Table::Hash(0x0a000000u + uint32_t(i) * 2654435761u)
                : HashBytes("host" + std::to_string(i) + ".example.org");
    };
    const int n = 200000;
    KeyFilter f;
    f.Assign(n);
    for (int i = 0; i < n; ++i) f.Add(hash(2 * i));
    for (int i = 0; i < n; ++i) ASSERT_TRUE(f.MayHold(hash(2 * i))) << i;
    int through = 0;
    for (int i = 0; i < n; ++i) through += f.MayHold(hash(2 * i + 1));
    const double rate = double(through) / n;
    EXPECT_LT(rate, 0.04) << (ip ? "IPv4" : "domains");
    EXPECT_GT(rate, 0.005) << "eight bits per key, four set: a rate this low means the filter is larger than sized";
    EXPECT_EQ(f.MemoryBytes(), size_t(n));  // one byte per key
    std::cout << (ip ? "IPv4" : "domains") << ": " << 100 * rate << " % of absent keys let through\n";
  }
}

// Every key is found, 0.0.0.0 included (an empty slot's key is 0 too), and
// nothing else, in a table at its load limit.
TEST(Ip4Table, FindsEveryKeyAndNothingElse) {
  std::mt19937 rng(11);
  std::set<uint32_t> keys = {0, 1, 0xffffffffu};
  while (keys.size() < 50000) keys.insert(uint32_t(rng()));
  std::vector<Ip4Table::Entry> entries;
  std::vector<uint32_t> ordered(keys.begin(), keys.end());
  for (size_t i = 0; i < ordered.size(); ++i) entries.push_back({ordered[i], uint32_t(i)});
  Ip4Table table;
  table.Build(entries);
  for (size_t i = 0; i < ordered.size(); ++i) {
    ASSERT_EQ(table.Find(ordered[i]), i) << ordered[i];
    ASSERT_TRUE(table.MayHold(Ip4Table::Hash(ordered[i]))) << ordered[i];
  }
  for (int i = 0; i < 50000; ++i) {
    uint32_t v = uint32_t(rng());
    if (!keys.count(v)) {
      ASSERT_EQ(table.Find(v), kNone) << v;
    }
  }
  // Nearly every lookup reads one bucket (one cache line).
  double hit = 0, miss = 0;
  for (uint32_t k : ordered) hit += double(table.ProbeLength(k));
  for (int i = 0; i < 100000; ++i) miss += double(table.ProbeLength(uint32_t(rng())));
  hit /= double(ordered.size());
  miss /= 100000.0;
  EXPECT_LT(hit, 1.15);
  EXPECT_LT(miss, 1.3);
  std::cout << "mean probe length: hit " << hit << ", miss " << miss << "\n";
  Ip4Table without_zero;
  without_zero.Build({{5, 0}});
  EXPECT_EQ(without_zero.Find(0), kNone);
  EXPECT_EQ(without_zero.Find(5), 0u);
  EXPECT_EQ(Ip4Table().Find(0), kNone);
  EXPECT_FALSE(Ip4Table().MayHold(Ip4Table::Hash(0)));
}

// DotMask finds the dots a byte loop finds, for names of every length up to
// 64 around the 8- and 16-byte load sizes, reading only the name's own bytes.
TEST(DotMask, AgreesWithAByteLoop) {
  std::mt19937 rng(5);
  std::vector<std::string> names = {"", "a", ".", "a.", ".a", "..", "com", "example.com"};
  for (int len = 1; len <= 52; ++len) names.push_back(std::string(len, 'x') + ".example.org");
  for (int len = 1; len <= 64; ++len) names.push_back(std::string(len, '.'));
  for (int i = 0; i < 3000; ++i) {
    std::string name;
    int labels = 1 + int(rng() % 6);
    for (int l = 0; l < labels; ++l) {
      if (l) name += '.';
      int len = int(rng() % (rng() % 4 == 0 ? 30 : 12));
      for (int c = 0; c < len; ++c) name += char('a' + rng() % 26);
    }
    names.push_back(name.substr(0, 64));
  }
  for (const std::string& name : names) {
    // The name in a buffer of its own size, as a decoder hands it over:
    // AddressSanitizer would see a read past its end.
    std::unique_ptr<char[]> exact(new char[name.size()]);
    std::memcpy(exact.get(), name.data(), name.size());
    uint64_t want = 0;
    for (size_t i = 0; i < name.size(); ++i)
      if (name[i] == '.') want |= uint64_t(1) << i;
    EXPECT_EQ(DotMask(exact.get(), name.size()), want) << name;
  }
}

// The Bloom filter holds the sketches of listed suffixes, each in its own
// string; a key's parents are sketched in place, inside the key. Both must
// agree, for every length around the 4- and 8-byte loads, reading only the
// parent's own bytes (the standalone copy is an exact-size buffer).
TEST(SuffixSketch, OfAParentInPlaceEqualsOfTheParentAlone) {
  const std::string name = "0123456789abcdefghij.example-domain.org";
  for (size_t start = 0; start <= name.size(); ++start) {
    const std::string_view in_place = std::string_view(name).substr(start);
    std::unique_ptr<char[]> alone(new char[in_place.size()]);
    std::memcpy(alone.get(), in_place.data(), in_place.size());
    EXPECT_EQ(SuffixSketch(in_place), SuffixSketch(std::string_view(alone.get(), in_place.size()))) << start;
  }
  // Length and both ends count.
  EXPECT_NE(SuffixSketch("ab.org"), SuffixSketch("ab.orh"));
  EXPECT_NE(SuffixSketch("ab.org"), SuffixSketch("ac.org"));
  EXPECT_NE(SuffixSketch("x.example.org"), SuffixSketch("xx.example.org"));
  EXPECT_NE(SuffixSketch(std::string_view("a\0", 2)), SuffixSketch("a"));
}

}  // namespace
}  // namespace cordon::match::internal

namespace cordon::match::internal {
namespace {

uint64_t LowerTailByBytes(std::string_view s, size_t k) {
  uint64_t v = 0;
  for (size_t i = 0; i < k; ++i) {
    uint8_t c = uint8_t(s[s.size() - k + i]);
    if (c >= 'A' && c <= 'Z') c |= 0x20;
    v = v << 8 | c;
  }
  return v;
}

// The word-at-a-time lowercase agrees with a byte loop for every byte value
// in every position, for every tail length and around the 8-byte load.
TEST(LowerTail, AgreesWithAByteLoop) {
  for (size_t len : {3, 7, 8, 9, 16}) {
    for (size_t k = 1; k <= std::min<size_t>(len, 8); ++k) {
      for (size_t pos = 0; pos < len; ++pos) {
        for (int c = 0; c < 256; ++c) {
          std::string s(len, 'Q');
          for (size_t i = 0; i < len; ++i) s[i] = "aZ.-9\x80\xffM"[i % 8];
          s[pos] = char(c);
          ASSERT_EQ(LowerTail(s, k), LowerTailByBytes(s, k)) << len << " " << k << " " << pos << " " << c;
        }
      }
    }
  }
}

}  // namespace
}  // namespace cordon::match::internal
