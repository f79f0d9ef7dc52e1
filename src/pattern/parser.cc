// Recursive-descent parser for STIX patterns (grammar: OASIS STIXPattern.g4,
// 2.0 and 2.1), building the arena AST of ast.h.
//
//   pattern      := obsFollowed EOF
//   obsFollowed  := obsOr (FOLLOWEDBY obsOr)*
//   obsOr        := obsAnd (OR obsAnd)*
//   obsAnd       := obsUnit (AND obsUnit)*
//   obsUnit      := ( '[' cmpOr ']' | '(' obsFollowed ')' ) qualifier*
//   qualifier    := START ts STOP ts | WITHIN number SECONDS | REPEATS int TIMES
//   cmpOr        := cmpAnd (OR cmpAnd)*
//   cmpAnd       := cmpUnit (AND cmpUnit)*
//   cmpUnit      := '(' cmpOr ')' | EXISTS path | path NOT? op value
//   path         := type ':' (ident | string) ( '.' (ident | string)
//                                               | '[' (int | '*') ']' )*
#include <charconv>
#include <cstring>
#include <string>
#include <utility>

#include "base/time.h"
#include "pattern/ast.h"
#include "pattern/lexer.h"
#include "pattern/pattern.h"

namespace cordon::pattern {
namespace {

using internal::Lexer;
using internal::Tok;
using internal::Token;

constexpr int kMaxDepth = 200;

bool IsQualifierStart(Tok k) {
  return k == Tok::kStart || k == Tok::kWithin || k == Tok::kRepeats;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  return c == '+' ? 62 : 63;
}

// `s` has passed internal::IsTimestampText.
Timestamp TimestampFromText(std::string_view s) {
  auto num = [&](size_t i, size_t n) {
    int64_t v = 0;
    for (size_t k = i; k < i + n; ++k) v = v * 10 + (s[k] - '0');
    return v;
  };
  // Day numbers past the month's end roll over (Feb 30 -> Mar 1 or 2).
  int64_t days = DaysFromCivil(num(0, 4), static_cast<unsigned>(num(5, 2)),
                               static_cast<unsigned>(num(8, 2)));
  int64_t secs = days * 86400 + num(11, 2) * 3600 + num(14, 2) * 60 + num(17, 2);
  int64_t frac = 0;
  int digits = 0;
  if (s[19] == '.') {
    for (size_t i = 20; i + 1 < s.size() && digits < 9; ++i, ++digits) {
      frac = frac * 10 + (s[i] - '0');
    }
    for (int k = digits; k < 9; ++k) frac *= 10;
  }
  // Years past 2262 (a STOP t'9999-...' means "no end") saturate.
  return FromUnixSeconds(secs, frac, static_cast<int8_t>(digits));
}

class Parser {
 public:
  Parser(std::string_view text, Version v)
      : text_(text), lex_(text, v == Version::k21), v_(v) {
    out_.version = v;
    Advance();
  }

  Result<Pattern> Run() {
    if (tok_.kind != Tok::kLBrack && tok_.kind != Tok::kLParen &&
        tok_.kind != Tok::kError) {
      return ErrorAt(tok_, "a pattern starts with '[' or '(' (input is missing square "
                           "brackets) but found " + Found(tok_));
    }
    uint32_t root;
    CORDON_RETURN_IF_ERROR(ObsFollowedBy(&root, 0));
    if (tok_.kind != Tok::kEnd) {
      return Expected("AND, OR, FOLLOWEDBY, a qualifier or end of input");
    }
    out_.root = root;
    return std::move(out_);
  }

 private:
  void Advance() { tok_ = lex_.Next(); }

  std::string Found(const Token& t) const {
    if (t.kind == Tok::kEnd) return "end of input";
    std::string s = "'";
    if (t.text.size() > 40) {
      s.append(t.text.substr(0, 37)).append("...");
    } else {
      s.append(t.text);
    }
    return s + "'";
  }

