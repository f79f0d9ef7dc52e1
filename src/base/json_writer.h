// Minimal JSON output helpers.
//
// Responses are assembled by concatenation (stored objects are already JSON),
// so all cordon needs for output is correct string escaping and a few
// appenders. Escaping follows RFC 8259: quote, backslash and control
// characters; everything else (UTF-8 included) is copied as is.
#pragma once

#include <string>
#include <string_view>

namespace cordon {

// Appends `s` as a JSON string literal (with the quotes) to `out`.
void AppendJsonString(std::string& out, std::string_view s);

// Returns `s` as a JSON string literal.
std::string JsonString(std::string_view s);

}  // namespace cordon
