// From an indicator's pattern to the values an enforcement point can block.
#pragma once

#include <string_view>
#include <vector>

#include "base/status.h"
#include "export/export.h"

namespace cordon::exporter {

// The values of `pattern_text` when they decide it: the pattern must be an OR
// of equality tests (=, IN) on domain-name/ipv4-addr/ipv6-addr/url/email-addr
// values and file hashes, ISSUBSET on addresses (CIDR), or LIKE '%.name' on
// domain names (subtree), without qualifiers. Anything else (AND, NOT,
// FOLLOWEDBY, other paths) would over-block if reduced to its values:
// FailedPrecondition with the reason. Values are normalised; `indicator` is
// set on every entry.
Result<std::vector<Entry>> ValuesOf(std::string_view pattern_text, bool stix20, uint32_t indicator);

}  // namespace cordon::exporter
