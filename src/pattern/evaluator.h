// STIX pattern evaluation: does a parsed pattern match a set of observations?
//
// Semantics follow the STIX 2.1 specification (section 9, "STIX Patterning")
// and, wherever the specification leaves room, the OASIS reference matcher
// (oasis-open/cti-pattern-matcher, stix2matcher/matcher.py):
//
//  * Comparison expressions ([...]) are tested against the cyber observables
//    of ONE observation. A comparison selects the objects of its object type,
//    walks its path (key steps, [n], [*] which is existential, and `_ref` /
//    `_refs` steps which continue in the referenced object), and passes for an
//    object if ANY selected value passes the test. AND inside [...] requires
//    the same root object to pass both sides (the reference matcher's rule);
//    OR takes either. A path that selects nothing fails the test, with or
//    without NOT (NOT negates the test of each value, not the absence).
//  * Properties named *_hex / *_bin are decoded to binary before comparison.
//  * Type rules: numbers compare with numbers, strings with strings, booleans
//    only for (in)equality with booleans, binary with binary or with a string
//    whose code points are all < 256 (compared as bytes), t'...' with a JSON
//    timestamp string (an invalid one is an error). Other mixes are unequal,
//    and never ordered (< <= > >= are false even under NOT).
//  * LIKE (SQL % and _) and MATCHES (regular expression, Python `re.search`
//    semantics: unanchored) compare the NFC forms of both sides; MATCHES also
//    applies to binary values byte-wise when the regex is all Latin-1.
//  * ISSUBSET / ISSUPERSET: IPv4 (dotted quad, also the inet_aton forms) and
//    IPv6 addresses and CIDR blocks; an unparsable address is an error.
//  * EXISTS (2.1): the path selects at least one value (a negated EXISTS,
//    which the grammar has no syntax for, would select objects of the type
//    for which it selects none).
//  * Observation expressions bind distinct observation instances (an
//    observed-data with number_observed N provides N instances): AND and
//    FOLLOWEDBY need disjoint bindings; FOLLOWEDBY also needs the left side's
//    latest first_observed <= the right side's earliest last_observed; WITHIN
//    needs one window of the given length touching every bound interval;
//    REPEATS n needs n pairwise disjoint bindings of its operand; START/STOP
//    needs every bound interval to overlap [start, stop).
//
// Thread-safe: an ObservationSet is immutable after LoadObserved and may be
// shared by concurrent Evaluate calls.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/status.h"
#include "base/time.h"
#include "pattern/ast.h"

namespace cordon::pattern {

// A JSON value as loaded from observed data (numbers keep int/float apart).
// Its strings are views into the text buffers of the ObservationSet that
// holds it (LoadObserved: one allocation for all of them), valid while that
// set lives.
struct JsonValue {
  enum class Kind : uint8_t { kNull, kBool, kInt, kFloat, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool bool_value = false;
  int64_t int_value = 0;
  double float_value = 0;
  std::string_view string_value;      // kString (UTF-8)
  std::vector<JsonValue> items;       // kArray elements; kObject member values
  std::vector<std::string_view> keys;  // kObject member names, parallel to items

  // kObject: the member named `key` (the first, if repeated), else nullptr.
  const JsonValue* Find(std::string_view key) const;
};

// One observed-data SDO (or a bare SCO standing for one observation).
struct Observation {
  std::string id;  // the observed-data id (a bare SCO: its own id); may be ""
  Timestamp first_observed;  // saturated past year 2262
  Timestamp last_observed;
  // The same in microseconds (the reference matcher's precision), which
  // covers years 1-9999; the evaluator uses these.
  int64_t first_observed_us = 0;
  int64_t last_observed_us = 0;
  int64_t number_observed = 1;
  // The cyber observables, in input order: STIX 2.0 embedded `objects`
  // (keys "0", "1", ...) or the SCOs of 2.1 `object_refs` (keys = SCO ids).
  // Views into the set's text, like JsonValue's strings.
  std::vector<std::string_view> object_keys;
  std::vector<const JsonValue*> objects;  // parallel to object_keys
};

class ObservedDataBuilder;

class ObservationSet {
 public:
  ObservationSet() = default;
  ObservationSet(ObservationSet&&) = default;
  ObservationSet& operator=(ObservationSet&&) = default;
  ObservationSet(const ObservationSet&) = delete;
  ObservationSet& operator=(const ObservationSet&) = delete;

  const std::vector<Observation>& observations() const { return observations_; }
  size_t size() const { return observations_.size(); }

  // Resolves a `_ref` value seen in observation `obs`: first among that
  // observation's objects (by key), then among all objects of the input that
  // carry that "id" (2.1 SCOs). nullptr if it does not resolve.
  const JsonValue* Resolve(size_t obs, std::string_view ref) const;

