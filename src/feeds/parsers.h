// Line-oriented feed formats: plain lists, hosts files, FireHOL netsets and
// CSV with a column mapping. Each returns Candidates in line order; a bad
// entry is a Rejection naming its line; a structural error (a CSV mapping
// naming a column the file lacks) fails the whole parse.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "feeds/indicator.h"

namespace cordon::feeds {

// One indicator per line; '#' starts a comment (whole line, or after
// whitespace); the kind of each value is detected (DetectKind).
Parsed ParsePlain(std::string_view text);

// "ADDRESS NAME [NAME...]" (0.0.0.0 / 127.0.0.1 sinkhole style): every NAME
// is a domain indicator; the address is not. localhost-style names are
// skipped.
Parsed ParseHosts(std::string_view text);

// FireHOL .netset/.ipset: one address or CIDR block per line, '#' comments;
// anything else is rejected.
Parsed ParseNetset(std::string_view text);

struct CsvOptions {
  // "value=1,type=2,first_seen=3,labels=4,description=5": 1-based column
  // numbers or header names (names need the header line). Only value is
  // required; without type the kind is detected per value. labels is split
  // at ';'. type takes MISP attribute types or cordon kinds (FromTyped).
  std::string columns;
  // The first non-comment line is a header (implied when a name is used).
  bool header = false;
  char delimiter = ',';
};

// RFC 4180 fields (double quotes, "" inside quotes); lines starting with '#'
// are comments. InvalidArgument (nothing parsed) for a bad --columns, a header
// name not in the header, or a row with fewer fields than a mapped column.
Result<Parsed> ParseCsv(std::string_view text, const CsvOptions& options);

}  // namespace cordon::feeds
