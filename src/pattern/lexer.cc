#include "pattern/lexer.h"

#include <algorithm>

namespace cordon::pattern::internal {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsWordStart(char c) { return IsAlpha(c) || c == '_'; }
bool IsWordChar(char c) { return IsAlpha(c) || IsDigit(c) || c == '_' || c == '-'; }
bool IsHex(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool IsBase64(char c) { return IsAlpha(c) || IsDigit(c) || c == '+' || c == '/'; }

// Length in bytes of the white-space character at s[i] (0 if none): the WS
// set of STIXPattern.g4, including its Unicode spaces.
size_t SpaceLen(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0x0B || c == 0x0C) return 1;
  if (c < 0xC2 || i + 1 >= s.size()) return 0;
  unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
  if (c == 0xC2) return (c1 == 0x85 || c1 == 0xA0) ? 2 : 0;
  if (i + 2 >= s.size()) return 0;
  unsigned char c2 = static_cast<unsigned char>(s[i + 2]);
  if (c == 0xE1) return (c1 == 0x9A && c2 == 0x80) ? 3 : 0;  // U+1680
  if (c == 0xE2 && c1 == 0x80) {  // U+2000..200A, 2028, 2029, 202F
    return (c2 <= 0x8A && c2 >= 0x80) || c2 == 0xA8 || c2 == 0xA9 || c2 == 0xAF ? 3 : 0;
  }
  if (c == 0xE2 && c1 == 0x81) return c2 == 0x9F ? 3 : 0;  // U+205F
  if (c == 0xE3) return (c1 == 0x80 && c2 == 0x80) ? 3 : 0;  // U+3000
  return 0;
}

size_t Utf8Len(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;
}

struct Keyword {
  std::string_view word;
  Tok tok;
};
constexpr Keyword kKeywords[] = {
    {"AND", Tok::kAnd},         {"OR", Tok::kOr},
    {"NOT", Tok::kNot},         {"FOLLOWEDBY", Tok::kFollowedBy},
    {"LIKE", Tok::kLike},       {"MATCHES", Tok::kMatches},
    {"ISSUBSET", Tok::kIsSubset}, {"ISSUPERSET", Tok::kIsSuperset},
    {"EXISTS", Tok::kExists},   {"IN", Tok::kIn},
    {"START", Tok::kStart},     {"STOP", Tok::kStop},
    {"SECONDS", Tok::kSeconds}, {"WITHIN", Tok::kWithin},
    {"REPEATS", Tok::kRepeats}, {"TIMES", Tok::kTimes},
    {"LAST", Tok::kLast},       {"true", Tok::kBool},
    {"false", Tok::kBool},
};

bool Digits(std::string_view s, size_t i, size_t n) {
  if (i + n > s.size()) return false;
  for (size_t k = i; k < i + n; ++k) {
    if (!IsDigit(s[k])) return false;
  }
  return true;
}
int Two(std::string_view s, size_t i) { return (s[i] - '0') * 10 + (s[i + 1] - '0'); }

}  // namespace

bool IsTimestampText(std::string_view s) {
  // 0123456789012345678
  // YYYY-MM-DDTHH:MM:SS[.f+]Z
  if (s.size() < 20) return false;
  if (!Digits(s, 0, 4) || s[4] != '-' || !Digits(s, 5, 2) || s[7] != '-' ||
      !Digits(s, 8, 2) || s[10] != 'T' || !Digits(s, 11, 2) || s[13] != ':' ||
      !Digits(s, 14, 2) || s[16] != ':' || !Digits(s, 17, 2)) {
    return false;
  }
  int month = Two(s, 5), day = Two(s, 8), hour = Two(s, 11), minute = Two(s, 14),
      second = Two(s, 17);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return false;
  }
  size_t i = 19;
  if (s[i] == '.') {
    size_t j = i + 1;
    while (j < s.size() && IsDigit(s[j])) ++j;
    if (j == i + 1) return false;
    i = j;
  }
  return i + 1 == s.size() && s[i] == 'Z';
}

int ColumnOf(std::string_view text, size_t offset) {
  int col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++col;
  }
  // `offset` counts the character it points at, not its continuation bytes.
  return col;
}