  Status ErrorAt(const Token& t, const std::string& what) const {
    return absl::InvalidArgumentError("column " +
                                      std::to_string(internal::ColumnOf(text_, t.offset)) +
                                      ": " + what);
  }
  Status ErrorAtOffset(uint32_t offset, const std::string& what) const {
    return absl::InvalidArgumentError("column " +
                                      std::to_string(internal::ColumnOf(text_, offset)) +
                                      ": " + what);
  }

  // "expected X but found Y" at the current token; a malformed literal
  // reports its own reason instead.
  Status Expected(const std::string& what) const {
    if (tok_.kind == Tok::kError) return ErrorAt(tok_, tok_.error);
    return ErrorAt(tok_, "expected " + what + " but found " + Found(tok_));
  }

  Status Expect(Tok k) {
    if (tok_.kind != k) return Expected(internal::TokName(k));
    Advance();
    return Status();
  }

  int Column(const Token& t) const { return internal::ColumnOf(text_, t.offset); }

  uint32_t NewObs(ObservationNode::Kind k, int column) {
    out_.observations.emplace_back();
    out_.observations.back().kind = k;
    out_.observations.back().column = column;
    return static_cast<uint32_t>(out_.observations.size() - 1);
  }
  uint32_t NewCmp(ComparisonNode::Kind k, int column) {
    out_.comparisons.emplace_back();
    out_.comparisons.back().kind = k;
    out_.comparisons.back().column = column;
    return static_cast<uint32_t>(out_.comparisons.size() - 1);
  }

  // ---- observation expressions ----

  using ObsFn = Status (Parser::*)(uint32_t*, int);

  // Parses `sub (op sub)*` into one n-ary node of `kind` (or `sub` alone).
  Status ObsChain(uint32_t* out, int depth, Tok op, ObservationNode::Kind kind, ObsFn sub) {
    const int column = Column(tok_);
    uint32_t first;
    CORDON_RETURN_IF_ERROR((this->*sub)(&first, depth));
    if (tok_.kind != op) {
      *out = first;
      return Status();
    }
    std::vector<uint32_t> children{first};
    while (tok_.kind == op) {
      Advance();
      uint32_t next;
      CORDON_RETURN_IF_ERROR((this->*sub)(&next, depth));
      children.push_back(next);
    }
    *out = NewObs(kind, column);
    out_.observations[*out].children = std::move(children);
    return Status();
  }

  Status ObsFollowedBy(uint32_t* out, int depth) {
    return ObsChain(out, depth, Tok::kFollowedBy, ObservationNode::Kind::kFollowedBy,
                    &Parser::ObsOr);
  }
  Status ObsOr(uint32_t* out, int depth) {
    return ObsChain(out, depth, Tok::kOr, ObservationNode::Kind::kOr, &Parser::ObsAnd);
  }
  Status ObsAnd(uint32_t* out, int depth) {
    return ObsChain(out, depth, Tok::kAnd, ObservationNode::Kind::kAnd, &Parser::ObsUnit);
  }

  Status ObsUnit(uint32_t* out, int depth) {
    if (depth > kMaxDepth) return ErrorAt(tok_, "expression nested too deeply");
    const Token start = tok_;
    uint32_t node;
    if (tok_.kind == Tok::kLBrack) {
      Advance();
      uint32_t cmp;
      CORDON_RETURN_IF_ERROR(CmpOr(&cmp, depth + 1));
      if (tok_.kind != Tok::kRBrack) return Expected("']', AND or OR");
      Advance();
      node = NewObs(ObservationNode::Kind::kObservation, Column(start));
      out_.observations[node].comparison = cmp;
    } else if (tok_.kind == Tok::kLParen) {
      Advance();
      uint32_t inner;
      CORDON_RETURN_IF_ERROR(ObsFollowedBy(&inner, depth + 1));
      if (tok_.kind != Tok::kRParen) return Expected("')', AND, OR or FOLLOWEDBY");
      Advance();
      if (!IsQualifierStart(tok_.kind)) {
        *out = inner;
        return Status();
      }
      node = NewObs(ObservationNode::Kind::kGroup, Column(start));
      out_.observations[node].children.push_back(inner);
    } else {
      return Expected("'[' or '('");
    }
    while (IsQualifierStart(tok_.kind)) {
      Qualifier q;
      CORDON_RETURN_IF_ERROR(ParseQualifier(&q));
      out_.observations[node].qualifiers.push_back(std::move(q));
    }
    *out = node;
    return Status();
  }

