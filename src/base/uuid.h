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

}  // namespace cordon