const char* TokName(Tok k) {
  switch (k) {
    case Tok::kEnd: return "end of input";
    case Tok::kError: return "invalid token";
    case Tok::kLBrack: return "'['";
    case Tok::kRBrack: return "']'";
    case Tok::kLParen: return "'('";
    case Tok::kRParen: return "')'";
    case Tok::kComma: return "','";
    case Tok::kColon: return "':'";
    case Tok::kDot: return "'.'";
    case Tok::kAsterisk: return "'*'";
    case Tok::kEq: return "'='";
    case Tok::kNe: return "'!='";
    case Tok::kLt: return "'<'";
    case Tok::kLe: return "'<='";
    case Tok::kGt: return "'>'";
    case Tok::kGe: return "'>='";
    case Tok::kInt: return "an integer";
    case Tok::kFloat: return "a float";
    case Tok::kString: return "a string";
    case Tok::kHex: return "a hex literal";
    case Tok::kBinary: return "a binary literal";
    case Tok::kTimestamp: return "a timestamp";
    case Tok::kBool: return "a boolean";
    case Tok::kIdent: return "an identifier";
    case Tok::kIdentHyphen: return "an identifier";
    case Tok::kAnd: return "AND";
    case Tok::kOr: return "OR";
    case Tok::kNot: return "NOT";
    case Tok::kFollowedBy: return "FOLLOWEDBY";
    case Tok::kLike: return "LIKE";
    case Tok::kMatches: return "MATCHES";
    case Tok::kIsSubset: return "ISSUBSET";
    case Tok::kIsSuperset: return "ISSUPERSET";
    case Tok::kExists: return "EXISTS";
    case Tok::kIn: return "IN";
    case Tok::kStart: return "START";
    case Tok::kStop: return "STOP";
    case Tok::kSeconds: return "SECONDS";
    case Tok::kWithin: return "WITHIN";
    case Tok::kRepeats: return "REPEATS";
    case Tok::kTimes: return "TIMES";
    case Tok::kLast: return "LAST";
    case Tok::kOther: return "a character";
  }
  return "?";
}

void Lexer::SkipSpaceAndComments() {
  while (pos_ < in_.size()) {
    if (size_t n = SpaceLen(in_, pos_)) {
      pos_ += n;
      continue;
    }
    if (in_[pos_] == '/' && pos_ + 1 < in_.size()) {
      if (in_[pos_ + 1] == '/') {
        size_t e = pos_ + 2;
        while (e < in_.size() && in_[e] != '\n' && in_[e] != '\r') ++e;
        pos_ = e;
        continue;
      }
      if (in_[pos_ + 1] == '*') {
        size_t e = in_.find("*/", pos_ + 2);
        if (e == std::string_view::npos) return;  // left for Next() to report
        pos_ = e + 2;
        continue;
      }
    }
    return;
  }
}

Token Lexer::Next() {
  SkipSpaceAndComments();
  const size_t s = pos_;
  if (s >= in_.size()) return Make(Tok::kEnd, s, s);
  const char c = in_[s];
  const char n = s + 1 < in_.size() ? in_[s + 1] : '\0';
  switch (c) {
    case '[': return Make(Tok::kLBrack, s, s + 1);
    case ']': return Make(Tok::kRBrack, s, s + 1);
    case '(': return Make(Tok::kLParen, s, s + 1);
    case ')': return Make(Tok::kRParen, s, s + 1);
    case ',': return Make(Tok::kComma, s, s + 1);
    case ':': return Make(Tok::kColon, s, s + 1);
    case '*': return Make(Tok::kAsterisk, s, s + 1);
    case '.':
      if (IsDigit(n)) return Number(s);
      return Make(Tok::kDot, s, s + 1);
    case '=': return Make(Tok::kEq, s, n == '=' ? s + 2 : s + 1);
    case '!':
      if (n == '=') return Make(Tok::kNe, s, s + 2);
      return Make(Tok::kOther, s, s + 1);
    case '<':
      if (n == '=') return Make(Tok::kLe, s, s + 2);
      if (n == '>') return Make(Tok::kNe, s, s + 2);
      return Make(Tok::kLt, s, s + 1);
    case '>':
      if (n == '=') return Make(Tok::kGe, s, s + 2);
      return Make(Tok::kGt, s, s + 1);
    case '+':
    case '-':
      if (IsDigit(n) || (n == '.' && s + 2 < in_.size() && IsDigit(in_[s + 2]))) {
        return Number(s);
      }
      return Make(Tok::kOther, s, s + 1);
    case '\'': return Quoted(s, s);
    case '/':
      if (n == '*') return Error(s, in_.size(), "unterminated comment");
      return Make(Tok::kOther, s, s + 1);
    default: break;
  }
  if (IsDigit(c)) return Number(s);
  if (IsWordStart(c)) return Word(s);
  return Make(Tok::kOther, s,
              std::min(in_.size(), s + Utf8Len(static_cast<unsigned char>(c))));
}

