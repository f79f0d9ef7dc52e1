// STIX patterning: parsing and validation of pattern text (STIX 2.0 and 2.1).
//
// Depends on base alone, so that stix validation can check an indicator's
// pattern; the evaluator (issue: matcher) builds on the AST declared here.
// Thread-safe: all functions are pure.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "pattern/ast.h"

namespace cordon::pattern {

// Parses `text` as a STIX pattern of `version` into its syntax tree.
//
// Checks the grammar (the OASIS STIXPattern.g4 of each version) and the form
// of every literal: t'...' must be "YYYY-MM-DDTHH:MM:SS[.f+]Z" with month
// 01-12, day 01-31, hour 00-23, minute 00-59, second 00-60 (no calendar check,
// as upstream; Feb 30 becomes Mar 1 in Constant::timestamp); h'...' an even
// number of hex digits; b'...' padded base64; strings may only escape \' and
// \\; integers must fit int64. Keywords are upper case, true/false lower case.
// Version differences: EXISTS is 2.1 only; START/STOP take t'...' in 2.1 and
// t'...' or '...' in 2.0.
//
// Semantic rules (hash values, duplicate qualifiers, positive counts) are
// left to Validate, so that an evaluator may still run what it can.
// Errors: InvalidArgument "column N: ...", as for Validate.
Result<Pattern> Parse(std::string_view text, Version version);

// Checks `text` against the full STIX patterning grammar of `version`
// (observation expressions, AND/OR/FOLLOWEDBY, qualifiers WITHIN/REPEATS/
// START..STOP, comparison operators incl. NOT, object paths with list indexes,
// quoted keys, extensions, typed constants) plus the semantic rules the
// specification and the OASIS validator state:
//  * Parse succeeds (see above);
//  * a value compared with a `hashes` key of a known algorithm (MD5, SHA-1,
//    SHA-256, SHA3-*, SSDEEP, ...) has that algorithm's form;
//  * REPEATS counts and WITHIN durations are > 0;
//  * 2.1: no qualifier type (WITHIN, REPEATS, START/STOP) twice directly on
//    the same [...] observation (a parenthesised group may repeat them).
// Not checked, as upstream does not: START before STOP (an empty window is
// valid and matches nothing), object type spelling beyond the grammar.
//
// Returns OK, or InvalidArgument whose message starts with
// "column N: " (N is 1-based, counted in characters of `text`) and then
// says what was expected or why the construct is invalid.
Status Validate(std::string_view text, Version version);

// The semantic half of Validate, for a pattern already parsed (same rules and
// message form; columns are those recorded in the tree).
Status ValidateSemantics(const Pattern& pattern);

}  // namespace cordon::pattern
