// STIX patterning: parsing and validation of pattern text (STIX 2.0 and 2.1).
//
// Depends on base alone, so that stix validation can check an indicator's
// pattern; the evaluator (issue: matcher) builds on the AST declared here.
// Thread-safe: all functions are pure.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace cordon::pattern {

enum class Version { k20, k21 };

// Checks `text` against the full STIX patterning grammar of `version`
// (observation expressions, AND/OR/FOLLOWEDBY, qualifiers WITHIN/REPEATS/
// START..STOP, comparison operators incl. NOT, object paths with list indexes,
// quoted keys, extensions, typed constants) plus the semantic rules the
// specification states (e.g. object type and property names, timestamps in
// t'...' constants, REPEATS/WITHIN positive integers, STOP after START).
//
// Returns OK, or InvalidArgument whose message starts with
// "column N: " (N is 1-based, counted in characters of `text`) and then
// says what was expected or why the construct is invalid.
Status Validate(std::string_view text, Version version);

}  // namespace cordon::pattern
