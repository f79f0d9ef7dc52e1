#include "feeds/indicator.h"

#include "base/strings.h"
#include "normalize/normalize.h"

namespace cordon::feeds {
namespace {

using normalize::HashAlgo;

Status Invalid(const std::string& m) { return absl::InvalidArgumentError(m); }

std::string_view HashKey(HashAlgo a) {
  switch (a) {
    case HashAlgo::kMd5: return "MD5";
    case HashAlgo::kSha1: return "'SHA-1'";
    case HashAlgo::kSha256: return "'SHA-256'";
    case HashAlgo::kSha512: return "'SHA-512'";
  }
  return "MD5";
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

// Address or block: the SCO type and canonical text. A /32 (/128) block is an address.
struct IpValue {
  std::string text;
  bool v4;
  bool block;
};
Result<IpValue> ParseIpOrCidr(std::string_view raw) {
  CORDON_ASSIGN_OR_RETURN(normalize::IpPrefix p, normalize::Cidr(raw));
  if (p.length == 128) return IpValue{normalize::FormatIp(p.addr), p.addr.IsV4(), false};
  return IpValue{normalize::FormatPrefix(p), p.IsV4(), true};
}

Candidate Make(std::string value, std::string pattern) {
  Candidate c;
  c.value = std::move(value);
  c.pattern = std::move(pattern);
  return c;
}

Result<Candidate> IpCandidate(std::string_view raw) {
  CORDON_ASSIGN_OR_RETURN(IpValue ip, ParseIpOrCidr(raw));
  Candidate c = Make(ip.text, std::string("[") + (ip.v4 ? "ipv4-addr" : "ipv6-addr") + ":value = '" +
                                  PatternLiteral(ip.text) + "']");
  c.checks.push_back({ip.block ? ValueKind::kCidr : ValueKind::kIp, ip.text});
  return c;
}

Result<Candidate> HashCandidate(HashAlgo algo, std::string_view raw) {
  CORDON_ASSIGN_OR_RETURN(std::string h, normalize::Hash(Trim(raw), algo));
  Candidate c = Make(h, "[file:hashes." + std::string(HashKey(algo)) + " = '" + h + "']");
  c.checks.push_back({ValueKind::kHash, h});
  return c;
}

Result<HashAlgo> HashByLength(std::string_view raw) {
  switch (raw.size()) {
    case 32: return HashAlgo::kMd5;
    case 40: return HashAlgo::kSha1;
    case 64: return HashAlgo::kSha256;
    case 128: return HashAlgo::kSha512;
  }
  return Invalid("a hash has 32, 40, 64 or 128 hex digits, this has " + std::to_string(raw.size()));
}

// "left|right" of MISP composite types.
Result<std::pair<std::string_view, std::string_view>> SplitPair(std::string_view type, std::string_view raw) {
  size_t bar = raw.find('|');
  if (bar == std::string_view::npos) {
    return Invalid("a '" + std::string(type) + "' value must be two parts separated by '|'");
  }
  return std::pair{Trim(raw.substr(0, bar)), Trim(raw.substr(bar + 1))};
}

Result<int> ParsePort(std::string_view s) {
  int port = 0;
  if (s.empty() || s.size() > 5) return Invalid("port '" + std::string(s) + "' is not a number 0..65535");
  for (char c : s) {
    if (c < '0' || c > '9') return Invalid("port '" + std::string(s) + "' is not a number 0..65535");
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return Invalid("port '" + std::string(s) + "' is not a number 0..65535");
  return port;
}

}  // namespace

std::string PatternLiteral(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

Result<Candidate> FromKind(ValueKind kind, std::string_view raw) {
  raw = Trim(raw);
  switch (kind) {
    case ValueKind::kDomain: {
      CORDON_ASSIGN_OR_RETURN(std::string d, normalize::Domain(raw));
      Candidate c = Make(d, "[domain-name:value = '" + PatternLiteral(d) + "']");
      c.checks.push_back({ValueKind::kDomain, d});
      return c;
    }
    case ValueKind::kIp:
    case ValueKind::kCidr:
      return IpCandidate(raw);
    case ValueKind::kUrl: {
      CORDON_ASSIGN_OR_RETURN(std::string u, normalize::Url(raw));
      Candidate c = Make(u, "[url:value = '" + PatternLiteral(u) + "']");
      c.checks.push_back({ValueKind::kUrl, u});
      return c;
    }
    case ValueKind::kEmail: {
      CORDON_ASSIGN_OR_RETURN(std::string e, normalize::Email(raw));
      Candidate c = Make(e, "[email-addr:value = '" + PatternLiteral(e) + "']");
      c.checks.push_back({ValueKind::kEmail, e});
      return c;
    }
    case ValueKind::kHash: {
      CORDON_ASSIGN_OR_RETURN(HashAlgo algo, HashByLength(raw));
      return HashCandidate(algo, raw);
    }
  }
  return Invalid("unknown kind");
}

ValueKind DetectKind(std::string_view raw) {
  raw = Trim(raw);
  if (raw.find("://") != std::string_view::npos) return ValueKind::kUrl;
  if ((raw.size() == 32 || raw.size() == 40 || raw.size() == 64 || raw.size() == 128) && IsHex(raw)) {
    return ValueKind::kHash;
  }
  if (raw.find('/') != std::string_view::npos) return ValueKind::kCidr;
  if (raw.find(':') != std::string_view::npos) return ValueKind::kIp;  // IPv6
  if (raw.find('@') != std::string_view::npos) return ValueKind::kEmail;
  // All digits and dots: an IPv4 address (a bad one is reported as such, not as a domain).
  bool dotted = !raw.empty();
  for (char c : raw) dotted &= (c >= '0' && c <= '9') || c == '.';
  return dotted ? ValueKind::kIp : ValueKind::kDomain;
}

Result<Candidate> FromTyped(std::string_view type, std::string_view raw) {
  raw = Trim(raw);
  if (raw.empty()) return Invalid("empty value");
  const std::string t = ToLower(type);
  if (t == "domain" || t == "hostname") return FromKind(ValueKind::kDomain, raw);
  if (t == "ip" || t == "ip-src" || t == "ip-dst" || t == "ipv4" || t == "ipv6" || t == "cidr" ||
      t == "ip-addr" || t == "ipv4-addr" || t == "ipv6-addr") {
    return FromKind(ValueKind::kIp, raw);
  }
  if (t == "url" || t == "link" || t == "uri") {
    auto c = FromKind(ValueKind::kUrl, raw);
    if (!c.ok() && t == "uri") return Invalid("uri '" + std::string(raw) + "' is not an absolute URL (" +
                                              std::string(c.status().message()) + ")");
    return c;
  }
  if (t == "email" || t == "email-addr") return FromKind(ValueKind::kEmail, raw);
  if (t == "email-src" || t == "email-dst") {
    CORDON_ASSIGN_OR_RETURN(std::string e, normalize::Email(raw));
    std::string path = t == "email-src" ? "email-message:from_ref.value" : "email-message:to_refs[*].value";
    Candidate c = Make(e, "[" + path + " = '" + PatternLiteral(e) + "']");
    c.checks.push_back({ValueKind::kEmail, e});
    return c;
  }
  if (t == "hash") return FromKind(ValueKind::kHash, raw);
  if (t == "md5" || t == "sha1" || t == "sha256" || t == "sha512" || t == "sha-1" || t == "sha-256" ||
      t == "sha-512") {
    CORDON_ASSIGN_OR_RETURN(HashAlgo algo, normalize::ParseHashAlgo(t));
    return HashCandidate(algo, raw);
  }
  if (t.starts_with("filename|")) {
    auto algo = normalize::ParseHashAlgo(std::string_view(t).substr(9));
    if (!algo.ok()) return absl::NotFoundError("attribute type '" + t + "' has no STIX pattern mapping");
    CORDON_ASSIGN_OR_RETURN(auto parts, SplitPair(t, raw));
    if (parts.first.empty()) return Invalid("empty file name");
    CORDON_ASSIGN_OR_RETURN(Candidate c, HashCandidate(*algo, parts.second));
    c.value = std::string(parts.first) + "|" + c.value;
    c.pattern = "[file:name = '" + PatternLiteral(parts.first) + "' AND " + c.pattern.substr(1);
    return c;
  }
  if (t == "ip-src|port" || t == "ip-dst|port") {
    CORDON_ASSIGN_OR_RETURN(auto parts, SplitPair(t, raw));
    CORDON_ASSIGN_OR_RETURN(IpValue ip, ParseIpOrCidr(parts.first));
    CORDON_ASSIGN_OR_RETURN(int port, ParsePort(parts.second));
    std::string side = t == "ip-src|port" ? "src" : "dst";
    Candidate c = Make(ip.text + "|" + std::to_string(port),
                       "[network-traffic:" + side + "_ref.type = '" + (ip.v4 ? "ipv4-addr" : "ipv6-addr") +
                           "' AND network-traffic:" + side + "_ref.value = '" + ip.text +
                           "' AND network-traffic:" + side + "_port = " + std::to_string(port) + "]");
    c.checks.push_back({ip.block ? ValueKind::kCidr : ValueKind::kIp, ip.text});
    return c;
  }
  if (t == "domain|ip") {
    CORDON_ASSIGN_OR_RETURN(auto parts, SplitPair(t, raw));
    CORDON_ASSIGN_OR_RETURN(std::string d, normalize::Domain(parts.first));
    CORDON_ASSIGN_OR_RETURN(IpValue ip, ParseIpOrCidr(parts.second));
    Candidate c = Make(d + "|" + ip.text, "[domain-name:value = '" + PatternLiteral(d) +
                                              "' AND domain-name:resolves_to_refs[*].value = '" + ip.text + "']");
    c.checks.push_back({ValueKind::kDomain, d});
    c.checks.push_back({ip.block ? ValueKind::kCidr : ValueKind::kIp, ip.text});
    return c;
  }
  if (t == "ssdeep" || t == "tlsh" || t == "sha3-256" || t == "sha3-512") {
    // Fuzzy and SHA-3 hashes: STIX hash-algorithm-ov names, values kept as given
    // (SHA-3 lowercased; fuzzy hashes are case-sensitive).
    std::string key = t == "ssdeep" ? "SSDEEP" : t == "tlsh" ? "TLSH" : t == "sha3-256" ? "'SHA3-256'" : "'SHA3-512'";
    std::string v = t.starts_with("sha3") ? ToLower(raw) : std::string(raw);
    if (t.starts_with("sha3") && (v.size() != (t == "sha3-256" ? 64u : 128u) || !IsHex(v))) {
      return Invalid(std::string(type) + " value is not " + (t == "sha3-256" ? "64" : "128") + " hex digits");
    }
    Candidate c = Make(v, "[file:hashes." + key + " = '" + PatternLiteral(v) + "']");
    c.checks.push_back({ValueKind::kHash, v});
    return c;
  }
  if (t == "email-subject") {
    return Make(std::string(raw), "[email-message:subject = '" + PatternLiteral(raw) + "']");
  }
  if (t == "mac-address") {
    return Make(ToLower(raw), "[mac-addr:value = '" + PatternLiteral(ToLower(raw)) + "']");
  }
  if (t == "as") {
    std::string_view n = raw;
    if (n.size() > 2 && (n[0] == 'A' || n[0] == 'a') && (n[1] == 'S' || n[1] == 's')) n.remove_prefix(2);
    CORDON_ASSIGN_OR_RETURN(int64_t asn, [&]() -> Result<int64_t> {
      int64_t v = 0;
      if (n.empty() || n.size() > 10) return Invalid("AS number '" + std::string(raw) + "' is not a number");
      for (char ch : n) {
        if (ch < '0' || ch > '9') return Invalid("AS number '" + std::string(raw) + "' is not a number");
        v = v * 10 + (ch - '0');
      }
      return v;
    }());
    return Make("AS" + std::to_string(asn), "[autonomous-system:number = " + std::to_string(asn) + "]");
  }
  if (t == "x509-fingerprint-sha1" || t == "x509-fingerprint-sha256" || t == "x509-fingerprint-md5") {
    CORDON_ASSIGN_OR_RETURN(HashAlgo algo, normalize::ParseHashAlgo(std::string_view(t).substr(17)));
    CORDON_ASSIGN_OR_RETURN(std::string h, normalize::Hash(raw, algo));
    Candidate c = Make(h, "[x509-certificate:hashes." + std::string(HashKey(algo)) + " = '" + h + "']");
    c.checks.push_back({ValueKind::kHash, h});
    return c;
  }
  if (t == "filename") return Make(std::string(raw), "[file:name = '" + PatternLiteral(raw) + "']");
  if (t == "mutex") return Make(std::string(raw), "[mutex:name = '" + PatternLiteral(raw) + "']");
  if (t == "regkey") {
    return Make(std::string(raw), "[windows-registry-key:key = '" + PatternLiteral(raw) + "']");
  }
  if (t == "user-agent") {
    return Make(std::string(raw),
                "[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = '" +
                    PatternLiteral(raw) + "']");
  }
  if (t == "ja3-fingerprint-md5") {
    // STIX has no JA3 property; cordon uses a custom network-traffic property.
    CORDON_ASSIGN_OR_RETURN(std::string h, normalize::Hash(raw, HashAlgo::kMd5));
    return Make(h, "[network-traffic:x_ja3_fingerprint_md5 = '" + h + "']");
  }
  return absl::NotFoundError("attribute type '" + std::string(type) + "' has no STIX pattern mapping");
}

}  // namespace cordon::feeds
