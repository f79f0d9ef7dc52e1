#include "federation/jcs.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

namespace cordon::federation {
namespace {

namespace dom = simdjson::dom;

void AppendCanonicalString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// UTF-16 code units of valid UTF-8 (simdjson validated it).
std::u16string Utf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    char32_t cp;
    int n;
    if (c < 0x80) { cp = c; n = 1; }
    else if (c < 0xE0) { cp = c & 0x1F; n = 2; }
    else if (c < 0xF0) { cp = c & 0x0F; n = 3; }
    else { cp = c & 0x07; n = 4; }
    for (int k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += n;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out += static_cast<char16_t>(0xD800 + (cp >> 10));
      out += static_cast<char16_t>(0xDC00 + (cp & 0x3FF));
    } else {
      out += static_cast<char16_t>(cp);
    }
  }
  return out;
}

bool AllAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool KeyLess(std::string_view a, std::string_view b) {
  if (AllAscii(a) && AllAscii(b)) return a < b;  // the usual case: byte order is code unit order
  return Utf16(a) < Utf16(b);
}

Status Append(std::string& out, dom::element e, std::string_view skip_extension, bool top, bool* had);

using Members = std::vector<std::pair<std::string_view, dom::element>>;

// Sorts an object's members into canonical order. RFC 8785 takes I-JSON
// (RFC 7493) as input, whose member names are unique: with two members of one
// name, readers disagree on which one counts, so what a signature covers
// would be ambiguous. InvalidArgument names the repeated member.
Status SortMembers(Members& members) {
  std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return KeyLess(a.first, b.first); });
  for (size_t i = 1; i < members.size(); ++i) {
    if (members[i].first == members[i - 1].first) {
      return absl::InvalidArgumentError("member name \"" + std::string(members[i].first) +
                                        "\" appears twice in one JSON object (JCS needs unique names)");
    }
  }
  return absl::OkStatus();
}

Status AppendObject(std::string& out, dom::object obj, std::string_view skip_extension, bool top, bool* had) {
  Members members;
  for (auto [key, value] : obj) members.emplace_back(key, value);
  CORDON_RETURN_IF_ERROR(SortMembers(members));
  out += '{';
  bool first = true;
  for (auto& [key, value] : members) {
    if (top && !skip_extension.empty() && key == "extensions" && value.is_object()) {
      dom::object ext;
      if (value.get(ext) != simdjson::SUCCESS) continue;  // is_object() held
      Members ems;
      for (auto [k, v] : ext) ems.emplace_back(k, v);
      CORDON_RETURN_IF_ERROR(SortMembers(ems));  // the skipped member counts too: it may not appear twice
      std::erase_if(ems, [&](const auto& m) {
        if (m.first != skip_extension) return false;
        *had = true;
        return true;
      });
      if (ems.empty()) continue;
      if (!first) out += ',';
      first = false;
      AppendCanonicalString(out, key);
      out += ":{";
      for (size_t i = 0; i < ems.size(); ++i) {
        if (i) out += ',';
        AppendCanonicalString(out, ems[i].first);
        out += ':';
        CORDON_RETURN_IF_ERROR(Append(out, ems[i].second, {}, false, had));
      }
      out += '}';
      continue;
    }
    if (!first) out += ',';
    first = false;
    AppendCanonicalString(out, key);
    out += ':';
    CORDON_RETURN_IF_ERROR(Append(out, value, {}, false, had));
  }
  out += '}';
  return absl::OkStatus();
}

Status Append(std::string& out, dom::element e, std::string_view skip_extension, bool top, bool* had) {
  switch (e.type()) {
    case dom::element_type::OBJECT:
      return AppendObject(out, e.get_object().value_unsafe(), skip_extension, top, had);
    case dom::element_type::ARRAY: {
      out += '[';
      bool first = true;
      dom::array arr = e.get_array().value_unsafe();
      for (dom::element v : arr) {
        if (!first) out += ',';
        first = false;
        CORDON_RETURN_IF_ERROR(Append(out, v, {}, false, had));
      }
      out += ']';
      return absl::OkStatus();
    }
    case dom::element_type::STRING: AppendCanonicalString(out, e.get_string().value_unsafe()); return absl::OkStatus();
    case dom::element_type::INT64: out += FormatEs6Number(static_cast<double>(e.get_int64().value_unsafe())); return absl::OkStatus();
    case dom::element_type::UINT64: out += FormatEs6Number(static_cast<double>(e.get_uint64().value_unsafe())); return absl::OkStatus();
    case dom::element_type::DOUBLE: out += FormatEs6Number(e.get_double().value_unsafe()); return absl::OkStatus();
    case dom::element_type::BOOL: out += e.get_bool().value_unsafe() ? "true" : "false"; return absl::OkStatus();
    case dom::element_type::NULL_VALUE: out += "null"; return absl::OkStatus();
    default: break;
  }
  return absl::InvalidArgumentError("JSON value of a type JCS does not know");
}

Result<std::string> Run(std::string_view json, std::string_view skip_extension, bool* had) {
  thread_local dom::parser parser;
  dom::element root;
  auto err = parser.parse(json.data(), json.size()).get(root);
  if (err) return absl::InvalidArgumentError(std::string("not valid JSON: ") + simdjson::error_message(err));
  if (!skip_extension.empty() && !root.is_object()) return absl::InvalidArgumentError("not a JSON object");
  std::string out;
  out.reserve(json.size());
  bool dummy = false;
  CORDON_RETURN_IF_ERROR(Append(out, root, skip_extension, true, had ? had : &dummy));
  return out;
}

}  // namespace

std::string FormatEs6Number(double d) {
  if (d == 0) return "0";  // also -0
  std::string out;
  if (d < 0) {
    out += '-';
    d = -d;
  }
  // Shortest round-trip digits and exponent: "D.DDDDe+XX".
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, res.ptr - buf);
  size_t e_pos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e_pos)) {
    if (c != '.') digits += c;
  }
  int exp10 = std::stoi(std::string(sci.substr(e_pos + 1)));
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  int k = static_cast<int>(digits.size());
  int n = exp10 + 1;  // the decimal point sits after n digits
  if (k <= n && n <= 21) {
    out += digits;
    out.append(n - k, '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, n);
    out += '.';
    out += digits.substr(n);
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(-n, '0');
    out += digits;
  } else {
    out += digits[0];
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += n - 1 >= 0 ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

Result<std::string> Canonicalize(std::string_view json) { return Run(json, {}, nullptr); }

Result<std::string> CanonicalizeWithout(std::string_view json_object, std::string_view extension_key,
                                        bool* had_member) {
  if (had_member) *had_member = false;
  return Run(json_object, extension_key, had_member);
}

}  // namespace cordon::federation
