// Splitting STIX bundles and TAXII envelopes into their objects' raw bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cordon::stix {

struct ObjectList {
  // Raw JSON text of each element of the top-level "objects" array, exactly
  // as it appears in the input (views into the caller's buffer).
  std::vector<std::string_view> objects;
  // The top-level "spec_version" if present (STIX 2.0 bundles carry "2.0").
  std::string spec_version;
  // The top-level "type" if present ("bundle" for bundles; absent in envelopes).
  std::string type;
};

// Parses a JSON document whose top level is an object with an "objects" array
// (a STIX bundle or a TAXII envelope). An absent "objects" gives an empty list.
// Errors (InvalidArgument) say what is wrong and where: not JSON (with the
// parser's reason), top level not an object, "objects" not an array, an
// element that is not an object (with its index).
//
// REQUIRES: `json` stays alive while the result is used.
Result<ObjectList> SplitObjects(std::string_view json);

}  // namespace cordon::stix
