// The syntax tree of a STIX pattern, as produced by pattern::Parse.
//
// Layout: a Pattern owns two flat arenas, one of observation-expression nodes
// and one of comparison-expression nodes; nodes refer to their children by
// index into the arena of their kind. This keeps a parsed pattern to a handful
// of allocations and makes it cheap to move and to walk from an evaluator.
//
// Shape rules (what an evaluator may rely on):
//  * AND / OR / FOLLOWEDBY chains of the same operator at the same nesting
//    level are flattened into one n-ary node (children in source order, >= 2).
//    Parentheses that carry no qualifier are transparent (no node).
//  * A parenthesized observation expression followed by qualifiers becomes a
//    kGroup node with exactly one child and the qualifiers.
//  * Qualifiers are stored in source order, i.e. innermost first:
//    "[a] REPEATS 2 TIMES WITHIN 5 SECONDS" applies REPEATS, then WITHIN.
//  * Every node records the 1-based column (in characters) where it starts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/time.h"

namespace cordon::pattern {

enum class Version { k20, k21 };

// One step of an object path after the object type: a property key (quoted
// or not; quotes and escapes removed), a list index, or the list wildcard [*].
struct PathStep {
  enum class Kind : uint8_t { kKey, kIndex, kAnyIndex };
  Kind kind = Kind::kKey;
  int64_t index = 0;  // kIndex only (may be negative: the grammar allows it)
  std::string key;    // kKey only

  static PathStep Key(std::string k) { return {Kind::kKey, 0, std::move(k)}; }
  static PathStep Index(int64_t i) { return {Kind::kIndex, i, {}}; }
  static PathStep AnyIndex() { return {Kind::kAnyIndex, 0, {}}; }
  friend bool operator==(const PathStep&, const PathStep&) = default;
};

// "file:hashes.'SHA-256'" -> object_type "file", steps [Key hashes, Key SHA-256].
// steps is never empty and steps[0] is always a key.
struct ObjectPath {
  std::string object_type;
  std::vector<PathStep> steps;
};

// A typed literal.
struct Constant {
  enum class Type : uint8_t { kInt, kFloat, kString, kBool, kHex, kBinary, kTimestamp };
  Type type = Type::kInt;
  int64_t int_value = 0;      // kInt; kBool (0/1)
  double float_value = 0;     // kFloat
  // kString: the unescaped text (UTF-8 as written). kHex / kBinary: the
  // decoded bytes. kTimestamp: the text between the quotes as written.
  std::string bytes;
  Timestamp timestamp;        // kTimestamp (calendar-normalised, see Parse)
};

enum class CompareOp : uint8_t {
  kEqual, kNotEqual, kLess, kLessEqual, kGreater, kGreaterEqual,
  kIn, kLike, kMatches, kIsSubset, kIsSuperset, kExists,
};

// "=", "!=", "<", ..., "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS".
const char* CompareOpName(CompareOp op);

// One property test: `path [NOT] op value(s)` or `EXISTS path`.
struct Comparison {
  ObjectPath path;
  CompareOp op = CompareOp::kEqual;
  bool negated = false;          // NOT before the operator
  std::vector<Constant> values;  // 1 value; IN: 0..n; EXISTS: none
};

struct ComparisonNode {
  enum class Kind : uint8_t { kAnd, kOr, kTest };
  Kind kind = Kind::kTest;
  int column = 0;
  std::vector<uint32_t> children;  // kAnd / kOr: indexes into comparisons
  Comparison test;                 // kTest
};

struct Qualifier {
  enum class Kind : uint8_t { kWithin, kRepeats, kStartStop };
  Kind kind = Kind::kWithin;
  int column = 0;
  double within_seconds = 0;  // kWithin
  int64_t repeats = 0;        // kRepeats
  // kStartStop: kTimestamp constants; STIX 2.0 also allows string constants
  // ('...'), kept as written (kString) and not checked by the parser.
  Constant start, stop;
};

struct ObservationNode {
  enum class Kind : uint8_t { kObservation, kAnd, kOr, kFollowedBy, kGroup };
  Kind kind = Kind::kObservation;
  int column = 0;
  uint32_t comparison = 0;         // kObservation: root index into comparisons
  std::vector<uint32_t> children;  // others: indexes into observations
  std::vector<Qualifier> qualifiers;
};

struct Pattern {
  Version version = Version::k21;
  uint32_t root = 0;  // index into observations
  std::vector<ObservationNode> observations;
  std::vector<ComparisonNode> comparisons;
};

// A canonical, fully parenthesised rendering, for tests and logs; e.g.
// "([file:name = 'a'] AND [x:y[*] NOT IN (1, 2)]) WITHIN 5 SECONDS".
// Binary and hex constants render as h'..', timestamps as t'..'.
std::string DebugString(const Pattern& p);

}  // namespace cordon::pattern
