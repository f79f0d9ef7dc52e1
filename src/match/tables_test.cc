#include "match/tables.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

namespace cordon::match::internal {
namespace {

std::set<uint32_t> Targets(uint32_t t, const std::vector<uint32_t>& postings) {
  if (t == kNone) return {};
  if (!(t & kPostingBit)) return {t};
  uint32_t at = t & ~kPostingBit;
  return std::set<uint32_t>(postings.begin() + at + 1, postings.begin() + at + 1 + postings[at]);
}

// Nested and adjacent blocks of every length, incl. /0 and duplicates, against
// a linear scan at block edges and random addresses.
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
  RangeMap4 map;
  std::vector<uint32_t> postings;
  map.Build(blocks, &postings);
  std::vector<uint32_t> probes = {0, 1, 0x09ffffff, 0x0a000000, 0x0a00ffff, 0x0a010000, 0x0a0100ff, 0x0a010100,
                                  0x0a0101fe, 0x0a0101ff, 0x0a010200, 0x0affffff, 0x0b000000, 0xfffffeff,
                                  0xffffff00, 0xffffffff};
  for (const auto& b : blocks) {
    probes.push_back(b.first);
    probes.push_back(b.last);
    if (b.first > 0) probes.push_back(b.first - 1);
    if (b.last < 0xffffffffu) probes.push_back(b.last + 1);
  }
  for (int i = 0; i < 20000; ++i) probes.push_back(rng());
  for (uint32_t a : probes) {
    std::set<uint32_t> expected;
    for (const auto& b : blocks)
      if (a >= b.first && a <= b.last) expected.insert(b.indicator);
    ASSERT_EQ(Targets(map.Find(a), postings), expected) << std::hex << a;
  }
}

TEST(StringTable, FindsEveryKeyAndNothingElse) {
  std::vector<std::string> keys;
  for (int i = 0; i < 5000; ++i) keys.push_back("k" + std::to_string(i) + std::string(i % 300, 'x'));
  std::vector<StringTable::Entry> entries;
  for (size_t i = 0; i < keys.size(); ++i) entries.push_back({keys[i], uint32_t(i)});
  StringTable t;
  t.Build(entries);
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(t.Find(keys[i], HashBytes(keys[i])), i);
  for (int i = 0; i < 5000; ++i) {
    std::string miss = "m" + std::to_string(i);
    EXPECT_EQ(t.Find(miss, HashBytes(miss)), kNone);
  }
  EXPECT_EQ(t.Find("", HashBytes("")), kNone);
}

}  // namespace
}  // namespace cordon::match::internal
