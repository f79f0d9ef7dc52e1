// NOTE for the merge: this walks the pattern tree only until pattern/atoms.h
// (branch `index`) lands; ValuesOf should then map its atoms instead.
#include "export/values.h"

#include "normalize/normalize.h"
#include "pattern/pattern.h"

namespace cordon::exporter {
namespace {

using pattern::CompareOp;
using pattern::ComparisonNode;
using pattern::ObservationNode;

Status NotDecided(const std::string& why) { return absl::FailedPreconditionError(why); }

bool IsValuePath(const pattern::ObjectPath& p) {
  return p.steps.size() == 1 && p.steps[0].kind == pattern::PathStep::Kind::kKey && p.steps[0].key == "value";
}

Status AddValue(const pattern::ObjectPath& path, CompareOp op, const std::string& v, uint32_t indicator,
                std::vector<Entry>& out) {
  const std::string& type = path.object_type;
  Entry e;
  e.indicator = indicator;
  auto fail = [&](const Status& st) {
    return absl::InvalidArgumentError(type + " value '" + v + "': " + std::string(st.message()));
  };
  if (type == "domain-name" && IsValuePath(path)) {
    std::string_view name = v;
    e.kind = Entry::Kind::kDomain;
    if (op == CompareOp::kLike) {
      if (!name.starts_with("%.")) return NotDecided("LIKE on a domain name other than '%.suffix'");
      name.remove_prefix(2);
      if (name.find_first_of("%_") != std::string_view::npos) return NotDecided("LIKE with inner wildcards");
      e.kind = Entry::Kind::kDomainSuffix;
    }
    auto d = normalize::Domain(name);
    if (!d.ok()) return fail(d.status());
    e.value = std::move(*d);
  } else if ((type == "ipv4-addr" || type == "ipv6-addr") && IsValuePath(path)) {
    auto p = normalize::Cidr(v);
    if (!p.ok()) return fail(p.status());
    e.ipv6 = !p->addr.IsV4();
    bool single = p->length == 128;
    e.kind = single ? Entry::Kind::kIp : Entry::Kind::kCidr;
    e.value = single ? normalize::FormatIp(p->addr) : normalize::FormatPrefix(*p);
  } else if (type == "url" && IsValuePath(path)) {
    auto u = normalize::Url(v);
    if (!u.ok()) return fail(u.status());
    e.kind = Entry::Kind::kUrl;
    e.value = std::move(*u);
  } else if (type == "email-addr" && IsValuePath(path)) {
    auto m = normalize::Email(v);
    if (!m.ok()) return fail(m.status());
    e.kind = Entry::Kind::kEmail;
    e.value = std::move(*m);
  } else if (type == "file" && path.steps.size() == 2 && path.steps[0].key == "hashes" &&
             path.steps[1].kind == pattern::PathStep::Kind::kKey) {
    auto algo = normalize::ParseHashAlgo(path.steps[1].key);
    if (!algo.ok()) return NotDecided("hash algorithm '" + path.steps[1].key + "'");
    auto h = normalize::Hash(v, *algo);
    if (!h.ok()) return fail(h.status());
    static constexpr const char* kNames[] = {"MD5", "SHA-1", "SHA-256", "SHA-512"};
    e.kind = Entry::Kind::kHash;
    e.hash_algo = kNames[static_cast<int>(*algo)];
    e.value = std::move(*h);
  } else {
    std::string p = type + ":";
    for (size_t i = 0; i < path.steps.size(); ++i) p += (i ? "." : "") + path.steps[i].key;
    return NotDecided("no enforceable value at " + p);
  }
  out.push_back(std::move(e));
  return absl::OkStatus();
}

Status WalkComparisons(const pattern::Pattern& p, uint32_t i, uint32_t indicator, std::vector<Entry>& out) {
  const ComparisonNode& n = p.comparisons[i];
  if (n.kind == ComparisonNode::Kind::kAnd) return NotDecided("AND inside an observation");
  if (n.kind == ComparisonNode::Kind::kOr) {
    for (uint32_t c : n.children) CORDON_RETURN_IF_ERROR(WalkComparisons(p, c, indicator, out));
    return absl::OkStatus();
  }
  const auto& t = n.test;
  if (t.negated) return NotDecided("NOT");
  bool ok_op = t.op == CompareOp::kEqual || t.op == CompareOp::kIn ||
               (t.op == CompareOp::kLike && t.path.object_type == "domain-name") ||
               (t.op == CompareOp::kIsSubset &&
                (t.path.object_type == "ipv4-addr" || t.path.object_type == "ipv6-addr"));
  if (!ok_op) return NotDecided(std::string("operator ") + pattern::CompareOpName(t.op));
  for (const auto& c : t.values) {
    if (c.type != pattern::Constant::Type::kString) return NotDecided("a non-string constant");
    CORDON_RETURN_IF_ERROR(AddValue(t.path, t.op, c.bytes, indicator, out));
  }
  return absl::OkStatus();
}

Status WalkObservations(const pattern::Pattern& p, uint32_t i, uint32_t indicator, std::vector<Entry>& out) {
  const ObservationNode& n = p.observations[i];
  if (!n.qualifiers.empty()) return NotDecided("qualifiers");
  switch (n.kind) {
    case ObservationNode::Kind::kObservation: return WalkComparisons(p, n.comparison, indicator, out);
    case ObservationNode::Kind::kOr:
    case ObservationNode::Kind::kGroup:
      for (uint32_t c : n.children) CORDON_RETURN_IF_ERROR(WalkObservations(p, c, indicator, out));
      return absl::OkStatus();
    case ObservationNode::Kind::kAnd: return NotDecided("AND between observations");
    case ObservationNode::Kind::kFollowedBy: return NotDecided("FOLLOWEDBY");
  }
  return NotDecided("unknown node");
}

}  // namespace

Result<std::vector<Entry>> ValuesOf(std::string_view pattern_text, bool stix20, uint32_t indicator) {
  CORDON_ASSIGN_OR_RETURN(auto p, pattern::Parse(pattern_text, stix20 ? pattern::Version::k20 : pattern::Version::k21));
  std::vector<Entry> out;
  CORDON_RETURN_IF_ERROR(WalkObservations(p, p.root, indicator, out));
  return out;
}

}  // namespace cordon::exporter
