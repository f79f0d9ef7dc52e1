// Minimal JSON output helpers.
//
// Responses are assembled by concatenation (stored objects are already JSON),
// so all cordon needs for output is correct string escaping and a few
// appenders. Escaping follows RFC 8259: quote, backslash and control
// characters; everything else is copied as is, except bytes that are not
// well-formed UTF-8 (from logs, request parameters): each becomes U+FFFD, so
// the output is always valid JSON.
#pragma once

#include <string>
#include <string_view>

namespace cordon {

// Appends `s` as a JSON string literal (with the quotes) to `out`. False if
// `s` was not well-formed UTF-8 (then U+FFFD stands for the bad bytes), for
// callers that refuse such text rather than repair it.
bool AppendJsonString(std::string& out, std::string_view s);

// Returns `s` as a JSON string literal.
std::string JsonString(std::string_view s);

}  // namespace cordon
