// RFC 3339 timestamps as STIX and TAXII use them.
//
// A Timestamp is nanoseconds since the Unix epoch (UTC), enough for any STIX
// precision and ordered as an integer, which is how the store indexes them.
// int64 nanoseconds span 1677-09-21 to 2262-04-11. STIX allows years up to
// 9999, and "valid_until": "9999-12-31T23:59:59Z" is a common way to say
// "forever": instants outside the span saturate to its ends (kLatest,
// kEarliest), which keeps them right as bounds and in every comparison with
// an instant inside it. Where a timestamp is an identity rather than a bound
// (an object's created/modified, its version key), callers reject a
// saturated one (IsSaturated).
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

inline constexpr Timestamp kEarliest{INT64_MIN, 9}, kLatest{INT64_MAX, 9};
inline bool IsSaturated(Timestamp t) { return t.ns == INT64_MIN || t.ns == INT64_MAX; }

// `seconds` since the epoch plus `frac_ns` (0 <= frac_ns < 1e9), saturated to
// [kEarliest, kLatest] instead of overflowing; `frac_digits` as written (kept
// when saturated too).
// Inline: log decoders call it per record.
inline Timestamp FromUnixSeconds(int64_t seconds, int64_t frac_ns, int8_t frac_digits) {
  constexpr int64_t kNs = 1'000'000'000;
  // seconds * 1e9 + frac_ns within int64, decided before computing it. The
  // first second of the span (1677-09-21T00:12:43Z) is representable only
  // from its 145,224,192nd nanosecond on.
  constexpr int64_t kFirstSecond = INT64_MIN / kNs - 1, kFirstFrac = INT64_MIN % kNs + kNs;
  if (seconds > (INT64_MAX - frac_ns) / kNs) return Timestamp{kLatest.ns, frac_digits};
  if (seconds < kFirstSecond || (seconds == kFirstSecond && frac_ns < kFirstFrac)) return Timestamp{kEarliest.ns, frac_digits};
  // From below for negative seconds: kFirstSecond * 1e9 alone would overflow.
  return Timestamp{seconds >= 0 ? seconds * kNs + frac_ns : (seconds + 1) * kNs + (frac_ns - kNs), frac_digits};
}

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction]Z" (fraction of 1..9 digits); years
// outside 1677-2262 saturate (see above).
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
