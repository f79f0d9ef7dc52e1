// RFC 3339 timestamps as STIX and TAXII use them.
//
// A Timestamp is nanoseconds since the Unix epoch (UTC), enough for any STIX
// precision and ordered as an integer, which is how the store indexes them.
// Parsing is strict: STIX requires the UTC designator "Z"; lowercase "t"/"z",
// offsets and missing seconds are rejected with the reason in the status.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cordon {

struct Timestamp {
  int64_t ns = 0;  // nanoseconds since 1970-01-01T00:00:00Z
  // Digits of the fractional second as written (0..9); used to re-format a
  // value with the precision it arrived with.
  int8_t frac_digits = 0;

  friend bool operator==(Timestamp a, Timestamp b) { return a.ns == b.ns; }
  friend auto operator<=>(Timestamp a, Timestamp b) { return a.ns <=> b.ns; }
};

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (fraction of 1..9 digits).
Result<Timestamp> ParseTimestamp(std::string_view text);

// Formats with exactly `frac_digits` fractional digits (0 = none); used by TAXII
// with 6 (microseconds), the precision its date_added values carry.
std::string FormatTimestamp(Timestamp t, int frac_digits);

// Formats with the precision the value was parsed with.
inline std::string FormatTimestamp(Timestamp t) { return FormatTimestamp(t, t.frac_digits); }

// Days from 1970-01-01 to a proleptic Gregorian date (negative before it).
// Day numbers past the month's end roll over into the next month.
// REQUIRES: 1 <= month <= 12, 1 <= day <= 31.
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

// The wall clock now, microsecond precision.
Timestamp Now();

}  // namespace cordon
