// From an indicator's pattern to the values an enforcement point can block.
#pragma once

#include <string_view>
#include <vector>

#include "base/status.h"
#include "export/export.h"

namespace cordon::exporter {

// The values of `pattern_text` when they decide it (match::ExtractAtoms with
// AtomSet::decides: one observation, no qualifiers, a test or an OR of tests):
// exact domains, URLs, e-mail addresses and file hashes, addresses and CIDR
// blocks, domain suffixes (LIKE '%.name'). Anything else (AND, FOLLOWEDBY,
// regex-like LIKE/MATCHES) would over-block if reduced to its values:
// FailedPrecondition with the reason. Atoms no enforcement point takes
// (ports, JA3, certificates) are left out. Values are normalised, appended to
// `out` with `indicator` set; on error `out` is left as it was.
Status AppendValuesOf(std::string_view pattern_text, bool stix20, uint32_t indicator, std::vector<Entry>& out);

}  // namespace cordon::exporter