  Status StartStopValue(Constant* c) {
    if (tok_.kind == Tok::kTimestamp ||
        (v_ == Version::k20 && tok_.kind == Tok::kString)) {
      return ParseConstant(c);
    }
    return Expected(v_ == Version::k20 ? "a timestamp t'...' or string" : "a timestamp t'...'");
  }

  Status ParseQualifier(Qualifier* q) {
    q->column = Column(tok_);
    switch (tok_.kind) {
      case Tok::kStart:
        q->kind = Qualifier::Kind::kStartStop;
        Advance();
        CORDON_RETURN_IF_ERROR(StartStopValue(&q->start));
        CORDON_RETURN_IF_ERROR(Expect(Tok::kStop));
        return StartStopValue(&q->stop);
      case Tok::kWithin: {
        q->kind = Qualifier::Kind::kWithin;
        Advance();
        if ((tok_.kind != Tok::kInt && tok_.kind != Tok::kFloat) || tok_.text[0] == '-') {
          return Expected("a positive number of seconds");
        }
        Constant c;
        CORDON_RETURN_IF_ERROR(ParseConstant(&c));
        q->within_seconds =
            c.type == Constant::Type::kInt ? static_cast<double>(c.int_value) : c.float_value;
        return Expect(Tok::kSeconds);
      }
      default: {
        q->kind = Qualifier::Kind::kRepeats;
        Advance();
        if (tok_.kind != Tok::kInt || tok_.text[0] == '-') {
          return Expected("a positive integer");
        }
        Constant c;
        CORDON_RETURN_IF_ERROR(ParseConstant(&c));
        q->repeats = c.int_value;
        return Expect(Tok::kTimes);
      }
    }
  }

  // ---- comparison expressions ----

  using CmpFn = Status (Parser::*)(uint32_t*, int);

  Status CmpChain(uint32_t* out, int depth, Tok op, ComparisonNode::Kind kind, CmpFn sub) {
    const int column = Column(tok_);
    uint32_t first;
    CORDON_RETURN_IF_ERROR((this->*sub)(&first, depth));
    if (tok_.kind != op) {
      *out = first;
      return Status();
    }
    std::vector<uint32_t> children{first};
    while (tok_.kind == op) {
      Advance();
      uint32_t next;
      CORDON_RETURN_IF_ERROR((this->*sub)(&next, depth));
      children.push_back(next);
    }
    *out = NewCmp(kind, column);
    out_.comparisons[*out].children = std::move(children);
    return Status();
  }

  Status CmpOr(uint32_t* out, int depth) {
    return CmpChain(out, depth, Tok::kOr, ComparisonNode::Kind::kOr, &Parser::CmpAnd);
  }
  Status CmpAnd(uint32_t* out, int depth) {
    return CmpChain(out, depth, Tok::kAnd, ComparisonNode::Kind::kAnd, &Parser::CmpUnit);
  }

  Status CmpUnit(uint32_t* out, int depth) {
    if (depth > kMaxDepth) return ErrorAt(tok_, "expression nested too deeply");
    if (tok_.kind == Tok::kLParen) {
      Advance();
      CORDON_RETURN_IF_ERROR(CmpOr(out, depth + 1));
      if (tok_.kind != Tok::kRParen) return Expected("')', AND or OR");
      Advance();
      return Status();
    }
    const int column = Column(tok_);
    Comparison test;
    if (tok_.kind == Tok::kExists) {  // only lexed as a keyword in 2.1
      Advance();
      CORDON_RETURN_IF_ERROR(ParsePath(&test.path));
      test.op = CompareOp::kExists;
    } else {
      if (tok_.kind != Tok::kIdent && tok_.kind != Tok::kIdentHyphen) {
        return Expected(v_ == Version::k21 ? "an object path, EXISTS or '('"
                                           : "an object path or '('");
      }
      CORDON_RETURN_IF_ERROR(ParsePath(&test.path));
      CORDON_RETURN_IF_ERROR(ParseOperator(&test));
    }
    *out = NewCmp(ComparisonNode::Kind::kTest, column);
    out_.comparisons[*out].test = std::move(test);
    return Status();
  }

