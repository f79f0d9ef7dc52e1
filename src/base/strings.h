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

// The length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF) at s[i], 1 for ASCII; 0 if none starts
// there. REQUIRES: i < s.size().
size_t Utf8SequenceLength(std::string_view s, size_t i);

// True if all of `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

}  // namespace cordon
