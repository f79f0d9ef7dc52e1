// Pure parsing of TAXII 2.1 request parts: URL path and query, filters,
// media types. No sockets, no store: unit-testable on strings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace cordon::taxii {

inline constexpr std::string_view kTaxiiMediaType = "application/taxii+json;version=2.1";

// Splits a request target into path segments (percent-decoded, empty segments
// dropped) and query parameters (percent-decoded keys and values, in order).
struct Target {
  std::vector<std::string> segments;
  std::vector<std::pair<std::string, std::string>> query;
  bool trailing_slash = false;
};
Result<Target> ParseTarget(std::string_view target);

// The filters and paging parameters of objects/manifest/versions requests.
struct Filters {
  std::optional<Timestamp> added_after;
  std::vector<std::string> ids, types, spec_versions;
  store::VersionFilter version;
  std::optional<int> limit;
  int64_t next = 0;  // cursor decoded from the `next` parameter
};

// The `next` value a page hands out for a store cursor, and back. Sealed
// (libsodium secretbox under a key drawn when the process starts): a raw
// cursor is the store's global row number, whose gaps would tell a partner
// how many objects it is not shown, here or in collections it cannot read.
// A value from before a restart no longer opens (400: start again without
// `next`), nor does one altered or made up.
std::string SealCursor(int64_t cursor);
Result<int64_t> OpenCursor(std::string_view next);

// Which query parameters an endpoint accepts (TAXII 2.1 lists them per endpoint).
struct AllowedFilters {
  bool id = true, type = true, version = true, spec_version = true;
};

// InvalidArgument naming the parameter and why for malformed values,
// unknown match[...] fields and parameters the endpoint does not support.
Result<Filters> ParseFilters(const std::vector<std::pair<std::string, std::string>>& query,
                             AllowedFilters allowed);

// Content negotiation. True if an Accept header admits TAXII 2.1 JSON
// (application/taxii+json with version 2.1 or none, application/*, */*;
// an absent header admits anything).
bool AcceptsTaxii(std::string_view accept);

// True if a POST's Content-Type is TAXII 2.1 JSON.
bool IsTaxiiContentType(std::string_view content_type);

}  // namespace cordon::taxii
