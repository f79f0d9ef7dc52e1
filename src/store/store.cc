#include "store/store.h"

#include <algorithm>

namespace cordon::store {
namespace {
bool Allows(const std::vector<std::string>& list, const std::string& collection) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& c) { return c == "*" || c == collection; });
}
}  // namespace

bool User::CanRead(const std::string& collection) const { return Allows(can_read, collection); }
bool User::CanWrite(const std::string& collection) const { return Allows(can_write, collection); }

}  // namespace cordon::store
