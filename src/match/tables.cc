#include "match/tables.h"

#include <algorithm>
#include <cstring>

namespace cordon::match::internal {

void StringTable::Build(const std::vector<Entry>& entries, Filter filter) {
  size_ = entries.size();
  size_t bytes = 0;
  for (const Entry& e : entries) bytes += EntryBytes(e.key.size());
  arena_.clear();
  arena_.reserve(bytes);
  Group empty;
  std::memset(empty.tag, kEmpty, sizeof(empty.tag));
  std::fill(std::begin(empty.offset), std::end(empty.offset), 0u);
  groups_.assign(entries.empty() ? 0 : size_t(double(entries.size()) / kGroupLoad / kSlots) + 1, empty);
  filter_.Assign(filter == kFilter ? entries.size() : 0);
  for (const Entry& e : entries) {
    const uint32_t offset = uint32_t(arena_.size());
    if (e.key.size() < 0xff) {
      arena_.push_back(char(e.key.size()));
    } else {
      arena_.push_back(char(0xff));
      uint32_t len = uint32_t(e.key.size());
      arena_.insert(arena_.end(), reinterpret_cast<const char*>(&len), reinterpret_cast<const char*>(&len) + 4);
    }
    arena_.insert(arena_.end(), e.key.begin(), e.key.end());
    arena_.insert(arena_.end(), reinterpret_cast<const char*>(&e.target), reinterpret_cast<const char*>(&e.target) + 4);
    const uint64_t h = HashBytes(e.key);
    if (filter == kFilter) filter_.Add(h);
    size_t g = GroupOf(h);
    while (groups_[g].tag[kSlots - 1] != kEmpty)
      if (++g == groups_.size()) g = 0;
    Group& group = groups_[g];
    size_t i = 0;
    while (group.tag[i] != kEmpty) ++i;
    group.tag[i] = Tag(h);
    group.offset[i] = offset;
  }
}

size_t StringTable::ProbeLength(std::string_view key, uint64_t h) const {
  size_t g = GroupOf(h), n = 1;
  while (true) {
    const Group& group = groups_[g];
    for (size_t i = 0; i < kSlots && group.tag[i] != kEmpty; ++i)
      if (group.tag[i] == Tag(h) && KeyAt(group.offset[i]) == key) return n;
    if (group.tag[kSlots - 1] == kEmpty) return n;
    if (++g == groups_.size()) g = 0;
    ++n;
  }
}

void Ip4Table::Build(const std::vector<Entry>& entries) {
  size_ = entries.size();
  Bucket empty;
  std::fill(std::begin(empty.key), std::end(empty.key), 0u);
  std::fill(std::begin(empty.target), std::end(empty.target), kNone);
  buckets_.assign(entries.empty() ? 0 : size_t(double(entries.size()) / kBucketLoad / 8) + 1, empty);
  overflow_.Assign(buckets_.size());
  filter_.Assign(entries.size());
  for (const Entry& e : entries) {
    const uint64_t h = Hash(e.key);
    filter_.Add(h);
    size_t i = SlotOf(h, buckets_.size());
    while (buckets_[i].target[7] != kNone) {
      overflow_.Set(i);
      if (++i == buckets_.size()) i = 0;
    }
    Bucket& b = buckets_[i];
    int s = 0;
    while (b.target[s] != kNone) ++s;
    b.key[s] = e.key;
    b.target[s] = e.target;
  }
}

void RangeMap4::Build(std::vector<Block> blocks, std::vector<uint32_t>* postings) {
  covered_.clear();
  directory_.clear();
  lows_.clear();
  targets_.clear();
  if (blocks.empty()) return;
  // The elementary intervals: starts (ascending, starts[0] == 0) and targets.
  std::vector<uint32_t> starts, targets;
  std::sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& b) {
    if (a.first != b.first) return a.first < b.first;
    if (a.last != b.last) return a.last > b.last;  // enclosing block first
    return a.indicator < b.indicator;
  });
  struct Open {
    uint64_t last;
    size_t begin, end;  // its indicators: blocks[begin, end)
  };
  std::vector<Open> stack;
  uint32_t stack_target = kNone;  // the target of the current stack, kNone if not yet made
  bool stack_target_valid = true;
  auto target = [&]() -> uint32_t {
    if (stack_target_valid) return stack_target;
    std::vector<uint32_t> inds;
    for (const Open& o : stack)
      for (size_t i = o.begin; i < o.end; ++i)
        if (inds.empty() || std::find(inds.begin(), inds.end(), blocks[i].indicator) == inds.end())
          inds.push_back(blocks[i].indicator);
    if (inds.empty()) stack_target = kNone;
    else if (inds.size() == 1) stack_target = inds[0];
    else {
      stack_target = kPostingBit | uint32_t(postings->size());
      postings->push_back(uint32_t(inds.size()));
      postings->insert(postings->end(), inds.begin(), inds.end());
    }
    stack_target_valid = true;
    return stack_target;
  };
  auto emit = [&](uint64_t from) {  // an interval starting at `from` with the current stack
    uint32_t t = target();
    if (!targets.empty() && targets.back() == t) return;  // continues the previous interval
    if (!starts.empty() && starts.back() == from) {
      targets.back() = t;
      return;
    }
    starts.push_back(uint32_t(from));
    targets.push_back(t);
  };
  auto close_until = [&](uint64_t pos) {  // pop blocks ending before pos
    while (!stack.empty() && stack.back().last < pos) {
      uint64_t end = stack.back().last + 1;
      stack.pop_back();
      stack_target_valid = false;
      if (end <= 0xffffffffull) emit(end);
    }
  };
  emit(0);
  for (size_t i = 0; i < blocks.size();) {
    size_t j = i + 1;
    while (j < blocks.size() && blocks[j].first == blocks[i].first && blocks[j].last == blocks[i].last) ++j;
    close_until(blocks[i].first);
    stack.push_back(Open{blocks[i].last, i, j});
    stack_target_valid = false;
    emit(blocks[i].first);
    i = j;
  }
  close_until(uint64_t(1) << 32);
  covered_.assign(size_t(1) << 18, 0);
  for (size_t j = 0; j < starts.size(); ++j) {
    if (targets[j] == kNone) continue;
    const uint32_t first = starts[j] >> 8;
    const uint32_t last = (j + 1 < starts.size() ? starts[j + 1] - 1 : 0xffffffffu) >> 8;
    for (uint32_t w = first >> 6; w <= last >> 6; ++w) {
      uint64_t bits = ~uint64_t(0);
      if (w == first >> 6) bits &= ~uint64_t(0) << (first & 63);
      if (w == last >> 6) bits &= ~uint64_t(0) >> (63 - (last & 63));
      covered_[w] |= bits;
    }
  }
  directory_.resize(65537);
  lows_.reserve(65536 + starts.size() + kPad);  // a head per /16, plus each interval in the /16 it starts in
  targets_.reserve(65536 + starts.size());
  size_t k = 0;  // the interval holding the current /16's first address
  for (uint64_t hi = 0; hi < 65536; ++hi) {
    const uint64_t base = hi << 16;
    while (k + 1 < starts.size() && starts[k + 1] <= base) ++k;
    directory_[hi] = uint32_t(lows_.size());
    lows_.push_back(0);
    targets_.push_back(targets[k]);
    for (size_t j = k + 1; j < starts.size() && starts[j] < base + 65536; ++j) {
      lows_.push_back(uint16_t(starts[j]));
      targets_.push_back(targets[j]);
    }
  }
  directory_[65536] = uint32_t(lows_.size());
  lows_.resize(lows_.size() + kPad, 0xffff);
}

size_t Ip4Table::ProbeLength(uint32_t key) const {
  size_t i = SlotOf(Hash(key), buckets_.size()), n = 1;
  while (true) {
    const Bucket& b = buckets_[i];
    for (int s = 0; s < 8; ++s)
      if (b.key[s] == key && b.target[s] != kNone) return n;
    if (!overflow_.Test(i)) return n;
    if (++i == buckets_.size()) i = 0;
    ++n;
  }
}

}  // namespace cordon::match::internal
