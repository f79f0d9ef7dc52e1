#include "match/tables.h"

namespace cordon::match::internal {

void StringTable::Build(const std::vector<Entry>& entries) {
  size_ = entries.size();
  size_t bytes = 0;
  for (const Entry& e : entries) bytes += e.key.size() + (e.key.size() < 0xff ? 1 : 5);
  arena_.clear();
  arena_.reserve(bytes);
  slots_.assign(Capacity(entries.size()), Slot{0, kNone, kNone});
  for (const Entry& e : entries) {
    uint32_t offset = uint32_t(arena_.size());
    if (e.key.size() < 0xff) {
      arena_.push_back(char(e.key.size()));
    } else {
      arena_.push_back(char(0xff));
      uint32_t len = uint32_t(e.key.size());
      arena_.append(reinterpret_cast<const char*>(&len), 4);
    }
    arena_.append(e.key);
    uint64_t h = HashBytes(e.key);
    size_t i = SlotOf(h, slots_.size());
    while (slots_[i].offset != kNone)
      if (++i == slots_.size()) i = 0;
    slots_[i] = Slot{uint32_t(h), offset, e.target};
  }
}

}  // namespace cordon::match::internal
