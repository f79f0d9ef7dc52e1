// RFC 8785 JSON Canonicalization Scheme (JCS): the one byte form of a JSON
// value that signatures are computed over. Object members sorted by their
// names' UTF-16 code units, no whitespace, numbers as ECMAScript's
// Number.prototype.toString prints an IEEE 754 double, strings with the
// minimal escaping of ECMAScript's JSON.stringify.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace cordon::federation {

// The canonical form of `json`. InvalidArgument if it is not valid JSON or
// holds a number JCS cannot represent (NaN/Infinity cannot occur in JSON;
// integers beyond 2^53 are rounded to the nearest double, as RFC 8785 requires).
Result<std::string> Canonicalize(std::string_view json);

// Canonical form of a JSON object with one member of its top-level
// "extensions" object left out (and "extensions" itself left out if that was
// its only member): the bytes a detached signature kept in that extension covers.
// `*had_member` tells whether the member was present.
Result<std::string> CanonicalizeWithout(std::string_view json_object, std::string_view extension_key,
                                        bool* had_member);

// ECMAScript's Number.prototype.toString(d) (RFC 8785 §3.2.2.3). `d` finite.
std::string FormatEs6Number(double d);

}  // namespace cordon::federation