 private:
  friend Result<ObservationSet> LoadObserved(std::string_view json, Version version);
  friend class ObservedDataBuilder;
  Version version_ = Version::k21;
  // Every string and member name of the values, back to back in buffers that
  // never move (LoadObserved: one, the input's size, which holds them all
  // unescaped).
  std::vector<std::unique_ptr<char[]>> text_;
  std::vector<std::unique_ptr<JsonValue>> storage_;  // owns every loaded object
  std::vector<Observation> observations_;
  // Keys are views into storage_'s values (ids, embedded object keys), which
  // never move once loaded: no key is copied.
  std::vector<absl::flat_hash_map<std::string_view, const JsonValue*>> local_;  // per observation
  absl::flat_hash_map<std::string_view, const JsonValue*> by_id_;
};

// Loads observed data: a JSON array, a bundle, or a single object; array items
// may themselves be bundles. Accepted objects:
//  * observed-data with embedded `objects` (2.0, and deprecated 2.1 form)
//    and/or `object_refs` naming SCOs present anywhere in the input; any
//    other object with number_observed is taken as such a container too;
//  * when the input holds no observed-data at all, every other object that is
//    not a known SDO/SRO/meta object is a bare SCO and stands for one
//    observation (number_observed 1, first = last = the load time).
// Objects the observed-data do not reference are otherwise ignored.
// Errors (InvalidArgument): malformed JSON, an observed-data without
// first_observed / last_observed / number_observed, timestamps that are not
// "YYYY-MM-DDTHH:MM:SS[.ffffff]Z", number_observed < 1, first > last.
Result<ObservationSet> LoadObserved(std::string_view json, Version version);

// Builds, without JSON, the ObservationSet LoadObserved makes of one
// observed-data (first = last observed = `time` cut to microseconds,
// number_observed 1) whose object_refs name every object added, each a 2.1
// SCO {"type": ..., "spec_version": "2.1", "id": ..., members}. A matcher
// builds one for each decoded record a pattern must be evaluated against:
// writing the record as JSON and parsing it again cost three quarters of an
// evaluation. Every string given is copied.
class ObservedDataBuilder {
 public:
  // `objects`: how many AddObject calls to make room for (a hint).
  ObservedDataBuilder(Version version, std::string_view id, Timestamp time, size_t objects = 0);
  // A new SCO, to add members to; stays valid until Finish. Ids must be distinct.
  JsonValue* AddObject(std::string_view type, std::string_view id);
  // Appends member `name` to `object` (an SCO or an object member) and
  // returns it. A pointer returned by Add stays valid until the next Add
  // to the same object.
  JsonValue* Add(JsonValue* object, std::string_view name, JsonValue value);
  JsonValue String(std::string_view text);
  static JsonValue Int(int64_t v);
  static JsonValue Object();
  static JsonValue Array();
  ObservationSet Finish() &&;

 private:
  std::string_view Copy(std::string_view text);
  ObservationSet set_;
  Observation observation_;
  char* free_ = nullptr;  // in set_.text_.back()
  size_t room_ = 0;
};

struct MatchResult {
  bool matched = false;
  // The observations bound by the first match found: indexes into
  // ObservationSet::observations() (ascending, distinct) and their ids.
  std::vector<size_t> observations;
  std::vector<std::string> observed_data_ids;
};

// Evaluates `pattern` against `observed`.
// Errors (InvalidArgument, "evaluation: ..."), where the reference matcher
// raises MatcherException: an IN set mixing types (other than int/float), a
// JSON string compared with t'...' that is not a valid timestamp, an
// unparsable IP address or CIDR block for ISSUBSET/ISSUPERSET, an invalid
// regular expression, a `_ref` value that is not a string or a `_refs` value
// that is not a list of strings, invalid *_hex / *_bin data, an invalid
// START/STOP or t'...' timestamp (e.g. Feb 30), REPEATS < 1 or WITHIN <= 0.
// ResourceExhausted if the binding search exceeds its step budget (2e8 steps;
// only pathological REPEATS / AND combinations over many observations).
//
// Deliberate differences from the reference matcher, where it fails for
// Python reasons or lacks a feature: IPv6 addresses and blocks are supported
// (the reference only parses IPv4); binary data that is not valid UTF-8 never
// matches LIKE (the reference raises UnicodeDecodeError); regexes run on ICU,
// with Python's (?P<name>), (?P=name) and \Z translated.
Result<MatchResult> Evaluate(const Pattern& pattern, const ObservationSet& observed);

}  // namespace cordon::pattern
