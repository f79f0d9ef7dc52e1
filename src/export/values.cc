// Entries from the matcher's atoms (match/atoms.h): one reduction of patterns
// for matching and for enforcement.
#include "export/values.h"

#include "match/atoms.h"
#include "normalize/normalize.h"
#include "pattern/pattern.h"

namespace cordon::exporter {
namespace {

using match::AtomKind;
using match::KeyType;

Status ToEntries(const match::AtomSet& set, uint32_t indicator, std::vector<Entry>& out) {
  if (!set.never.empty()) return absl::FailedPreconditionError("no value to enforce: " + set.never);
  if (!set.decides || set.atoms.empty()) {
    return absl::FailedPreconditionError("the pattern's values do not decide it (AND, qualifiers or other paths)");
  }
  size_t before = out.size();
  for (const match::Atom& a : set.atoms) {
    if (a.kind == AtomKind::kRegex) {
      out.resize(before);
      return absl::FailedPreconditionError("a LIKE/MATCHES expression has no enforceable value (" + a.path + ")");
    }
    Entry e;
    e.indicator = indicator;
    switch (a.key) {
      case KeyType::kDomain:
        e.kind = a.kind == AtomKind::kDomainSuffix ? Entry::Kind::kDomainSuffix : Entry::Kind::kDomain;
        e.value = a.value;
        break;
      case KeyType::kIp:
        e.ipv6 = !a.prefix.addr.IsV4();
        if (a.prefix.length == 128) {
          e.kind = Entry::Kind::kIp;
          e.value = normalize::FormatIp(a.prefix.addr);
        } else {
          e.kind = Entry::Kind::kCidr;
          e.value = normalize::FormatPrefix(a.prefix);
        }
        break;
      case KeyType::kUrl: e.kind = Entry::Kind::kUrl, e.value = a.value; break;
      case KeyType::kEmail: e.kind = Entry::Kind::kEmail, e.value = a.value; break;
      case KeyType::kMd5: e.kind = Entry::Kind::kHash, e.hash_algo = "MD5", e.value = a.value; break;
      case KeyType::kSha1: e.kind = Entry::Kind::kHash, e.hash_algo = "SHA-1", e.value = a.value; break;
      case KeyType::kSha256: e.kind = Entry::Kind::kHash, e.hash_algo = "SHA-256", e.value = a.value; break;
      case KeyType::kSha512: e.kind = Entry::Kind::kHash, e.hash_algo = "SHA-512", e.value = a.value; break;
      default: continue;  // ports, JA3, certificates: no enforcement point here takes them
    }
    out.push_back(std::move(e));
  }
  if (out.size() == before) {
    return absl::FailedPreconditionError("no value an enforcement point can take (ports, JA3, certificates)");
  }
  return absl::OkStatus();
}

}  // namespace

Status AppendValuesOf(std::string_view pattern_text, bool stix20, uint32_t indicator, std::vector<Entry>& out) {
  if (auto simple = match::ExtractSimpleAtoms(pattern_text)) return ToEntries(*simple, indicator, out);
  CORDON_ASSIGN_OR_RETURN(auto p, pattern::Parse(pattern_text, stix20 ? pattern::Version::k20 : pattern::Version::k21));
  return ToEntries(match::ExtractAtoms(p), indicator, out);
}

}  // namespace cordon::exporter
