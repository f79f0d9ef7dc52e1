#include "base/time.h"

#include <chrono>

namespace cordon {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

Status Bad(std::string_view text, std::string_view why) {
  std::string msg = "invalid timestamp '";
  msg.append(text).append("': ").append(why);
  msg += " (expected RFC 3339 UTC, e.g. 2016-05-12T08:17:27.000Z)";
  return absl::InvalidArgumentError(msg);
}

}  // namespace

// Howard Hinnant's days_from_civil.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Result<Timestamp> ParseTimestamp(std::string_view s) {
  int year, month, day, hour, minute, second;
  if (!Digits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &month) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || s[10] != 'T' || !Digits(s, 11, 2, &hour) ||
      s[13] != ':' || !Digits(s, 14, 2, &minute) || s[16] != ':' || !Digits(s, 17, 2, &second)) {
    return Bad(s, "malformed");
  }
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return Bad(s, "month out of range");
  int mdays = kDaysIn[month - 1] + (month == 2 && IsLeap(year) ? 1 : 0);
  if (day < 1 || day > mdays) return Bad(s, "day out of range");
  if (hour > 23 || minute > 59 || second > 60) return Bad(s, "time out of range");
  if (second == 60) second = 59;  // leap second: keep it representable
  size_t pos = 19;
  int64_t frac_ns = 0;
  int8_t frac_digits = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start >= 9) return Bad(s, "more than 9 fractional digits");
      frac_ns = frac_ns * 10 + (s[pos] - '0');
      ++pos;
    }
    frac_digits = static_cast<int8_t>(pos - start);
    if (frac_digits == 0) return Bad(s, "empty fraction");
    for (int i = frac_digits; i < 9; ++i) frac_ns *= 10;
  }
  if (pos >= s.size() || s[pos] != 'Z') return Bad(s, "must end with the UTC designator 'Z'");
  if (pos + 1 != s.size()) return Bad(s, "trailing characters");
  int64_t days = DaysFromCivil(year, month, day);
  return FromUnixSeconds(days * 86400 + hour * 3600 + minute * 60 + second, frac_ns, frac_digits);
}

namespace {

// Writes `v` as `width` decimal digits (zero-padded) at `p`.
void PutDigits(char* p, uint64_t v, int width) {
  for (int i = width - 1; i >= 0; --i, v /= 10) p[i] = static_cast<char>('0' + v % 10);
}

}  // namespace

std::string FormatTimestamp(Timestamp t, int frac_digits) {
  // Floor division, without the overflow of (ns - 999'999'999) at kEarliest.
  int64_t secs = t.ns / 1'000'000'000, frac = t.ns % 1'000'000'000;
  if (frac < 0) {
    secs -= 1;
    frac += 1'000'000'000;
  }
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (frac_digits > 9) frac_digits = 9;
  // Digits written in place (imports format one or two per indicator;
  // snprintf was most of the cost). int64 nanoseconds span the years 1677 to
  // 2262, so the year always has four digits.
  char buf[32];  // "YYYY-MM-DDTHH:MM:SS" + "." + 9 digits + "Z"
  PutDigits(buf, static_cast<uint64_t>(y), 4);
  buf[4] = '-';
  PutDigits(buf + 5, m, 2);
  buf[7] = '-';
  PutDigits(buf + 8, d, 2);
  buf[10] = 'T';
  PutDigits(buf + 11, static_cast<uint64_t>(rem / 3600), 2);
  buf[13] = ':';
  PutDigits(buf + 14, static_cast<uint64_t>(rem / 60 % 60), 2);
  buf[16] = ':';
  PutDigits(buf + 17, static_cast<uint64_t>(rem % 60), 2);
  size_t n = 19;
  if (frac_digits > 0) {
    buf[n++] = '.';
    char all[9];
    PutDigits(all, static_cast<uint64_t>(frac), 9);
    for (int i = 0; i < frac_digits; ++i) buf[n++] = all[i];
  }
  buf[n++] = 'Z';
  return std::string(buf, n);
}

Timestamp Now() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return Timestamp{us * 1000, 6};
}

}  // namespace cordon