  Status ParsePath(ObjectPath* path) {
    if (tok_.kind != Tok::kIdent && tok_.kind != Tok::kIdentHyphen) {
      return Expected("an object type");
    }
    path->object_type.assign(tok_.text);
    Advance();
    CORDON_RETURN_IF_ERROR(Expect(Tok::kColon));
    if (tok_.kind == Tok::kIdent) {
      path->steps.push_back(PathStep::Key(std::string(tok_.text)));
    } else if (tok_.kind == Tok::kString) {
      path->steps.push_back(PathStep::Key(Unescape(tok_.text)));
    } else {
      return Expected(tok_.kind == Tok::kIdentHyphen
                          ? "a property name (quote names containing '-')"
                          : "a property name");
    }
    Advance();
    for (;;) {
      if (tok_.kind == Tok::kDot) {
        Advance();
        if (tok_.kind == Tok::kIdent) {
          path->steps.push_back(PathStep::Key(std::string(tok_.text)));
        } else if (tok_.kind == Tok::kString) {
          path->steps.push_back(PathStep::Key(Unescape(tok_.text)));
        } else {
          return Expected(tok_.kind == Tok::kIdentHyphen
                              ? "a property name (quote names containing '-')"
                              : "a property name");
        }
        Advance();
      } else if (tok_.kind == Tok::kLBrack) {
        Advance();
        if (tok_.kind == Tok::kAsterisk) {
          path->steps.push_back(PathStep::AnyIndex());
        } else if (tok_.kind == Tok::kInt) {
          Constant c;
          CORDON_RETURN_IF_ERROR(IntValue(tok_, &c.int_value));
          path->steps.push_back(PathStep::Index(c.int_value));
        } else {
          return Expected("a list index or '*'");
        }
        Advance();
        CORDON_RETURN_IF_ERROR(Expect(Tok::kRBrack));
      } else {
        return Status();
      }
    }
  }

  Status ParseOperator(Comparison* test) {
    if (tok_.kind == Tok::kNot) {
      test->negated = true;
      Advance();
    }
    const Tok op = tok_.kind;
    switch (op) {
      case Tok::kEq:
      case Tok::kNe:
        test->op = op == Tok::kEq ? CompareOp::kEqual : CompareOp::kNotEqual;
        Advance();
        return Value(test, /*allow_bool=*/true);
      case Tok::kLt: test->op = CompareOp::kLess; break;
      case Tok::kLe: test->op = CompareOp::kLessEqual; break;
      case Tok::kGt: test->op = CompareOp::kGreater; break;
      case Tok::kGe: test->op = CompareOp::kGreaterEqual; break;
      case Tok::kIn: {
        test->op = CompareOp::kIn;
        Advance();
        CORDON_RETURN_IF_ERROR(Expect(Tok::kLParen));
        if (tok_.kind == Tok::kRParen) {
          Advance();
          return Status();
        }
        for (;;) {
          CORDON_RETURN_IF_ERROR(Value(test, /*allow_bool=*/true));
          if (tok_.kind == Tok::kRParen) {
            Advance();
            return Status();
          }
          if (tok_.kind != Tok::kComma) return Expected("',' or ')'");
          Advance();
        }
      }
      case Tok::kLike:
      case Tok::kMatches:
      case Tok::kIsSubset:
      case Tok::kIsSuperset: {
        test->op = op == Tok::kLike      ? CompareOp::kLike
                   : op == Tok::kMatches ? CompareOp::kMatches
                   : op == Tok::kIsSubset ? CompareOp::kIsSubset
                                          : CompareOp::kIsSuperset;
        Advance();
        if (tok_.kind != Tok::kString) return Expected("a string");
        test->values.emplace_back();
        return ParseConstant(&test->values.back());
      }
      default:
        return Expected(test->negated ? "a comparison operator after NOT"
                                      : "a comparison operator");
    }
    Advance();  // ordering operators
    return Value(test, /*allow_bool=*/false);
  }