Token Lexer::Number(size_t s) {
  size_t i = s;
  if (in_[i] == '+' || in_[i] == '-') ++i;
  const size_t digits = i;
  while (i < in_.size() && IsDigit(in_[i])) ++i;
  const size_t int_len = i - digits;
  if (i + 1 < in_.size() && in_[i] == '.' && IsDigit(in_[i + 1])) {
    i += 1;
    while (i < in_.size() && IsDigit(in_[i])) ++i;
    return Make(Tok::kFloat, s, i);
  }
  if (int_len > 1 && in_[digits] == '0') {
    return Error(s, i, "an integer may not have leading zeros");
  }
  return Make(Tok::kInt, s, i);
}

Token Lexer::Word(size_t s) {
  size_t i = s + 1;
  bool hyphen = false;
  while (i < in_.size() && IsWordChar(in_[i])) {
    hyphen |= in_[i] == '-';
    ++i;
  }
  if (i == s + 1 && i < in_.size() && in_[i] == '\'' &&
      (in_[s] == 'h' || in_[s] == 'b' || in_[s] == 't')) {
    return Quoted(s, i);
  }
  if (hyphen) return Make(Tok::kIdentHyphen, s, i);
  std::string_view w = in_.substr(s, i - s);
  for (const Keyword& k : kKeywords) {
    if (k.word == w) {
      if (k.tok == Tok::kExists && !exists_keyword_) break;
      return Make(k.tok, s, i);
    }
  }
  return Make(Tok::kIdent, s, i);
}

Token Lexer::Quoted(size_t s, size_t q) {
  if (s == q) {  // plain string literal: ( ~['\\] | \' | \\ )*
    size_t i = q + 1;
    while (i < in_.size()) {
      char c = in_[i];
      if (c == '\'') return Make(Tok::kString, s, i + 1);
      if (c == '\\') {
        if (i + 1 < in_.size() && (in_[i + 1] == '\'' || in_[i + 1] == '\\')) {
          i += 2;
          continue;
        }
        return Error(s, i + 1, "a string literal may only escape \\' and \\\\");
      }
      ++i;
    }
    return Error(s, in_.size(), "unterminated string literal");
  }
  size_t close = in_.find('\'', q + 1);
  if (close == std::string_view::npos) {
    return Error(s, in_.size(), "unterminated literal");
  }
  std::string_view body = in_.substr(q + 1, close - q - 1);
  const size_t end = close + 1;
  switch (in_[s]) {
    case 'h':
      for (char c : body) {
        if (!IsHex(c)) return Error(s, end, "invalid hex digit in h'...' literal");
      }
      if (body.size() % 2 != 0) {
        return Error(s, end, "a h'...' literal needs an even number of hex digits");
      }
      return Make(Tok::kHex, s, end);
    case 'b': {
      bool ok = !body.empty() && body.size() % 4 == 0;
      for (size_t i = 0; ok && i < body.size(); ++i) {
        char c = body[i];
        if (IsBase64(c)) continue;
        // '=' only as padding: "xxx=" or "xx==" at the very end.
        ok = c == '=' && (i == body.size() - 1 ||
                          (i == body.size() - 2 && body[i + 1] == '='));
        if (ok) break;
      }
      if (!ok) return Error(s, end, "invalid base64 in b'...' literal");
      return Make(Tok::kBinary, s, end);
    }
    default:
      if (!IsTimestampText(body)) {
        return Error(s, end,
                     "invalid timestamp (want t'YYYY-MM-DDTHH:MM:SS[.s]Z', UTC)");
      }
      return Make(Tok::kTimestamp, s, end);
  }
}

}  // namespace cordon::pattern::internal
