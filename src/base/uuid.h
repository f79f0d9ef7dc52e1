// UUIDs as STIX identifiers use them.
#pragma once

#include <string>
#include <string_view>

namespace cordon {

// True if `s` is a canonical (lowercase or uppercase hex, 8-4-4-4-12) UUID.
bool IsUuid(std::string_view s);

// The RFC 4122 version digit of a valid UUID (e.g. 4 for random UUIDs).
int UuidVersion(std::string_view s);

// A random (version 4) UUID in lowercase, from the OS's CSPRNG.
std::string NewUuid4();

// The name-based (version 5, SHA-1) UUID of `name` in `namespace_uuid` (a
// valid UUID), RFC 4122 §4.3: the same inputs always give the same id. STIX
// uses it for deterministic SCO ids (namespace kStixScoNamespace); cordon for
// ids derived from their content (feed indicators, aggregated sightings).
std::string NewUuid5(std::string_view namespace_uuid, std::string_view name);

// The namespace STIX 2.1 §2.9 fixes for SCO identifiers.
inline constexpr std::string_view kStixScoNamespace = "00abedb4-aa42-466c-9c01-fed23315a9b7";

}  // namespace cordon