  Status Value(Comparison* test, bool allow_bool) {
    switch (tok_.kind) {
      case Tok::kInt: case Tok::kFloat: case Tok::kString: case Tok::kHex:
      case Tok::kBinary: case Tok::kTimestamp:
        break;
      case Tok::kBool:
        if (allow_bool) break;
        return ErrorAt(tok_, "a boolean cannot be ordered; expected a number, string, "
                             "binary or timestamp literal");
      default:
        return Expected("a literal value");
    }
    test->values.emplace_back();
    return ParseConstant(&test->values.back());
  }

  Status IntValue(const Token& t, int64_t* v) const {
    std::string_view s = t.text;
    if (!s.empty() && s[0] == '+') s.remove_prefix(1);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
    if (ec != std::errc() || p != s.data() + s.size()) {
      return ErrorAt(t, "integer out of range");
    }
    return Status();
  }

  // Converts the current (literal) token and advances.
  Status ParseConstant(Constant* c) {
    const Token t = tok_;
    std::string_view body = t.text.size() >= 3 ? t.text.substr(2, t.text.size() - 3)
                                                : std::string_view();
    switch (t.kind) {
      case Tok::kInt:
        c->type = Constant::Type::kInt;
        CORDON_RETURN_IF_ERROR(IntValue(t, &c->int_value));
        break;
      case Tok::kFloat: {
        c->type = Constant::Type::kFloat;
        std::string_view s = t.text;
        if (s[0] == '+') s.remove_prefix(1);
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), c->float_value);
        if (ec != std::errc() || p != s.data() + s.size()) {
          return ErrorAt(t, "float out of range");
        }
        break;
      }
      case Tok::kString:
        c->type = Constant::Type::kString;
        c->bytes = Unescape(t.text);
        break;
      case Tok::kBool:
        c->type = Constant::Type::kBool;
        c->int_value = t.text == "true";
        break;
      case Tok::kHex:
        c->type = Constant::Type::kHex;
        c->bytes.reserve(body.size() / 2);
        for (size_t i = 0; i + 1 < body.size(); i += 2) {
          c->bytes.push_back(static_cast<char>(HexValue(body[i]) * 16 + HexValue(body[i + 1])));
        }
        break;
      case Tok::kBinary: {
        c->type = Constant::Type::kBinary;
        c->bytes.reserve(body.size() / 4 * 3);
        uint32_t acc = 0;
        int bits = 0;
        for (char ch : body) {
          if (ch == '=') break;
          acc = (acc << 6) | static_cast<uint32_t>(Base64Value(ch));
          bits += 6;
          if (bits >= 8) {
            bits -= 8;
            c->bytes.push_back(static_cast<char>((acc >> bits) & 0xFF));
          }
        }
        break;
      }
      case Tok::kTimestamp:
        c->type = Constant::Type::kTimestamp;
        c->bytes.assign(body);
        c->timestamp = TimestampFromText(body);
        break;
      default:
        return Expected("a literal value");
    }
    Advance();
    return Status();
  }

  // The content of a lexed string literal '...' with \' and \\ resolved.
  static std::string Unescape(std::string_view quoted) {
    std::string_view s = quoted.substr(1, quoted.size() - 2);
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      out.push_back(s[i]);
    }
    return out;
  }

  std::string_view text_;
  Lexer lex_;
  Version v_;
  Token tok_;
  Pattern out_;
};

// ---- semantic checks ----

