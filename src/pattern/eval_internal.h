// Internal helpers shared by the evaluator's source files (not public API).
#pragma once

#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace cordon::pattern::internal {

// Parses a timestamp the way the reference matcher does (Python strptime with
// "%Y-%m-%dT%H:%M:%S[.%f]Z" after refusing any lower-case letter): month, day,
// hour, minute and second may have 1 or 2 digits, the fraction 1-6 digits
// (longer fractions are cut to microseconds), the date must exist, seconds
// 0-59, years 1-9999. Returns microseconds since the epoch.
Result<int64_t> ParseRefTimestamp(std::string_view text);

}  // namespace cordon::pattern::internal
