// Internal: the STIX pattern tokenizer used by parser.cc.
//
// Follows the lexer rules of the OASIS STIXPattern.g4 (2.0 and 2.1 share
// them): longest match, case-sensitive keywords, Unicode white space and
// /* */ and // comments skipped. Literal prefixes h' b' t' are recognised only
// when the word is exactly that letter; their content is checked here and a
// malformed one yields a kError token whose `error` says why.
// Tokens are views into the input: no allocation per token.
#pragma once

#include <cstdint>
#include <string_view>

namespace cordon::pattern::internal {

enum class Tok : uint8_t {
  kEnd, kError,
  kLBrack, kRBrack, kLParen, kRParen, kComma, kColon, kDot, kAsterisk,
  kEq, kNe, kLt, kLe, kGt, kGe,
  kInt, kFloat, kString, kHex, kBinary, kTimestamp, kBool,
  kIdent,        // [a-zA-Z_][a-zA-Z0-9_]*
  kIdentHyphen,  // [a-zA-Z_][a-zA-Z0-9_-]* containing a '-'
  // keywords
  kAnd, kOr, kNot, kFollowedBy, kLike, kMatches, kIsSubset, kIsSuperset,
  kExists, kIn, kStart, kStop, kSeconds, kWithin, kRepeats, kTimes, kLast,
  kOther,        // any other single character (e.g. '?', '-', '/')
};

struct Token {
  Tok kind = Tok::kEnd;
  uint32_t offset = 0;        // byte offset of the first character
  std::string_view text;      // the whole token as written
  const char* error = nullptr;  // kError: why the literal is malformed
};

class Lexer {
 public:
  // `exists_keyword`: whether EXISTS is a keyword (STIX 2.1) or an
  // identifier (2.0).
  Lexer(std::string_view input, bool exists_keyword)
      : in_(input), exists_keyword_(exists_keyword) {}
  // Scans and returns the next token (kEnd at the end, repeatedly).
  Token Next();

 private:
  void SkipSpaceAndComments();
  Token Make(Tok k, size_t start, size_t end) {
    pos_ = end;
    return Token{k, static_cast<uint32_t>(start), in_.substr(start, end - start), nullptr};
  }
  Token Error(size_t start, size_t end, const char* why) {
    Token t = Make(Tok::kError, start, end);
    t.error = why;
    return t;
  }
  Token Number(size_t start);
  Token Word(size_t start);
  Token Quoted(size_t start, size_t quote);  // prefix (h/b/t) literal or string

  std::string_view in_;
  bool exists_keyword_;
  size_t pos_ = 0;
};

// The column (1-based, in UTF-8 characters) of byte `offset` in `text`.
int ColumnOf(std::string_view text, size_t offset);

// Human name of a token kind for messages ("']'", "a string", ...).
const char* TokName(Tok k);

// Checks "YYYY-MM-DDTHH:MM:SS[.fff]Z" with the grammar's field ranges.
bool IsTimestampText(std::string_view s);

}  // namespace cordon::pattern::internal