struct HashRule {
  std::string_view name;  // upper case, '-' removed
  uint8_t lengths[6];     // hex lengths allowed (0 = unused); SSDEEP: none
};
constexpr HashRule kHashRules[] = {
    {"MD5", {32}},         {"MD6", {32, 40, 56, 64, 96, 128}},
    {"RIPEMD160", {40}},   {"SHA1", {40}},   {"SHA224", {56}},
    {"SHA256", {64}},      {"SHA384", {96}}, {"SHA512", {128}},
    {"SHA3224", {56}},     {"SHA3256", {64}}, {"SHA3384", {96}},
    {"SHA3512", {128}},    {"SSDEEP", {}},   {"WHIRLPOOL", {128}},
};

bool HashValueOk(const HashRule& rule, std::string_view v) {
  if (rule.name == "SSDEEP") {
    if (v.empty() || v.size() > 128) return false;
    for (char c : v) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '/' || c == '+' || c == ':' || c == '.';
      if (!ok) return false;
    }
    return true;
  }
  bool len_ok = false;
  for (uint8_t n : rule.lengths) len_ok |= n != 0 && v.size() == n;
  if (!len_ok) return false;
  for (char c : v) {
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

std::string ColumnError(int column, const std::string& what) {
  return "column " + std::to_string(column) + ": " + what;
}

Status CheckHashes(const ComparisonNode& n) {
  const Comparison& t = n.test;
  if (t.op == CompareOp::kLike || t.op == CompareOp::kMatches || t.op == CompareOp::kExists) {
    return Status();
  }
  bool has_hashes = false;
  for (const PathStep& s : t.path.steps) {
    has_hashes |= s.kind == PathStep::Kind::kKey && s.key == "hashes";
  }
  const PathStep& last = t.path.steps.back();
  if (!has_hashes || last.kind != PathStep::Kind::kKey) return Status();
  std::string algo;
  for (char c : last.key) {
    if (c == '-' || c == '\'') continue;
    algo.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  for (const HashRule& rule : kHashRules) {
    if (rule.name != algo) continue;
    for (const Constant& v : t.values) {
      if (v.type != Constant::Type::kString || !HashValueOk(rule, v.bytes)) {
        std::string shown = v.type == Constant::Type::kString ? v.bytes : "non-string value";
        return absl::InvalidArgumentError(ColumnError(
            n.column, "'" + shown + "' is not a valid " + last.key + " hash"));
      }
    }
  }
  return Status();
}

const char* QualifierName(Qualifier::Kind k) {
  switch (k) {
    case Qualifier::Kind::kWithin: return "WITHIN";
    case Qualifier::Kind::kRepeats: return "REPEATS";
    case Qualifier::Kind::kStartStop: return "START/STOP";
  }
  return "?";
}

}  // namespace

Result<Pattern> Parse(std::string_view text, Version version) {
  return Parser(text, version).Run();
}

Status ValidateSemantics(const Pattern& p) {
  for (const ComparisonNode& n : p.comparisons) {
    if (n.kind == ComparisonNode::Kind::kTest) CORDON_RETURN_IF_ERROR(CheckHashes(n));
  }
  for (const ObservationNode& n : p.observations) {
    bool seen[3] = {false, false, false};
    for (const Qualifier& q : n.qualifiers) {
      if (q.kind == Qualifier::Kind::kRepeats && q.repeats <= 0) {
        return absl::InvalidArgumentError(
            ColumnError(q.column, "REPEATS needs a positive number of times"));
      }
      if (q.kind == Qualifier::Kind::kWithin && !(q.within_seconds > 0)) {
        return absl::InvalidArgumentError(
            ColumnError(q.column, "WITHIN needs a positive number of seconds"));
      }
      if (p.version == Version::k21 && n.kind == ObservationNode::Kind::kObservation) {
        bool& s = seen[static_cast<int>(q.kind)];
        if (s) {
          return absl::InvalidArgumentError(ColumnError(
              q.column, std::string("duplicate qualifier type ") + QualifierName(q.kind) +
                            " on one observation expression"));
        }
        s = true;
      }
    }
  }
  return Status();
}

Status Validate(std::string_view text, Version version) {
  CORDON_ASSIGN_OR_RETURN(Pattern p, Parse(text, version));
  return ValidateSemantics(p);
}

}  // namespace cordon::pattern
