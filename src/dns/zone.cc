#include "dns/zone.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace cordon::dns {
namespace {

// Splits at spaces and tabs, up to a ';' comment. At most kMax fields (a line
// with more is an error for every record this parser knows).
constexpr size_t kMaxFields = 10;
size_t Fields(std::string_view line, std::string_view (&out)[kMaxFields + 1]) {
  size_t n = 0, i = 0;
  while (i < line.size() && n <= kMaxFields) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    if (i == line.size() || line[i] == ';') break;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != ';') ++i;
    out[n++] = line.substr(start, i - start);
  }
  return n;
}

bool ParseU32(std::string_view s, uint32_t& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

// Labels of 1-63 bytes separated by dots; `absolute`: ends with the root dot
// ("." alone is the root itself).
Status CheckName(std::string_view name, bool absolute) {
  if (absolute) {
    if (name.empty() || name.back() != '.') return absl::InvalidArgumentError("'" + std::string(name) + "' is not absolute (no trailing dot)");
    if (name == ".") return absl::OkStatus();
    name.remove_suffix(1);
  } else if (!name.empty() && name.back() == '.') {
    return absl::InvalidArgumentError("owner '" + std::string(name) + "' must be relative to the zone");
  }
  size_t start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      size_t len = i - start;
      if (len == 0 || len > 63) {
        return absl::InvalidArgumentError("'" + std::string(name) + "' has a label of " + std::to_string(len) +
                                          " bytes (1 to 63 allowed)");
      }
      start = i + 1;
    }
  }
  return absl::OkStatus();
}

bool EqualsNoCase(std::string_view a, std::string_view b) { return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0; }

}  // namespace

Result<Zone> ParseZoneText(std::string_view text) {
  Zone zone;
  // One record per line at most: reserving spares the growing vector's copies and page faults.
  zone.records.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  bool have_soa = false;
  size_t line_no = 0;
  std::string_view f[kMaxFields + 1];
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    size_t n = Fields(line, f);
    if (n == 0) continue;
    auto error = [&](std::string_view why) {
      return absl::InvalidArgumentError("zone line " + std::to_string(line_no) + ": " + std::string(why));
    };
    if (n > kMaxFields) return error("too many fields");
    if (f[0] == "$TTL") {
      if (n != 2 || !ParseU32(f[1], zone.ttl)) return error("$TTL takes one number of seconds");
      continue;
    }
    if (f[0][0] == '$') return error("unsupported directive " + std::string(f[0]));
    std::string_view owner = f[0] == "@" ? std::string_view() : f[0];
    size_t t = 1;
    if (t < n && EqualsNoCase(f[t], "IN")) ++t;
    if (t >= n) return error("no record type");
    std::string_view type = f[t++];
    if (Status st = CheckName(owner, /*absolute=*/false); !owner.empty() && !st.ok()) return error(std::string(st.message()));
    if (EqualsNoCase(type, "SOA")) {
      if (!owner.empty()) return error("SOA owner must be the apex '@'");
      if (have_soa) return error("a second SOA");
      if (n - t != 7) return error("SOA takes mname rname serial refresh retry expire minimum");
      Soa& soa = zone.soa;
      soa.mname = f[t];
      soa.rname = f[t + 1];
      for (const auto& name : {soa.mname, soa.rname}) {
        if (Status st = CheckName(name, /*absolute=*/true); !st.ok()) return error(std::string(st.message()));
      }
      uint32_t* numbers[] = {&soa.serial, &soa.refresh, &soa.retry, &soa.expire, &soa.minimum};
      for (size_t i = 0; i < 5; ++i) {
        if (!ParseU32(f[t + 2 + i], *numbers[i])) return error("SOA field '" + std::string(f[t + 2 + i]) + "' is no number");
      }
      have_soa = true;
      continue;
    }
    Record r;
    if (EqualsNoCase(type, "CNAME")) {
      r.type = kTypeCname;
    } else if (EqualsNoCase(type, "NS")) {
      r.type = kTypeNs;
    } else {
      return error("unsupported record type '" + std::string(type) + "' (SOA, NS, CNAME)");
    }
    if (n - t != 1) return error(std::string(type) + " takes one name");
    if (Status st = CheckName(f[t], /*absolute=*/true); !st.ok()) return error(std::string(st.message()));
    r.owner = owner;
    r.target = f[t];
    zone.records.push_back(std::move(r));
  }
  if (!have_soa) return absl::InvalidArgumentError("zone has no SOA record");
  return zone;
}

}  // namespace cordon::dns
