#include "taxii/request.h"

#include <sodium.h>

#include <array>
#include <charconv>
#include <cstring>

#include "base/strings.h"

namespace cordon::taxii {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

const unsigned char* CursorKey() {
  static const auto key = [] {
    std::array<unsigned char, crypto_secretbox_KEYBYTES> k{};
    if (sodium_init() < 0) std::abort();  // no randomness: nothing here can be safe
    randombytes_buf(k.data(), k.size());
    return k;
  }();
  return key.data();
}

constexpr size_t kSealedCursorBytes = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 8;

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      *out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      *out += in[i];
    }
  }
  return true;
}

std::vector<std::string> SplitList(const std::string& v) {
  std::vector<std::string> out;
  for (std::string_view part : Split(v, ',')) {
    std::string_view t = Trim(part);
    if (!t.empty()) out.emplace_back(t);
  }
  return out;
}

Status BadParam(const std::string& name, const std::string& why) {
  return absl::InvalidArgumentError("query parameter '" + name + "': " + why);
}

// Lowercased media type without parameters and its "version" parameter.
void SplitMediaType(std::string_view mt, std::string* type, std::string* version) {
  version->clear();
  std::vector<std::string_view> parts = Split(mt, ';');
  *type = ToLower(Trim(parts[0]));
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string_view p = Trim(parts[i]);
    size_t eq = p.find('=');
    if (eq == std::string_view::npos) continue;
    std::string key = ToLower(Trim(p.substr(0, eq)));
    std::string_view value = Trim(p.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "version") *version = std::string(value);
  }
}

}  // namespace

Result<Target> ParseTarget(std::string_view target) {
  Target t;
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (path.empty() || path[0] != '/') return absl::InvalidArgumentError("request target must start with '/'");
  t.trailing_slash = path.back() == '/';
  std::string decoded;
  for (std::string_view seg : Split(path, '/', EmptyParts::kSkip)) {
    if (!PercentDecode(seg, &decoded)) return absl::InvalidArgumentError("malformed percent-encoding in path");
    t.segments.push_back(decoded);
  }
  if (q != std::string_view::npos) {
    for (std::string_view kv : Split(target.substr(q + 1), '&', EmptyParts::kSkip)) {
      size_t eq = kv.find('=');
      std::string key, value;
      if (!PercentDecode(kv.substr(0, eq), &key) ||
          (eq != std::string_view::npos && !PercentDecode(kv.substr(eq + 1), &value))) {
        return absl::InvalidArgumentError("malformed percent-encoding in query");
      }
      t.query.emplace_back(std::move(key), std::move(value));
    }
  }
  return t;
}

Result<Filters> ParseFilters(const std::vector<std::pair<std::string, std::string>>& query,
                             AllowedFilters allowed) {
  Filters f;
  for (const auto& [key, value] : query) {
    if (key == "added_after") {
      auto ts = ParseTimestamp(value);
      if (!ts.ok()) return BadParam(key, std::string(ts.status().message()));
      f.added_after = *ts;
    } else if (key == "limit") {
      int n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size() || n < 1) {
        return BadParam(key, "must be a positive integer");
      }
      f.limit = n;
    } else if (key == "next") {
      auto n = OpenCursor(value);
      if (!n.ok()) return BadParam(key, std::string(n.status().message()));
      f.next = *n;
    } else if (key == "match[id]" && allowed.id) {
      for (auto& v : SplitList(value)) f.ids.push_back(std::move(v));
    } else if (key == "match[type]" && allowed.type) {
      for (auto& v : SplitList(value)) f.types.push_back(std::move(v));
    } else if (key == "match[spec_version]" && allowed.spec_version) {
      for (auto& v : SplitList(value)) {
        if (v != "2.0" && v != "2.1") return BadParam(key, "'" + v + "' is not a STIX version (2.0, 2.1)");
        f.spec_versions.push_back(std::move(v));
      }
    } else if (key == "match[version]" && allowed.version) {
      for (auto& v : SplitList(value)) {
        if (v == "all") f.version.all = true;
        else if (v == "first") f.version.first = true;
        else if (v == "last") f.version.last = true;
        else {
          auto ts = ParseTimestamp(v);
          if (!ts.ok()) return BadParam(key, "'" + v + "' is not first, last, all or a timestamp");
          f.version.versions.push_back(*ts);
        }
      }
    } else if (key.rfind("match[", 0) == 0) {
      return BadParam(key, "not supported by this endpoint");
    }
    // Other parameters are ignored, as HTTP servers conventionally do.
  }
  return f;
}

bool AcceptsTaxii(std::string_view accept) {
  if (Trim(accept).empty()) return true;
  for (std::string_view part : Split(accept, ',')) {
    std::string type, version;
    SplitMediaType(part, &type, &version);
    if (type == "*/*" || type == "application/*") return true;
    if (type == "application/taxii+json" && (version.empty() || version == "2.1")) return true;
  }
  return false;
}

bool IsTaxiiContentType(std::string_view content_type) {
  std::string type, version;
  SplitMediaType(content_type, &type, &version);
  return type == "application/taxii+json" && (version.empty() || version == "2.1");
}

std::string SealCursor(int64_t cursor) {
  unsigned char sealed[kSealedCursorBytes];
  unsigned char plain[8];
  std::memcpy(plain, &cursor, 8);
  randombytes_buf(sealed, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(sealed + crypto_secretbox_NONCEBYTES, plain, sizeof plain, sealed, CursorKey());
  char text[sodium_base64_ENCODED_LEN(kSealedCursorBytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(text, sizeof text, sealed, sizeof sealed, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return text;
}

Result<int64_t> OpenCursor(std::string_view next) {
  unsigned char sealed[kSealedCursorBytes];
  size_t len = 0;
  unsigned char plain[8];
  if (sodium_base642bin(sealed, sizeof sealed, next.data(), next.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      len != sizeof sealed ||
      crypto_secretbox_open_easy(plain, sealed + crypto_secretbox_NONCEBYTES, sizeof sealed - crypto_secretbox_NONCEBYTES,
                                 sealed, CursorKey()) != 0) {
    return absl::InvalidArgumentError(
        "not a value this server issued (or issued before it restarted): start again without next");
  }
  int64_t cursor;
  std::memcpy(&cursor, plain, 8);
  return cursor;
}

}  // namespace cordon::taxii
