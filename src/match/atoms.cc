#include "match/atoms.h"

#include <optional>

#include "absl/strings/str_format.h"

namespace cordon::match {
namespace {

using pattern::CompareOp;
using pattern::ComparisonNode;
using pattern::Constant;
using pattern::ObservationNode;
using pattern::PathStep;

// Atoms of one part of a pattern. usable == false: that part can match
// without any atom matching (no necessary condition from it).
struct Partial {
  bool usable = false;
  bool decides = false;  // the atoms are exactly the part's semantics
  bool directional = false;  // AtomSet::directional
  std::vector<Atom> atoms;
  std::string never;  // usable with no atoms: no decoded event satisfies the part, and why
};

std::string PathText(const pattern::ObjectPath& p) {
  std::string out = p.object_type + ":";
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const PathStep& s = p.steps[i];
    if (s.kind == PathStep::Kind::kKey) {
      if (i > 0) out += '.';
      bool plain = !s.key.empty();
      for (char c : s.key) plain &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
      out += plain ? s.key : "'" + s.key + "'";
    } else if (s.kind == PathStep::Kind::kIndex) {
      absl::StrAppendFormat(&out, "[%d]", s.index);
    } else {
      out += "[*]";
    }
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = char(c + 32);
  return out;
}

// The key type a path is compared with, if the index knows it.
std::optional<KeyType> Classify(const pattern::ObjectPath& p) {
  std::vector<std::string> keys;
  for (const PathStep& s : p.steps) {
    if (s.kind != PathStep::Kind::kKey) return std::nullopt;
    keys.push_back(s.key);
  }
  const std::string& type = p.object_type;
  auto is = [&](std::initializer_list<const char*> want) {
    if (keys.size() != want.size()) return false;
    size_t i = 0;
    for (const char* w : want)
      if (keys[i++] != w) return false;
    return true;
  };
  if (type == "domain-name" && is({"value"})) return KeyType::kDomain;
  if ((type == "ipv4-addr" || type == "ipv6-addr") && is({"value"})) return KeyType::kIp;
  if (type == "url" && is({"value"})) return KeyType::kUrl;
  if (type == "email-addr" && is({"value"})) return KeyType::kEmail;
  if (type == "network-traffic") {
    if (is({"dst_ref", "value"}) || is({"src_ref", "value"})) return KeyType::kIp;
    if (is({"dst_port"}) || is({"src_port"})) return KeyType::kPort;
  }
  if ((type == "x-ja3" || type == "x-ja3s") && is({"value"}))
    return type == "x-ja3" ? KeyType::kJa3 : KeyType::kJa3s;
  if (!keys.empty() && (Lower(keys.back()) == "ja3" || Lower(keys.back()) == "ja3s") && keys.size() > 1)
    return Lower(keys.back()) == "ja3" ? KeyType::kJa3 : KeyType::kJa3s;
  if (keys.size() == 2 && keys[0] == "hashes" && (type == "file" || type == "x509-certificate")) {
    auto algo = normalize::ParseHashAlgo(keys[1]);
    if (!algo.ok()) return std::nullopt;
    if (type == "x509-certificate") {
      if (*algo == normalize::HashAlgo::kSha1) return KeyType::kX509Sha1;
      return std::nullopt;
    }
    switch (*algo) {
      case normalize::HashAlgo::kMd5: return KeyType::kMd5;
      case normalize::HashAlgo::kSha1: return KeyType::kSha1;
      case normalize::HashAlgo::kSha256: return KeyType::kSha256;
      case normalize::HashAlgo::kSha512: return KeyType::kSha512;
    }
  }
  if (type == "x509-certificate" && is({"serial_number"})) return KeyType::kX509Serial;
  return std::nullopt;
}

// A network-traffic path naming a side of the connection (src_ref, dst_ref,
// src_port, dst_port): a key does not say which side it was on.
bool IsConnectionSide(const pattern::ObjectPath& p) {
  if (p.object_type != "network-traffic" || p.steps.empty()) return false;
  const std::string& k = p.steps[0].key;
  return k == "src_ref" || k == "dst_ref" || k == "src_port" || k == "dst_port";
}

// Key types whose values are lowercase once normalised (domains, digests,
// serials, JA3): a LIKE on them compares in lowercase.
bool LowercaseKeys(KeyType key) {
  return key != KeyType::kUrl && key != KeyType::kEmail && key != KeyType::kIp && key != KeyType::kPort;
}

bool HasUpper(std::string_view s) {
  for (char c : s)
    if (c >= 'A' && c <= 'Z') return true;
  return false;
}

// The normalised text of a string key value, or nullopt if it does not normalise.
std::optional<std::string> NormaliseText(KeyType key, const std::string& v) {
  Result<std::string> r = absl::InvalidArgumentError("");
  switch (key) {
    case KeyType::kDomain: r = normalize::Domain(v); break;
    case KeyType::kUrl: r = normalize::Url(v); break;
    case KeyType::kEmail: r = normalize::Email(v); break;
    case KeyType::kMd5: case KeyType::kJa3: case KeyType::kJa3s:
      r = normalize::Hash(v, normalize::HashAlgo::kMd5); break;
    case KeyType::kSha1: case KeyType::kX509Sha1: r = normalize::Hash(v, normalize::HashAlgo::kSha1); break;
    case KeyType::kSha256: r = normalize::Hash(v, normalize::HashAlgo::kSha256); break;
    case KeyType::kSha512: r = normalize::Hash(v, normalize::HashAlgo::kSha512); break;
    case KeyType::kX509Serial: r = normalize::Serial(v); break;
    default: return std::nullopt;
  }
  if (!r.ok()) return std::nullopt;
  return *std::move(r);
}

// One value compared with `=` (or one member of IN).
std::optional<Atom> EqualAtom(KeyType key, const std::string& path, const Constant& c) {
  Atom a;
  a.key = key;
  a.path = path;
  if (key == KeyType::kPort) {
    if (c.type != Constant::Type::kInt || c.int_value < 0 || c.int_value > 65535) return std::nullopt;
    a.number = uint32_t(c.int_value);
    return a;
  }
  if (c.type != Constant::Type::kString) return std::nullopt;
  if (key == KeyType::kIp) {
    auto p = normalize::Cidr(c.bytes);
    if (!p.ok()) return std::nullopt;
    a.prefix = *p;
    a.kind = p->length == 128 ? AtomKind::kExact : AtomKind::kCidr;
    return a;
  }
  auto v = NormaliseText(key, c.bytes);
  if (!v) return std::nullopt;
  a.value = std::move(*v);
  return a;
}

bool HasLikeWildcard(std::string_view s) { return s.find_first_of("%_") != std::string_view::npos; }

// A URL written without its scheme ("example.com/a.exe", as in many feeds)
// stands for http:// and https://: appends both atoms if it then normalises.
bool AddSchemeless(const std::string& path, const Constant& c, std::vector<Atom>& atoms) {
  if (c.type != Constant::Type::kString || c.bytes.find("://") != std::string::npos) return false;
  for (const char* scheme : {"http://", "https://"}) {
    Constant with = c;
    with.bytes = scheme + c.bytes;
    std::optional<Atom> a = EqualAtom(KeyType::kUrl, path, with);
    if (!a) return false;  // the same for both schemes
    atoms.push_back(std::move(*a));
  }
  return true;
}

// Why a string that EqualAtom refused can equal no value of a decoded event
// (whose values are all normalised, and whose ports are integers, which
// pattern::Evaluate never finds equal to a string); nullopt for any other
// refusal.
std::optional<std::string> NeverEqual(KeyType key, const std::string& path, const Constant& c) {
  if (c.type != Constant::Type::kString) return std::nullopt;
  std::string shown = c.bytes.size() > 80 ? c.bytes.substr(0, 77) + "..." : c.bytes;
  if (key == KeyType::kPort) return absl::StrFormat("%s '%s' is a string, and ports are integers", path, shown);
  std::string_view what;
  switch (key) {
    case KeyType::kDomain: what = "a valid domain name"; break;
    case KeyType::kIp: what = "a valid IP address or CIDR block"; break;
    case KeyType::kUrl: what = "a valid URL"; break;
    case KeyType::kEmail: what = "a valid e-mail address"; break;
    case KeyType::kX509Serial: what = "a hex serial number"; break;
    default: what = "a valid hex digest of its algorithm"; break;
  }
  return absl::StrFormat("%s '%s' is not %s", path, shown, what);
}

// One value compared with = into `out`: its atom (two for a URL without a
// scheme), or none when no decoded event can equal it (out.never says why,
// unless another value of the set gave an atom). False: unusable.
bool AddEqual(KeyType key, const std::string& path, const Constant& c, Partial& out) {
  if (std::optional<Atom> a = EqualAtom(key, path, c)) {
    out.atoms.push_back(std::move(*a));
  } else if (key != KeyType::kUrl || !AddSchemeless(path, c, out.atoms)) {
    std::optional<std::string> never = NeverEqual(key, path, c);
    if (!never) return false;
    if (out.never.empty()) out.never = std::move(*never);
  }
  if (!out.atoms.empty()) out.never.clear();
  return true;
}

Partial FromTest(const pattern::Comparison& t) {
  Partial out;
  if (t.negated) return out;
  std::optional<KeyType> key = Classify(t.path);
  if (!key) return out;
  std::string path = PathText(t.path);
  // Only the sides: other network-traffic paths (extensions' ja3) are keyed as they are.
  out.directional = IsConnectionSide(t.path);
  auto add = [&](std::optional<Atom> a) {
    if (!a) return false;
    out.atoms.push_back(std::move(*a));
    return true;
  };
  out.decides = true;
  switch (t.op) {
    case CompareOp::kEqual:
    case CompareOp::kIn:
      if (t.values.empty()) return Partial{};  // IN () matches nothing: keep it evaluated
      for (const Constant& c : t.values)  // mixed types: pattern::Evaluate refuses the set
        if (c.type != t.values[0].type) return Partial{};
      for (const Constant& c : t.values)
        if (!AddEqual(*key, path, c, out)) return Partial{};
      break;
    case CompareOp::kIsSubset: {
      if (*key != KeyType::kIp || t.values.size() != 1) return Partial{};
      if (!add(EqualAtom(*key, path, t.values[0]))) return Partial{};
      out.atoms.back().kind = AtomKind::kCidr;
      break;
    }
    case CompareOp::kLike:
    case CompareOp::kMatches: {
      if (*key == KeyType::kIp || *key == KeyType::kPort || t.values.size() != 1 ||
          t.values[0].type != Constant::Type::kString)
        return Partial{};
      const bool lower_keys = LowercaseKeys(*key);
      // LIKE's literal letters compare as the keys do, so 'WWW.%' is www.*
      // (the evaluator gets the same constant: NormaliseConstants).
      const std::string v = t.op == CompareOp::kLike && lower_keys ? Lower(t.values[0].bytes) : t.values[0].bytes;
      if (t.op == CompareOp::kLike && !HasLikeWildcard(v)) {
        if (!AddEqual(*key, path, t.values[0], out)) return Partial{};
        break;
      }
      if (t.op == CompareOp::kLike && *key == KeyType::kDomain && v.size() > 2 && v[0] == '%' &&
          v[1] == '.' && !HasLikeWildcard(v.substr(2))) {
        auto d = normalize::Domain(v.substr(2));
        if (!d.ok()) return Partial{};
        Atom a;
        a.key = *key;
        a.kind = AtomKind::kDomainSuffix;
        a.value = *d;
        a.path = path;
        out.atoms.push_back(std::move(a));
        break;
      }
      Atom a;
      a.key = *key;
      a.kind = AtomKind::kRegex;
      a.path = path;
      a.value = t.op == CompareOp::kLike ? LikeToRegex(v) : v;
      if (t.op == CompareOp::kLike) {
        size_t wild = v.find_last_of("%_");
        a.literal_tail = wild == std::string::npos ? v : v.substr(wild + 1);
      }
      // An upper-case MATCHES expression on lowercase keys is matched ignoring
      // case so that the atom stays a necessary condition, and then it no
      // longer decides alone.
      if (lower_keys && HasUpper(v)) {
        a.caseless = true;
        out.decides = false;
      }
      out.atoms.push_back(std::move(a));
      break;
    }
    default:
      return Partial{};
  }
  out.usable = true;
  return out;
}

int Cost(const Partial& p) {
  int cost = 0;
  for (const Atom& a : p.atoms) cost += a.kind == AtomKind::kRegex ? 16 : a.kind == AtomKind::kExact ? 1 : 2;
  return cost;
}

// AND: any usable operand is a necessary condition; take the cheapest (one
// that no event satisfies costs nothing, and makes the AND never true).
Partial Conjunction(std::vector<Partial> parts) {
  Partial best;
  for (Partial& p : parts)
    if (p.usable && (!best.usable || Cost(p) < Cost(best))) best = std::move(p);
  best.decides = false;
  return best;
}

// OR: usable only if every operand is.
Partial Disjunction(std::vector<Partial> parts) {
  Partial out;
  out.usable = true;
  out.decides = true;
  for (Partial& p : parts) {
    if (!p.usable) return Partial{};
    out.decides &= p.decides;
    out.directional |= p.directional;
    for (Atom& a : p.atoms) out.atoms.push_back(std::move(a));
    if (out.never.empty()) out.never = std::move(p.never);
  }
  if (!out.atoms.empty()) out.never.clear();  // an operand no event satisfies adds nothing
  return out;
}

Partial FromComparison(const pattern::Pattern& pat, uint32_t index) {
  const ComparisonNode& n = pat.comparisons[index];
  if (n.kind == ComparisonNode::Kind::kTest) return FromTest(n.test);
  std::vector<Partial> parts;
  for (uint32_t c : n.children) parts.push_back(FromComparison(pat, c));
  return n.kind == ComparisonNode::Kind::kAnd ? Conjunction(std::move(parts)) : Disjunction(std::move(parts));
}

Partial FromObservation(const pattern::Pattern& pat, uint32_t index) {
  const ObservationNode& n = pat.observations[index];
  Partial out;
  switch (n.kind) {
    case ObservationNode::Kind::kObservation:
      out = FromComparison(pat, n.comparison);
      break;
    case ObservationNode::Kind::kGroup:
      out = FromObservation(pat, n.children.at(0));
      break;
    case ObservationNode::Kind::kOr: {
      std::vector<Partial> parts;
      for (uint32_t c : n.children) parts.push_back(FromObservation(pat, c));
      out = Disjunction(std::move(parts));
      // [a] OR [b] is decided by one event exactly as [a OR b] is.
      break;
    }
    case ObservationNode::Kind::kAnd:
    case ObservationNode::Kind::kFollowedBy: {
      std::vector<Partial> parts;
      for (uint32_t c : n.children) parts.push_back(FromObservation(pat, c));
      out = Conjunction(std::move(parts));
      break;
    }
  }
  if (!n.qualifiers.empty()) out.decides = false;
  return out;
}

uint64_t Fewest(uint64_t a, uint64_t b) { return __builtin_popcountll(a) <= __builtin_popcountll(b) ? a : b; }

uint64_t FieldsOfComparison(const pattern::Pattern& pat, uint32_t index) {
  const ComparisonNode& n = pat.comparisons[index];
  if (n.kind == ComparisonNode::Kind::kTest) return ObservedFieldBit(n.test.path.object_type, n.test.path.steps[0].key);
  const bool all = n.kind == ComparisonNode::Kind::kAnd;
  uint64_t out = all ? kAnyObservedField : 0;
  for (uint32_t c : n.children) {
    const uint64_t t = FieldsOfComparison(pat, c);
    out = all ? Fewest(out, t) : out | t;
  }
  return out;
}

uint64_t FieldsOfObservation(const pattern::Pattern& pat, uint32_t index) {
  const ObservationNode& n = pat.observations[index];
  switch (n.kind) {
    case ObservationNode::Kind::kObservation: return FieldsOfComparison(pat, n.comparison);
    case ObservationNode::Kind::kGroup: return FieldsOfObservation(pat, n.children.at(0));
    case ObservationNode::Kind::kOr: {
      uint64_t out = 0;
      for (uint32_t c : n.children) out |= FieldsOfObservation(pat, c);
      return out;
    }
    case ObservationNode::Kind::kAnd:
    case ObservationNode::Kind::kFollowedBy: {
      uint64_t out = kAnyObservedField;
      for (uint32_t c : n.children) out = Fewest(out, FieldsOfObservation(pat, c));
      return out;
    }
  }
  return kAnyObservedField;
}

}  // namespace

uint64_t ObservedFieldsNeeded(const pattern::Pattern& pattern) {
  if (pattern.observations.empty()) return kAnyObservedField;
  return FieldsOfObservation(pattern, pattern.root);
}

std::string_view AtomKindName(AtomKind k) {
  switch (k) {
    case AtomKind::kExact: return "exact";
    case AtomKind::kDomainSuffix: return "suffix";
    case AtomKind::kCidr: return "cidr";
    case AtomKind::kRegex: return "regex";
  }
  return "?";
}

std::string Atom::DebugString() const {
  std::string v;
  if (key == KeyType::kIp) v = kind == AtomKind::kExact ? normalize::FormatIp(prefix.addr) : normalize::FormatPrefix(prefix);
  else if (key == KeyType::kPort) v = absl::StrFormat("%d", number);
  else v = value;
  return absl::StrFormat("%s %s%s %s", KeyTypeName(key), AtomKindName(kind), caseless ? "/i" : "", v);
}

AtomSet ExtractAtoms(const pattern::Pattern& pattern) {
  AtomSet out;
  if (pattern.observations.empty()) return out;
  Partial p = FromObservation(pattern, pattern.root);
  if (!p.usable || (p.atoms.empty() && p.never.empty())) return out;
  if (p.atoms.empty()) {  // usable without atoms: a part no event satisfies
    out.never = std::move(p.never);
    out.decides = true;
    return out;
  }
  out.atoms = std::move(p.atoms);
  out.decides = p.decides;
  out.directional = p.directional;
  return out;
}

namespace {

// The members of a positive = / IN on an IP or URL path as the index reads
// them: an address (=), a CIDR block (ISSUBSET), a URL without a scheme (its
// http:// and https:// forms); empty when every member is a plain value.
std::vector<std::pair<CompareOp, Constant>> Expanded(KeyType key, const pattern::Comparison& t) {
  std::vector<std::pair<CompareOp, Constant>> out;
  bool any = false;
  for (const Constant& c : t.values) {
    if (c.type == Constant::Type::kString && key == KeyType::kIp) {
      auto prefix = normalize::Cidr(c.bytes);
      if (prefix.ok() && prefix->length < 128) {
        Constant block = c;
        block.bytes = normalize::FormatPrefix(*prefix);
        out.emplace_back(CompareOp::kIsSubset, std::move(block));
        any = true;
        continue;
      }
    }
    if (c.type == Constant::Type::kString && key == KeyType::kUrl && c.bytes.find("://") == std::string::npos) {
      for (const char* scheme : {"http://", "https://"}) {
        Constant with = c;
        with.bytes = scheme + c.bytes;
        out.emplace_back(CompareOp::kEqual, std::move(with));
      }
      any = true;
      continue;
    }
    out.emplace_back(CompareOp::kEqual, c);
  }
  if (!any) out.clear();
  return out;
}

}  // namespace

void NormaliseConstants(pattern::Pattern& pattern) {
  // By index: expanding a test appends comparisons (which this loop then normalises too).
  for (size_t i = 0; i < pattern.comparisons.size(); ++i) {
    if (pattern.comparisons[i].kind != ComparisonNode::Kind::kTest) continue;
    std::optional<KeyType> key = Classify(pattern.comparisons[i].test.path);
    if (!key || *key == KeyType::kPort) continue;
    {
      const pattern::Comparison& t = pattern.comparisons[i].test;
      if (!t.negated && (t.op == CompareOp::kEqual || t.op == CompareOp::kIn)) {
        auto members = Expanded(*key, t);
        if (!members.empty()) {  // [x IN ('10.0.0.0/8', '192.0.2.1')] -> [x ISSUBSET '10.0.0.0/8' OR x = '192.0.2.1']
          const pattern::ObjectPath path = t.path;
          const int column = pattern.comparisons[i].column;
          std::vector<uint32_t> children;
          for (auto& [op, c] : members) {
            ComparisonNode n;
            n.kind = ComparisonNode::Kind::kTest;
            n.column = column;
            n.test.path = path;
            n.test.op = op;
            n.test.values.push_back(std::move(c));
            children.push_back(uint32_t(pattern.comparisons.size()));
            pattern.comparisons.push_back(std::move(n));
          }
          ComparisonNode& node = pattern.comparisons[i];
          node.kind = ComparisonNode::Kind::kOr;
          node.children = std::move(children);
          node.test = {};
          continue;
        }
      }
    }
    pattern::Comparison& t = pattern.comparisons[i].test;
    if (t.op == CompareOp::kLike && LowercaseKeys(*key)) {
      for (Constant& c : t.values)
        if (c.type == Constant::Type::kString) c.bytes = Lower(c.bytes);  // as FromTest's atom
      continue;
    }
    if (t.op != CompareOp::kEqual && t.op != CompareOp::kNotEqual && t.op != CompareOp::kIn) continue;
    for (Constant& c : t.values) {
      if (c.type != Constant::Type::kString) continue;
      if (*key == KeyType::kIp) {
        auto prefix = normalize::Cidr(c.bytes);
        if (prefix.ok() && prefix->length == 128) c.bytes = normalize::FormatIp(prefix->addr);
      } else if (std::optional<std::string> v = NormaliseText(*key, c.bytes)) {
        c.bytes = std::move(*v);
      }
    }
  }
}

std::optional<AtomSet> ExtractSimpleAtoms(std::string_view text) {
  if (text.size() < 8 || text.front() != '[' || text.substr(text.size() - 2) != "']") return std::nullopt;
  size_t eq = text.find(" = '");
  if (eq == std::string_view::npos) return std::nullopt;
  std::string_view lhs = text.substr(1, eq - 1);
  std::string_view value = text.substr(eq + 4, text.size() - 2 - (eq + 4));
  if (value.find_first_of("'\\") != std::string_view::npos) return std::nullopt;
  size_t colon = lhs.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  pattern::ObjectPath path;
  path.object_type = std::string(lhs.substr(0, colon));
  for (char c : path.object_type)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return std::nullopt;
  std::string_view rest = lhs.substr(colon + 1);
  while (true) {
    std::string key;
    if (!rest.empty() && rest[0] == '\'') {
      size_t close = rest.find('\'', 1);
      if (close == std::string_view::npos || close == 1) return std::nullopt;
      key = std::string(rest.substr(1, close - 1));
      if (key.find('\\') != std::string::npos) return std::nullopt;
      rest = rest.substr(close + 1);
    } else {
      size_t end = 0;
      while (end < rest.size() && rest[end] != '.') {
        char c = rest[end];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
          return std::nullopt;
        ++end;
      }
      if (end == 0 || (rest[0] >= '0' && rest[0] <= '9')) return std::nullopt;
      key = std::string(rest.substr(0, end));
      rest = rest.substr(end);
    }
    path.steps.push_back(PathStep::Key(std::move(key)));
    if (rest.empty()) break;
    if (rest[0] != '.') return std::nullopt;
    rest.remove_prefix(1);
  }
  // network-traffic sides are confirmed by evaluation (AtomSet::directional),
  // which needs the parsed pattern: not this path's.
  if (IsConnectionSide(path)) return std::nullopt;
  std::optional<KeyType> key = Classify(path);
  if (!key) return std::nullopt;
  Constant c;
  if (*key == KeyType::kPort) return std::nullopt;  // ports compare with integers, not strings
  c.type = Constant::Type::kString;
  c.bytes = std::string(value);
  std::optional<Atom> atom = EqualAtom(*key, PathText(path), c);
  if (!atom) return std::nullopt;
  AtomSet out;
  out.atoms.push_back(std::move(*atom));
  out.decides = true;
  return out;
}

std::string LikeToRegex(std::string_view like) {
  std::string out = "(?s)^";  // % and _ also match newlines
  for (char c : like) {
    if (c == '%') {
      out += ".*";
    } else if (c == '_') {
      out += '.';
    } else if (std::string_view("\\^$.|?*+()[]{}/").find(c) != std::string_view::npos) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out + "$";
}

}  // namespace cordon::match
