// STIX 2.0 / 2.1 objects: validation and the facts the store indexes.
//
// An object is kept as the JSON bytes that arrived; validation reads them once
// and returns an ObjectInfo (the columns queries need) plus every Problem found
// (not only the first). Thread-safe: all functions are pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace cordon::stix {

enum class SpecVersion { k20, k21 };

// "2.0" / "2.1".
std::string_view SpecVersionName(SpecVersion v);

// One reason an object is invalid.
struct Problem {
  std::string object_id;  // the object's "id" as given ("" if absent or not a string)
  std::string property;   // JSON path of the offending property, e.g. "kill_chain_phases[0].phase_name";
                          // "" when the object as a whole is at fault (e.g. not a JSON object)
  std::string reason;     // why, in a sentence fragment, e.g. "must be an RFC 3339 UTC timestamp"

  // "<object_id>: <property>: <reason>" (parts that are empty are left out).
  std::string ToString() const;
};

// TLP 2.0 (and TLP 1.0 marking-definition ids, mapped to their 2.0 levels).
enum class Tlp { kNone, kClear, kGreen, kAmber, kAmberStrict, kRed };

// The TLP level a marking-definition id stands for (TLP 2.0 and the STIX 2.x
// predefined TLP 1.0 ids); kNone for any other id.
Tlp TlpOfMarking(std::string_view marking_definition_id);
// The TLP 2.0 marking-definition id of a level ("" for kNone). Tlp's
// enumerators are in order of restriction, so std::max picks the stricter.
std::string_view TlpMarkingId(Tlp tlp);

// Facts about a valid object that the store keeps beside its bytes.
struct ObjectInfo {
  std::string id;    // "<type>--<uuid>"
  std::string type;  // e.g. "indicator"
  SpecVersion spec_version = SpecVersion::k21;
  std::optional<Timestamp> created;
  std::optional<Timestamp> modified;
  bool revoked = false;
  std::optional<int> confidence;
  std::vector<std::string> object_marking_refs;
  // The most restrictive TLP among object_marking_refs (kNone if unmarked).
  Tlp tlp = Tlp::kNone;

  // The version key TAXII uses: modified, else created, else 0 (objects such
  // as SCOs that have neither have one version only).
  Timestamp version() const { return modified ? *modified : created ? *created : Timestamp{}; }
};

// Which STIX version to assume for an object that carries no spec_version
// (STIX 2.0 objects never do; in 2.1 only SCOs may leave it out).
enum class DefaultVersion {
  kInfer,  // SDO/SRO/marking without spec_version => 2.0; an SCO => 2.1
  k20,     // everything without spec_version is 2.0 (e.g. inside a 2.0 bundle)
};

struct Validated {
  ObjectInfo info;                // filled as far as the object allowed
  std::vector<Problem> problems;  // empty <=> the object is valid
  bool ok() const { return problems.empty(); }
};

// Validates one object (a JSON object's text) under the rules of its STIX
// version: identifier syntax and type prefix, timestamps, created <= modified,
// spec_version, required properties per type, types of common properties,
// reference properties pointing to the right object types, open vocabularies
// accepted, custom (x_ / x- prefixed or any extra) properties and extensions
// kept (not rejected), indicator patterns parsed by cordon::pattern.
Validated ValidateObject(std::string_view json, DefaultVersion default_version = DefaultVersion::kInfer);

}  // namespace cordon::stix
