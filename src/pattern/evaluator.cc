// The STIX pattern evaluator (see evaluator.h for the semantics).
//
// Two phases, as in the OASIS reference matcher:
//  1. every comparison expression is evaluated against every observation,
//     giving for each observation the set of "root" cyber observables that
//     satisfy it (AND intersects these sets, OR unites them). All tests are
//     evaluated, so data errors surface whatever the rest of the pattern is.
//  2. a backtracking search over observation instances looks for one binding
//     that satisfies the observation operators and qualifiers. The reference
//     enumerates the same bindings lazily with generators; the search below
//     visits them depth-first and stops at the first complete one.
#include <arpa/inet.h>
#include <unicode/normalizer2.h>
#include <unicode/regex.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pattern/eval_internal.h"
#include "pattern/evaluator.h"

namespace cordon::pattern {
namespace {

Status EvalError(std::string msg) { return absl::InvalidArgumentError("evaluation: " + msg); }

// ---------------------------------------------------------------- text

icu::UnicodeString FromUtf8(std::string_view s) {
  return icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
}

icu::UnicodeString Nfc(const icu::UnicodeString& s) {
  UErrorCode st = U_ZERO_ERROR;
  const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(st);
  if (U_FAILURE(st)) return s;
  icu::UnicodeString out = n->normalize(s, st);
  return U_FAILURE(st) ? s : out;
}

bool AllLatin1(const icu::UnicodeString& s) {
  for (int32_t i = 0; i < s.length(); ++i) {
    if (s.charAt(i) > 0xFF) return false;
  }
  return true;
}

// Bytes as code points 0..255 (how the reference's bytes regexes see them).
icu::UnicodeString FromBytes(std::string_view b) {
  icu::UnicodeString u;
  for (unsigned char c : b) u.append(static_cast<UChar>(c));
  return u;
}

// A string as bytes, one per code point; false if a code point is >= 256
// (such a string cannot be compared with binary data).
bool Latin1Bytes(std::string_view utf8, std::string* out) {
  icu::UnicodeString u = FromUtf8(utf8);
  out->clear();
  for (int32_t i = 0; i < u.length(); ++i) {
    UChar c = u.charAt(i);
    if (c > 0xFF) return false;
    out->push_back(static_cast<char>(c));
  }
  return true;
}

bool StartsWithAt(const icu::UnicodeString& s, int32_t i, const char16_t* lit) {
  int32_t n = static_cast<int32_t>(std::char_traits<char16_t>::length(lit));
  return i + n <= s.length() && s.compare(i, n, lit, 0, n) == 0;
}

// Python `re` syntax to ICU syntax, for the constructs that differ:
// (?P<name>...) and (?P=name) groups, and \Z (end of input only).
icu::UnicodeString TranslatePythonRegex(const icu::UnicodeString& re) {
  icu::UnicodeString out;
  int32_t i = 0;
  while (i < re.length()) {
    UChar c = re.charAt(i);
    if (c == u'\\' && i + 1 < re.length()) {
      if (re.charAt(i + 1) == u'Z') {
        out.append(icu::UnicodeString(u"\\z"));
      } else {
        out.append(c).append(re.charAt(i + 1));
      }
      i += 2;
    } else if (StartsWithAt(re, i, u"(?P<")) {
      out.append(icu::UnicodeString(u"(?<"));
      i += 4;
    } else if (StartsWithAt(re, i, u"(?P=")) {
      int32_t close = re.indexOf(u')', i);
      if (close < 0) {
        out.append(c);
        ++i;
        continue;
      }
      out.append(icu::UnicodeString(u"\\k<"));
      out.append(re, i + 4, close - (i + 4));
      out.append(u'>');
      i = close + 1;
    } else {
      out.append(c);
      ++i;
    }
  }
  return out;
}

Result<std::unique_ptr<icu::RegexPattern>> CompileRegex(const icu::UnicodeString& re,
                                                        const std::string& shown) {
  UErrorCode st = U_ZERO_ERROR;
  UParseError pe;
  // UNIX_LINES: only '\n' ends a line for '.', '^' and '$', as in Python.
  std::unique_ptr<icu::RegexPattern> p(
      icu::RegexPattern::compile(re, UREGEX_UNIX_LINES, pe, st));
  if (U_FAILURE(st) || p == nullptr) {
    return EvalError("invalid regular expression '" + shown + "': " + u_errorName(st));
  }
  return p;
}

bool Search(const icu::RegexPattern& p, const icu::UnicodeString& input) {
  UErrorCode st = U_ZERO_ERROR;
  std::unique_ptr<icu::RegexMatcher> m(p.matcher(input, st));
  if (U_FAILURE(st) || m == nullptr) return false;
  bool found = m->find(st);
  return U_SUCCESS(st) && found;
}

// SQL LIKE as the reference translates it: % is .*, _ is ., the rest literal;
// anchored at both ends.
icu::UnicodeString LikeToRegex(const icu::UnicodeString& like) {
  icu::UnicodeString out(u"^");
  for (int32_t i = 0; i < like.length();) {
    UChar32 c = like.char32At(i);
    i += U16_LENGTH(c);
    if (c == u'%') {
      out.append(icu::UnicodeString(u".*"));
    } else if (c == u'_') {
      out.append(u'.');
    } else if (u_isalnum(c)) {
      out.append(c);
    } else {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\x{%X}", static_cast<unsigned>(c));
      out.append(icu::UnicodeString(buf, -1, icu::UnicodeString::kInvariant));
    }
  }
  out.append(u'$');
  return out;
}

// ---------------------------------------------------------------- IP

struct Ip {
  bool v6 = false;
  uint8_t bytes[16] = {};
  int prefix = 0;
};

Result<Ip> ParseAddress(const std::string& s) {
  Ip ip;
  if (s.find(':') != std::string::npos) {
    in6_addr a;
    if (inet_pton(AF_INET6, s.c_str(), &a) != 1) return EvalError("invalid IPv6 address: " + s);
    ip.v6 = true;
    std::memcpy(ip.bytes, &a, 16);
    ip.prefix = 128;
    return ip;
  }
  in_addr a;  // inet_aton, as the reference (1.2.3.4, also 1.2.772, 0x7f.1, ...)
  if (s.find('\0') != std::string::npos || inet_aton(s.c_str(), &a) == 0) {
    return EvalError("invalid IPv4 address: " + s);
  }
  std::memcpy(ip.bytes, &a, 4);
  ip.prefix = 32;
  return ip;
}

// `cidr` requires the "/prefix" part (a container); otherwise it is optional.
Result<Ip> ParseIpOrCidr(std::string_view text, bool cidr) {
  std::string s(text);
  size_t slash = s.find('/');
  if (slash == std::string::npos) {
    if (cidr) return EvalError("invalid CIDR subnet: " + s);
    return ParseAddress(s);
  }
  CORDON_ASSIGN_OR_RETURN(Ip ip, ParseAddress(s.substr(0, slash)));
  std::string prefix = s.substr(slash + 1);
  if (prefix.empty() || prefix.size() > 3 ||
      !std::all_of(prefix.begin(), prefix.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return EvalError("invalid CIDR subnet: " + s);
  }
  int n = std::stoi(prefix);
  if (n < 1 || n > (ip.v6 ? 128 : 32)) return EvalError("invalid CIDR subnet: " + s);
  ip.prefix = n;
  return ip;
}

// Is `inner` (an address or block) inside the block `outer`?
bool Contains(const Ip& outer, const Ip& inner) {
  if (outer.v6 != inner.v6) return false;
  if (outer.prefix > inner.prefix) return false;
  int full = outer.prefix / 8, rest = outer.prefix % 8;
  if (std::memcmp(outer.bytes, inner.bytes, full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (outer.bytes[full] & mask) == (inner.bytes[full] & mask);
}

// ---------------------------------------------------------------- values

// A value selected by an object path: a JSON value, decoded binary (from a
// *_hex / *_bin property) or a dereferenced `_refs` list.
struct PVal {
  enum class K : uint8_t { kJson, kBytes, kList } k = K::kJson;
  const JsonValue* json = nullptr;
  const std::string* bytes = nullptr;
  const std::vector<const JsonValue*>* list = nullptr;
};

// Scalar view of a value or literal, with the reference's Python types.
enum class T : uint8_t { kNull, kBool, kInt, kFloat, kStr, kBytes, kTime, kOther };
struct Scalar {
  T t = T::kOther;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string_view s;  // kStr (UTF-8) / kBytes
  int64_t us = 0;      // kTime (microseconds)
};

Scalar FromVal(const PVal& v) {
  Scalar s;
  if (v.k == PVal::K::kBytes) {
    s.t = T::kBytes;
    s.s = *v.bytes;
    return s;
  }
  if (v.k == PVal::K::kList) return s;
  switch (v.json->kind) {
    case JsonValue::Kind::kNull: s.t = T::kNull; break;
    case JsonValue::Kind::kBool: s.t = T::kBool; s.b = v.json->bool_value; break;
    case JsonValue::Kind::kInt: s.t = T::kInt; s.i = v.json->int_value; break;
    case JsonValue::Kind::kFloat: s.t = T::kFloat; s.f = v.json->float_value; break;
    case JsonValue::Kind::kString: s.t = T::kStr; s.s = v.json->string_value; break;
    default: break;
  }
  return s;
}

bool IsNum(T t) { return t == T::kInt || t == T::kFloat; }

int NumCmp(const Scalar& a, const Scalar& b) {
  if (a.t == T::kInt && b.t == T::kInt) return (a.i > b.i) - (a.i < b.i);
  double x = a.t == T::kInt ? static_cast<double>(a.i) : a.f;
  double y = b.t == T::kInt ? static_cast<double>(b.i) : b.f;
  return (x > y) - (x < y);
}

int BytesCmp(std::string_view a, std::string_view b) {
  int c = a.compare(b);
  return (c > 0) - (c < 0);
}

// The reference's equality table; nullopt where it has no entry (unequal).
std::optional<bool> Eq(const Scalar& a, const Scalar& b) {
  if (IsNum(a.t) && IsNum(b.t)) return NumCmp(a, b) == 0;
  if (a.t == T::kBytes && b.t == T::kBytes) return a.s == b.s;
  if ((a.t == T::kBytes && b.t == T::kStr) || (a.t == T::kStr && b.t == T::kBytes)) {
    const Scalar& str = a.t == T::kStr ? a : b;
    const Scalar& bin = a.t == T::kStr ? b : a;
    std::string latin;
    if (!Latin1Bytes(str.s, &latin)) return false;
    return latin == bin.s;
  }
  if (a.t == T::kStr && b.t == T::kStr) return a.s == b.s;
  if (a.t == T::kBool && b.t == T::kBool) return a.b == b.b;
  if (a.t == T::kTime && b.t == T::kTime) return a.us == b.us;
  return std::nullopt;
}

// The reference's ordering table: nullopt = no entry; kNoOrder = a string
// that cannot be compared with binary (the reference's ValueError).
constexpr int kNoOrder = 2;
std::optional<int> Cmp(const Scalar& a, const Scalar& b) {
  if (IsNum(a.t) && IsNum(b.t)) return NumCmp(a, b);
  if (a.t == T::kBytes && b.t == T::kBytes) return BytesCmp(a.s, b.s);
  if (a.t == T::kBytes && b.t == T::kStr) {
    std::string latin;
    if (!Latin1Bytes(b.s, &latin)) return kNoOrder;
    return BytesCmp(a.s, latin);
  }
  if (a.t == T::kStr && b.t == T::kBytes) {
    std::string latin;
    if (!Latin1Bytes(a.s, &latin)) return kNoOrder;
    return BytesCmp(latin, b.s);
  }
  if (a.t == T::kStr && b.t == T::kStr) return BytesCmp(a.s, b.s);  // UTF-8 keeps code point order
  if (a.t == T::kTime && b.t == T::kTime) return (a.us > b.us) - (a.us < b.us);
  return std::nullopt;
}

// Python `==` as used by `value in set`: bool, int and float are one numeric
// family; str, bytes and datetime only equal themselves.
bool PyEq(const Scalar& a, const Scalar& b) {
  auto numeric = [](T t) { return t == T::kBool || t == T::kInt || t == T::kFloat; };
  if (numeric(a.t) && numeric(b.t)) {
    Scalar x = a, y = b;
    if (x.t == T::kBool) x.t = T::kInt, x.i = x.b ? 1 : 0;
    if (y.t == T::kBool) y.t = T::kInt, y.i = y.b ? 1 : 0;
    return NumCmp(x, y) == 0;
  }
  if (a.t != b.t) return false;
  switch (a.t) {
    case T::kStr:
    case T::kBytes: return a.s == b.s;
    case T::kTime: return a.us == b.us;
    default: return false;
  }
}

// The Python type name of a literal, for the set homogeneity rule.
T LiteralType(const Constant& c) {
  switch (c.type) {
    case Constant::Type::kInt: return T::kInt;
    case Constant::Type::kFloat: return T::kFloat;
    case Constant::Type::kString: return T::kStr;
    case Constant::Type::kBool: return T::kBool;
    case Constant::Type::kHex:
    case Constant::Type::kBinary: return T::kBytes;
    case Constant::Type::kTimestamp: return T::kTime;
  }
  return T::kOther;
}

Result<Scalar> FromConstant(const Constant& c) {
  Scalar s;
  s.t = LiteralType(c);
  switch (c.type) {
    case Constant::Type::kInt: s.i = c.int_value; break;
    case Constant::Type::kFloat: s.f = c.float_value; break;
    case Constant::Type::kBool: s.b = c.int_value != 0; break;
    case Constant::Type::kString:
    case Constant::Type::kHex:
    case Constant::Type::kBinary: s.s = c.bytes; break;
    case Constant::Type::kTimestamp: {
      auto us = internal::ParseRefTimestamp(c.bytes);
      if (!us.ok()) return EvalError("invalid timestamp literal t'" + c.bytes + "'");
      s.us = *us;
      break;
    }
  }
  return s;
}

Result<std::string> HexDecode(std::string_view s) {
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (s.size() % 2 != 0) return EvalError("odd-length hex string");
  std::string out;
  for (size_t i = 0; i < s.size(); i += 2) {
    int h = nib(s[i]), l = nib(s[i + 1]);
    if (h < 0 || l < 0) return EvalError("non-hexadecimal digit in hex string");
    out.push_back(static_cast<char>(h * 16 + l));
  }
  return out;
}

// Python's base64.standard_b64decode: characters outside the alphabet are
// skipped; the padding must be right.
Result<std::string> Base64Decode(std::string_view s) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int n = 0, pads = 0;
  for (char c : s) {
    if (c == '=') {
      ++pads;
      if (n == 2 && pads >= 2) break;
      if (n == 3 && pads >= 1) break;
      continue;
    }
    int v = val(c);
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if (++n == 4) {
      out.push_back(static_cast<char>(acc >> 16));
      out.push_back(static_cast<char>(acc >> 8));
      out.push_back(static_cast<char>(acc));
      acc = 0;
      n = 0;
    }
  }
  if (n == 1) return EvalError("invalid base64 data");
  if (n == 2) {
    if (pads < 2) return EvalError("incorrect base64 padding");
    out.push_back(static_cast<char>(acc >> 4));
  } else if (n == 3) {
    if (pads < 1) return EvalError("incorrect base64 padding");
    out.push_back(static_cast<char>(acc >> 10));
    out.push_back(static_cast<char>(acc >> 2));
  }
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// ---------------------------------------------------------------- tests

// A comparison prepared once per evaluation.
struct Test {
  const Comparison* cmp = nullptr;
  Scalar lit;                          // single-value operators
  std::vector<Scalar> set;             // IN
  bool set_of_timestamps = false;
  std::unique_ptr<icu::RegexPattern> re;      // MATCHES, LIKE
  bool bytes_ok = false;                      // regex is all Latin-1
  std::optional<Result<Ip>> ip;               // ISSUBSET container / ISSUPERSET containee
};

Result<Test> Prepare(const Comparison& c) {
  Test t;
  t.cmp = &c;
  switch (c.op) {
    case CompareOp::kExists:
      break;
    case CompareOp::kIn: {
      bool homogeneous = true, only_numbers = true;
      for (const Constant& v : c.values) {
        CORDON_ASSIGN_OR_RETURN(Scalar s, FromConstant(v));
        if (!t.set.empty() && s.t != t.set.front().t) homogeneous = false;
        if (!IsNum(s.t)) only_numbers = false;
        t.set.push_back(s);
      }
      if (!homogeneous && !only_numbers) return EvalError("IN set mixes value types");
      t.set_of_timestamps = !t.set.empty() && t.set.front().t == T::kTime;
      break;
    }
    case CompareOp::kLike: {
      if (c.values.size() != 1) return EvalError("LIKE needs one value");
      icu::UnicodeString re = LikeToRegex(Nfc(FromUtf8(c.values[0].bytes)));
      t.bytes_ok = AllLatin1(re);
      CORDON_ASSIGN_OR_RETURN(t.re, CompileRegex(re, c.values[0].bytes));
      break;
    }
    case CompareOp::kMatches: {
      if (c.values.size() != 1) return EvalError("MATCHES needs one value");
      icu::UnicodeString re = TranslatePythonRegex(Nfc(FromUtf8(c.values[0].bytes)));
      CORDON_ASSIGN_OR_RETURN(t.re, CompileRegex(re, c.values[0].bytes));
      // Binary values are matched as Latin-1 text with the same pattern.
      t.bytes_ok = AllLatin1(re);
      break;
    }
    case CompareOp::kIsSubset:
    case CompareOp::kIsSuperset:
      if (c.values.size() != 1) return EvalError("ISSUBSET/ISSUPERSET need one value");
      t.ip = ParseIpOrCidr(c.values[0].bytes, c.op == CompareOp::kIsSubset);
      break;
    default:
      if (c.values.size() != 1) return EvalError("comparison needs one value");
      CORDON_ASSIGN_OR_RETURN(t.lit, FromConstant(c.values[0]));
      break;
  }
  return t;
}

Result<Scalar> AsTimestamp(const Scalar& v) {
  auto us = internal::ParseRefTimestamp(v.s);
  if (!us.ok()) return EvalError("invalid timestamp in JSON: '" + std::string(v.s) + "'");
  Scalar out;
  out.t = T::kTime;
  out.us = *us;
  return out;
}

// Does one selected value pass the test (NOT included)?
Result<bool> TestValue(const Test& t, const PVal& pv) {
  const Comparison& c = *t.cmp;
  Scalar v = FromVal(pv);
  bool r = false;
  switch (c.op) {
    case CompareOp::kEqual:
    case CompareOp::kNotEqual: {
      if (t.lit.t == T::kTime && v.t == T::kStr) {
        CORDON_ASSIGN_OR_RETURN(v, AsTimestamp(v));
      }
      r = Eq(v, t.lit).value_or(false);
      if (c.op == CompareOp::kNotEqual) r = !r;
      break;
    }
    case CompareOp::kLess:
    case CompareOp::kLessEqual:
    case CompareOp::kGreater:
    case CompareOp::kGreaterEqual: {
      if (t.lit.t == T::kTime && v.t == T::kStr) {
        CORDON_ASSIGN_OR_RETURN(v, AsTimestamp(v));
      }
      std::optional<int> o = Cmp(v, t.lit);
      if (!o) return false;  // no ordering between these types, NOT or not
      if (*o == kNoOrder) {
        r = false;
      } else if (c.op == CompareOp::kLess) {
        r = *o < 0;
      } else if (c.op == CompareOp::kLessEqual) {
        r = *o <= 0;
      } else if (c.op == CompareOp::kGreater) {
        r = *o > 0;
      } else {
        r = *o >= 0;
      }
      break;
    }
    case CompareOp::kIn: {
      if (t.set_of_timestamps && v.t == T::kStr) {
        CORDON_ASSIGN_OR_RETURN(v, AsTimestamp(v));
      }
      for (const Scalar& s : t.set) {
        if (PyEq(v, s)) {
          r = true;
          break;
        }
      }
      break;
    }
    case CompareOp::kLike: {
      icu::UnicodeString text;
      bool is_text = false;
      if (v.t == T::kStr) {
        text = FromUtf8(v.s);
        is_text = true;
      } else if (v.t == T::kBytes && t.bytes_ok) {
        // The reference decodes binary as UTF-8 (and fails on invalid
        // UTF-8, a Python error, not a MatcherException): invalid UTF-8
        // is taken as a non-string here, i.e. no match.
        UErrorCode st = U_ZERO_ERROR;
        int32_t len = 0;
        u_strFromUTF8(nullptr, 0, &len, v.s.data(), static_cast<int32_t>(v.s.size()), &st);
        if (st != U_INVALID_CHAR_FOUND) {
          text = FromUtf8(v.s);
          is_text = true;
        }
      }
      if (is_text) r = Search(*t.re, Nfc(text));
      break;
    }
    case CompareOp::kMatches: {
      if (v.t == T::kStr) {
        r = Search(*t.re, Nfc(FromUtf8(v.s)));
      } else if (v.t == T::kBytes && t.bytes_ok) {
        r = Search(*t.re, FromBytes(v.s));
      }
      break;
    }
    case CompareOp::kIsSubset: {
      if (v.t == T::kStr) {
        CORDON_ASSIGN_OR_RETURN(Ip inner, ParseIpOrCidr(v.s, false));
        if (!t.ip->ok()) return t.ip->status();
        r = Contains(**t.ip, inner);
      }
      break;
    }
    case CompareOp::kIsSuperset: {
      if (v.t == T::kStr) {
        if (!t.ip->ok()) return t.ip->status();
        CORDON_ASSIGN_OR_RETURN(Ip outer, ParseIpOrCidr(v.s, true));
        r = Contains(outer, **t.ip);
      }
      break;
    }
    case CompareOp::kExists:
      r = true;
      break;
  }
  return c.negated ? !r : r;
}

// ---------------------------------------------------------------- evaluator

using Binding = std::vector<uint64_t>;  // observation index << 32 | instance
using Callback = std::function<bool(const Binding&)>;  // true: stop

constexpr int64_t kMaxSteps = 200'000'000;

class Evaluator {
 public:
  Evaluator(const Pattern& p, const ObservationSet& set) : p_(p), set_(set) {}

  Result<MatchResult> Run() {
    if (p_.observations.empty() || p_.root >= p_.observations.size()) {
      return EvalError("empty pattern");
    }
    // Phase 0: literals, regexes and qualifiers (errors whatever the data).
    tests_.resize(p_.comparisons.size());
    for (size_t i = 0; i < p_.comparisons.size(); ++i) {
      if (p_.comparisons[i].kind != ComparisonNode::Kind::kTest) continue;
      CORDON_ASSIGN_OR_RETURN(Test t, Prepare(p_.comparisons[i].test));
      tests_[i] = std::make_unique<Test>(std::move(t));
    }
    quals_.resize(p_.observations.size());
    for (size_t i = 0; i < p_.observations.size(); ++i) {
      for (const Qualifier& q : p_.observations[i].qualifiers) {
        CORDON_ASSIGN_OR_RETURN(Qual pq, PrepareQualifier(q));
        quals_[i].push_back(pq);
      }
    }
    // Phase 1: which observations satisfy each [...].
    leaf_obs_.resize(p_.observations.size());
    for (size_t i = 0; i < p_.observations.size(); ++i) {
      const ObservationNode& n = p_.observations[i];
      if (n.kind != ObservationNode::Kind::kObservation) continue;
      for (size_t o = 0; o < set_.size(); ++o) {
        CORDON_ASSIGN_OR_RETURN(std::vector<uint32_t> roots, EvalComparison(n.comparison, o));
        if (!roots.empty()) leaf_obs_[i].push_back(static_cast<uint32_t>(o));
      }
    }
    // Phase 2: the search.
    instance_cap_ = BindingSize(p_.root);
    disjoint_possible_.assign(p_.observations.size(), -1);
    MatchResult result;
    Binding found;
    Enum(p_.root, p_.observations[p_.root].qualifiers.size(), [&](const Binding& b) {
      found = b;
      return true;
    });
    if (steps_ > kMaxSteps) {
      return absl::ResourceExhaustedError("evaluation: pattern too expensive to evaluate");
    }
    if (found.empty()) return result;
    result.matched = true;
    for (uint64_t id : found) result.observations.push_back(static_cast<size_t>(id >> 32));
    std::sort(result.observations.begin(), result.observations.end());
    result.observations.erase(std::unique(result.observations.begin(), result.observations.end()),
                              result.observations.end());
    for (size_t o : result.observations) {
      result.observed_data_ids.push_back(set_.observations()[o].id);
    }
    return result;
  }

 private:
  struct Qual {
    Qualifier::Kind kind;
    int64_t repeats = 0;
    int64_t within_us = 0;
    int64_t start_us = 0, stop_us = 0;
  };

  Result<Qual> PrepareQualifier(const Qualifier& q) {
    Qual out;
    out.kind = q.kind;
    switch (q.kind) {
      case Qualifier::Kind::kRepeats:
        if (q.repeats < 1) return EvalError("REPEATS count must be >= 1");
        out.repeats = q.repeats;
        break;
      case Qualifier::Kind::kWithin:
        if (!(q.within_seconds > 0)) return EvalError("WITHIN duration must be positive");
        // Python's timedelta keeps microseconds.
        out.within_us = q.within_seconds > 9e12 ? int64_t{9'000'000'000'000'000'000}
                                                : std::llround(q.within_seconds * 1e6);
        break;
      case Qualifier::Kind::kStartStop: {
        for (auto [c, dst] : {std::pair{&q.start, &out.start_us}, std::pair{&q.stop, &out.stop_us}}) {
          auto us = internal::ParseRefTimestamp(c->bytes);
          if (!us.ok()) {
            return EvalError("invalid START/STOP timestamp '" + c->bytes + "'");
          }
          *dst = *us;
        }
        break;
      }
    }
    return out;
  }

  // The values `path` selects from `root` (an object of observation `obs`).
  Status WalkPath(const ObjectPath& path, size_t obs, const JsonValue* root,
                  std::vector<PVal>* out) {
    std::vector<PVal> cur{PVal{PVal::K::kJson, root}}, next;
    for (const PathStep& step : path.steps) {
      next.clear();
      switch (step.kind) {
        case PathStep::Kind::kKey: {
          for (const PVal& v : cur) {
            if (v.k != PVal::K::kJson) continue;
            const JsonValue* child = v.json->Find(step.key);
            if (child == nullptr) continue;
            if (EndsWith(step.key, "_hex") || EndsWith(step.key, "_bin")) {
              if (child->kind != JsonValue::Kind::kString) {
                return EvalError("property '" + step.key + "' is not a string");
              }
              Result<std::string> bytes = EndsWith(step.key, "_hex")
                                              ? HexDecode(child->string_value)
                                              : Base64Decode(child->string_value);
              if (!bytes.ok()) {
                return EvalError("property '" + step.key + "': " +
                                 std::string(bytes.status().message()));
              }
              bytes_arena_.push_back(std::move(*bytes));
              next.push_back(PVal{PVal::K::kBytes, nullptr, &bytes_arena_.back()});
            } else {
              next.push_back(PVal{PVal::K::kJson, child});
            }
          }
          if (EndsWith(step.key, "_ref")) {
            std::vector<PVal> deref;
            for (const PVal& v : next) {
              if (v.k != PVal::K::kJson || v.json->kind != JsonValue::Kind::kString) {
                return EvalError("the value of reference property '" + step.key +
                                 "' is not a string");
              }
              if (const JsonValue* t = set_.Resolve(obs, v.json->string_value)) {
                deref.push_back(PVal{PVal::K::kJson, t});
              }
            }
            next.swap(deref);
          } else if (EndsWith(step.key, "_refs")) {
            std::vector<PVal> deref;
            for (const PVal& v : next) {
              if (v.k != PVal::K::kJson || v.json->kind != JsonValue::Kind::kArray) {
                return EvalError("the value of reference list property '" + step.key +
                                 "' is not a list");
              }
              std::vector<const JsonValue*> targets;
              for (const JsonValue& r : v.json->items) {
                if (r.kind != JsonValue::Kind::kString) {
                  return EvalError("a value of reference property '" + step.key +
                                   "' is not a string");
                }
                if (const JsonValue* t = set_.Resolve(obs, r.string_value)) targets.push_back(t);
              }
              if (targets.empty()) continue;
              list_arena_.push_back(std::move(targets));
              deref.push_back(PVal{PVal::K::kList, nullptr, nullptr, &list_arena_.back()});
            }
            next.swap(deref);
          }
          break;
        }
        case PathStep::Kind::kIndex: {
          for (const PVal& v : cur) {
            if (step.index < 0) continue;
            size_t i = static_cast<size_t>(step.index);
            if (v.k == PVal::K::kJson && v.json->kind == JsonValue::Kind::kArray &&
                i < v.json->items.size()) {
              next.push_back(PVal{PVal::K::kJson, &v.json->items[i]});
            } else if (v.k == PVal::K::kList && i < v.list->size()) {
              next.push_back(PVal{PVal::K::kJson, (*v.list)[i]});
            }
          }
          break;
        }
        case PathStep::Kind::kAnyIndex: {
          for (const PVal& v : cur) {
            if (v.k == PVal::K::kJson && v.json->kind == JsonValue::Kind::kArray) {
              for (const JsonValue& item : v.json->items) next.push_back(PVal{PVal::K::kJson, &item});
            } else if (v.k == PVal::K::kList) {
              for (const JsonValue* item : *v.list) next.push_back(PVal{PVal::K::kJson, item});
            }
          }
          break;
        }
      }
      cur.swap(next);
      if (cur.empty()) break;
    }
    *out = std::move(cur);
    return Status();
  }

  // The root objects (indexes into the observation's objects) satisfying
  // comparison node `idx` in observation `obs`, ascending.
  Result<std::vector<uint32_t>> EvalComparison(uint32_t idx, size_t obs) {
    const ComparisonNode& n = p_.comparisons[idx];
    std::vector<uint32_t> out;
    if (n.kind == ComparisonNode::Kind::kTest) {
      const Test& t = *tests_[idx];
      const Observation& o = set_.observations()[obs];
      std::vector<PVal> values;
      for (size_t r = 0; r < o.objects.size(); ++r) {
        const JsonValue* type = o.objects[r]->Find("type");
        if (type == nullptr || type->kind != JsonValue::Kind::kString ||
            type->string_value != n.test.path.object_type) {
          continue;
        }
        CORDON_RETURN_IF_ERROR(WalkPath(n.test.path, obs, o.objects[r], &values));
        bool pass = false;
        if (n.test.op == CompareOp::kExists) {
          pass = values.empty() == n.test.negated;
        } else {
          for (const PVal& v : values) {
            CORDON_ASSIGN_OR_RETURN(bool ok, TestValue(t, v));
            if (ok) {
              pass = true;
              break;
            }
          }
        }
        if (pass) out.push_back(static_cast<uint32_t>(r));
      }
      bytes_arena_.clear();
      list_arena_.clear();
      return out;
    }
    bool first = true;
    for (uint32_t child : n.children) {
      CORDON_ASSIGN_OR_RETURN(std::vector<uint32_t> roots, EvalComparison(child, obs));
      if (first) {
        out = std::move(roots);
        first = false;
        continue;
      }
      std::vector<uint32_t> merged;
      if (n.kind == ComparisonNode::Kind::kAnd) {
        std::set_intersection(out.begin(), out.end(), roots.begin(), roots.end(),
                              std::back_inserter(merged));
      } else {
        std::set_union(out.begin(), out.end(), roots.begin(), roots.end(),
                       std::back_inserter(merged));
      }
      out.swap(merged);
    }
    return out;
  }

  // The most observation instances one binding of `node` can hold: no
  // binding needs more instances of one observation than that, so instance
  // numbers beyond it are never tried (they are interchangeable).
  int64_t BindingSize(uint32_t node) {
    const ObservationNode& n = p_.observations[node];
    constexpr int64_t kCap = int64_t{1} << 40;
    int64_t size = 0;
    switch (n.kind) {
      case ObservationNode::Kind::kObservation: size = 1; break;
      case ObservationNode::Kind::kOr:
        for (uint32_t c : n.children) size = std::max(size, BindingSize(c));
        break;
      default:
        for (uint32_t c : n.children) size = std::min(kCap, size + BindingSize(c));
        break;
    }
    for (const Qualifier& q : n.qualifiers) {
      if (q.kind == Qualifier::Kind::kRepeats && q.repeats > 0) {
        size = size > kCap / q.repeats ? kCap : size * q.repeats;
      }
    }
    return size;
  }

  int64_t First(uint64_t id) const { return set_.observations()[id >> 32].first_observed_us; }
  int64_t Last(uint64_t id) const { return set_.observations()[id >> 32].last_observed_us; }

  static bool Disjoint(const Binding& a, const Binding& b) {
    for (uint64_t x : a) {
      for (uint64_t y : b) {
        if (x == y) return false;
      }
    }
    return true;
  }

  // Calls cb with each binding of `node` under its first `nq` qualifiers;
  // returns true as soon as cb does (or the step budget runs out).
  bool Enum(uint32_t node, size_t nq, const Callback& cb) {
    if (nq == 0) return EnumBase(node, cb);
    const Qual& q = quals_[node][nq - 1];
    switch (q.kind) {
      case Qualifier::Kind::kWithin:
        return Enum(node, nq - 1, [&](const Binding& b) {
          int64_t max_first = INT64_MIN, min_last = INT64_MAX;
          for (uint64_t id : b) {
            max_first = std::max(max_first, First(id));
            min_last = std::min(min_last, Last(id));
          }
          // A window [min_last, min_last + d] must touch every interval.
          if (max_first - min_last > q.within_us) return false;
          return cb(b);
        });
      case Qualifier::Kind::kStartStop:
        if (q.start_us >= q.stop_us) return false;
        return Enum(node, nq - 1, [&](const Binding& b) {
          for (uint64_t id : b) {
            if (!(First(id) < q.stop_us && Last(id) >= q.start_us)) return false;
          }
          return cb(b);
        });
      case Qualifier::Kind::kRepeats: {
        if (q.repeats == 1) return Enum(node, nq - 1, cb);
        std::vector<Binding> seen;
        return Enum(node, nq - 1, [&](const Binding& b) {
          std::vector<const Binding*> cands;
          for (const Binding& s : seen) {
            if (Disjoint(s, b)) cands.push_back(&s);
          }
          Binding acc = b;
          bool stop = Combine(cands, 0, q.repeats - 1, &acc, cb);
          seen.push_back(b);
          return stop;
        });
      }
    }
    return false;
  }

  // Chooses `need` pairwise disjoint bindings from cands[start..], each
  // disjoint from *acc, in index order.
  bool Combine(const std::vector<const Binding*>& cands, size_t start, int64_t need, Binding* acc,
               const Callback& cb) {
    if (need == 0) return cb(*acc);
    if (static_cast<int64_t>(cands.size() - start) < need) return false;
    if (start == 0) {
      // Upper bound: distinct instances available / smallest binding size.
      std::vector<uint64_t> ids;
      size_t min_size = SIZE_MAX;
      for (const Binding* c : cands) {
        ids.insert(ids.end(), c->begin(), c->end());
        min_size = std::min(min_size, c->size());
      }
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      if (min_size == 0 || static_cast<int64_t>(ids.size() / min_size) < need) return false;
    }
    for (size_t i = start; i < cands.size(); ++i) {
      if (++steps_ > kMaxSteps) return true;
      if (!Disjoint(*acc, *cands[i])) continue;
      size_t old = acc->size();
      acc->insert(acc->end(), cands[i]->begin(), cands[i]->end());
      bool stop = Combine(cands, i + 1, need - 1, acc, cb);
      acc->resize(old);
      if (stop) return true;
    }
    return false;
  }

  bool EnumBase(uint32_t node, const Callback& cb) {
    const ObservationNode& n = p_.observations[node];
    switch (n.kind) {
      case ObservationNode::Kind::kObservation: {
        Binding b(1);
        for (uint32_t o : leaf_obs_[node]) {
          int64_t count = std::min(set_.observations()[o].number_observed, instance_cap_);
          for (int64_t i = 0; i < count; ++i) {
            if (++steps_ > kMaxSteps) return true;
            b[0] = (uint64_t{o} << 32) | static_cast<uint64_t>(i);
            if (cb(b)) return true;
          }
        }
        return false;
      }
      case ObservationNode::Kind::kGroup:
        return Enum(n.children[0], p_.observations[n.children[0]].qualifiers.size(), cb);
      case ObservationNode::Kind::kOr:
        for (uint32_t c : n.children) {
          if (Enum(c, p_.observations[c].qualifiers.size(), cb)) return true;
        }
        return false;
      case ObservationNode::Kind::kAnd:
      case ObservationNode::Kind::kFollowedBy: {
        // Once per node: Join enumerates a nested AND again for every binding of its siblings.
        if (disjoint_possible_[node] < 0) disjoint_possible_[node] = CanBindDisjoint(n);
        if (!disjoint_possible_[node]) return false;
        Binding partial;
        return Join(n, 0, &partial, cb);
      }
    }
    return false;
  }

  // A necessary condition for AND / FOLLOWEDBY, whose children bind pairwise
  // disjoint instances. When every child is one [...] (a binding of one
  // instance), it is a bipartite matching of children to instances (an
  // observation offers min(number_observed, cap) of them), found by
  // augmenting paths in polynomial time. Without it, too few instances made
  // Join try every assignment before failing: ten ANDed copies of one [...]
  // over 20 observations took 10 s (found by pattern_fuzz).
  bool CanBindDisjoint(const ObservationNode& n) {
    for (uint32_t c : n.children) {
      const ObservationNode& child = p_.observations[c];
      if (child.kind != ObservationNode::Kind::kObservation) return true;  // not this simple case
      for (const Qual& q : quals_[c])
        if (q.kind == Qualifier::Kind::kRepeats && q.repeats > 1) return true;
    }
    std::vector<std::vector<size_t>> holders(set_.size());  // per observation: the children bound to it
    std::vector<char> visited;
    std::function<bool(size_t)> augment = [&](size_t child) {
      for (uint32_t o : leaf_obs_[n.children[child]]) {
        if (visited[o]) continue;
        visited[o] = 1;
        ++steps_;
        if (static_cast<int64_t>(holders[o].size()) < std::min(set_.observations()[o].number_observed, instance_cap_)) {
          holders[o].push_back(child);
          return true;
        }
        for (size_t& holder : holders[o]) {  // move a holder elsewhere (visited: holders[o] stays put)
          if (augment(holder)) {
            holder = child;
            return true;
          }
        }
      }
      return false;
    };
    for (size_t child = 0; child < n.children.size(); ++child) {
      visited.assign(set_.size(), 0);
      if (!augment(child)) return false;
    }
    return true;
  }

  // AND / FOLLOWEDBY, left-associated like the grammar: child i joins the
  // binding of children 0..i-1.
  bool Join(const ObservationNode& n, size_t i, Binding* partial, const Callback& cb) {
    if (i == n.children.size()) return cb(*partial);
    uint32_t c = n.children[i];
    bool followed = n.kind == ObservationNode::Kind::kFollowedBy;
    return Enum(c, p_.observations[c].qualifiers.size(), [&](const Binding& b) {
      if (!Disjoint(*partial, b)) return false;
      if (followed && i > 0) {
        int64_t max_first = INT64_MIN, min_last = INT64_MAX;
        for (uint64_t id : *partial) max_first = std::max(max_first, First(id));
        for (uint64_t id : b) min_last = std::min(min_last, Last(id));
        if (max_first > min_last) return false;
      }
      size_t old = partial->size();
      partial->insert(partial->end(), b.begin(), b.end());
      bool stop = Join(n, i + 1, partial, cb);
      partial->resize(old);
      return stop;
    });
  }

  const Pattern& p_;
  const ObservationSet& set_;
  std::vector<std::unique_ptr<Test>> tests_;
  std::vector<std::vector<Qual>> quals_;
  std::vector<std::vector<uint32_t>> leaf_obs_;
  std::vector<int8_t> disjoint_possible_;  // per node: CanBindDisjoint, -1 until computed
  std::deque<std::string> bytes_arena_;
  std::deque<std::vector<const JsonValue*>> list_arena_;
  int64_t instance_cap_ = 1;
  int64_t steps_ = 0;
};

}  // namespace

Result<MatchResult> Evaluate(const Pattern& pattern, const ObservationSet& observed) {
  Evaluator e(pattern, observed);
  return e.Run();
}

}  // namespace cordon::pattern
