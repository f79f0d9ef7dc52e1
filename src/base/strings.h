// Small std::string_view helpers. (Debian's Abseil has its own string_view type
// that does not interoperate with std::string_view, so cordon uses these.)
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cordon {

enum class EmptyParts { kKeep, kSkip };

// Splits `s` at every `sep`; views point into `s`.
std::vector<std::string_view> Split(std::string_view s, char sep, EmptyParts empty = EmptyParts::kKeep);

// `s` without leading and trailing ASCII whitespace.
std::string_view Trim(std::string_view s);

// ASCII lowercase copy.
std::string ToLower(std::string_view s);

}  // namespace cordon
