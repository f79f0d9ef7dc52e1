#include "normalize/normalize.h"

#include <arpa/inet.h>
#include <emmintrin.h>
#include <idn2.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_format.h"

namespace cordon::normalize {
namespace {

constexpr size_t kMaxDomain = 253;
constexpr size_t kMaxLabel = 63;

Status Invalid(const std::string& msg) { return absl::InvalidArgumentError(msg); }

bool IsAsciiAlnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
constexpr char kHexUpper[] = "0123456789ABCDEF";

std::string Quote(std::string_view s) {
  std::string out = "'";
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) absl::StrAppendFormat(&out, "\\x%02x", c);
    else out += char(c);
  }
  return out + "'";
}

// Checks an all-ASCII, already lowercased name (no trailing dot) for label
// syntax. `shown` is what the message quotes (the input as given).
Status CheckAsciiDomain(std::string_view name, std::string_view shown) {
  if (name.empty()) return Invalid("domain name is empty");
  if (name.size() > kMaxDomain)
    return Invalid(absl::StrFormat("domain name %s is %d octets long (at most %d)",
                                   Quote(shown), name.size(), kMaxDomain));
  size_t start = 0;
  int label_no = 1;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i < name.size() && name[i] != '.') {
      unsigned char c = name[i];
      if (!(IsAsciiAlnum(c) || c == '-' || c == '_'))
        return Invalid(absl::StrFormat("domain name %s: label %d has invalid character %s",
                                       Quote(shown), label_no, Quote(name.substr(i, 1))));
      continue;
    }
    std::string_view label = name.substr(start, i - start);
    if (label.empty())
      return Invalid(absl::StrFormat("domain name %s: label %d is empty", Quote(shown), label_no));
    if (label.size() > kMaxLabel)
      return Invalid(absl::StrFormat("domain name %s: label %d is %d octets long (at most %d)",
                                     Quote(shown), label_no, label.size(), kMaxLabel));
    if (label.front() == '-' || label.back() == '-')
      return Invalid(absl::StrFormat("domain name %s: label %d %s starts or ends with '-'",
                                     Quote(shown), label_no, Quote(label)));
    start = i + 1;
    ++label_no;
  }
  return absl::OkStatus();
}

// One part of a dotted quad: 1-3 digits (already checked to be digits), no
// leading zero, at most 255.
inline bool ParseOctet(const unsigned char* p, unsigned len, uint8_t* out) {
  unsigned value;
  switch (len) {
    case 1: value = p[0] - '0'; break;
    case 2: value = (p[0] - '0') * 10 + (p[1] - '0'); break;
    case 3: value = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'); break;
    default: return false;  // an empty part, or more than three digits
  }
  if (value > 255 || (len > 1 && p[0] == '0')) return false;  // a leading zero: octal in inet_aton
  *out = uint8_t(value);
  return true;
}

bool IsUnreserved(unsigned char c) {
  return IsAsciiAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// Appends the path / query part of a URL with escapes normalised.
void AppendUrlTail(std::string_view s, std::string* out) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    if (c == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      unsigned char v = uint8_t(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      if (IsUnreserved(v)) {
        out->push_back(char(v));
      } else {
        out->push_back('%');
        out->push_back(kHexUpper[v >> 4]);
        out->push_back(kHexUpper[v & 15]);
      }
      i += 2;
    } else if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' ||
               c == '^' || c == '`' || c == '{' || c == '|' || c == '}' || c == '%') {
      // A '%' that starts no escape is a literal percent sign, written %25:
      // left bare, "%%33" would become "%3" + "3" and a second pass would
      // decode that (normalising must be idempotent; found by normalize_fuzz).
      out->push_back('%');
      out->push_back(kHexUpper[c >> 4]);
      out->push_back(kHexUpper[c & 15]);
    } else {
      out->push_back(char(c));
    }
  }
}

std::string FormatV6Text(const IpAddress& a) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, a.bytes.data(), buf, sizeof buf);
  return buf;
}

}  // namespace

bool IpPrefix::Contains(const IpAddress& a) const {
  int full = length / 8, rest = length % 8;
  if (std::memcmp(a.bytes.data(), addr.bytes.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = uint8_t(0xff << (8 - rest));
  return (a.bytes[full] & mask) == addr.bytes[full];
}

namespace {

// The lowercase form of each byte a domain may hold in ASCII ('.' included),
// 0 for every other byte (non-ASCII included).
constexpr std::array<char, 256> kDomainByte = [] {
  std::array<char, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = char(c);
  for (int c = 'a'; c <= 'z'; ++c) t[c] = char(c);
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = char(c + 32);
  t['-'] = '-';
  t['_'] = '_';
  t['.'] = '.';
  return t;
}();

// The common case in one pass: allowed ASCII bytes only, labels of 1..63
// octets not starting or ending with '-', at most 253 in all. False (with
// `out` clobbered) for anything else, which the full path then handles or
// explains.
bool FastAsciiDomain(std::string_view name, std::string* out) {
  const size_t n = name.size();
  if (n == 0 || n > kMaxDomain) return false;
  out->resize(n);
  char* o = out->data();
  bool ok = true;
  size_t label_start = 0;
  for (size_t i = 0; i < n; ++i) {
    char t = kDomainByte[static_cast<unsigned char>(name[i])];
    o[i] = t;
    ok &= t != 0;
    if (t == '.') {
      size_t len = i - label_start;
      if (len == 0 || len > kMaxLabel || o[label_start] == '-' || o[i - 1] == '-') return false;
      label_start = i + 1;
    }
  }
  size_t len = n - label_start;
  return ok && len != 0 && len <= kMaxLabel && o[label_start] != '-' && o[n - 1] != '-';
}

}  // namespace

Status DomainInto(std::string_view text, std::string* out) {
  std::string_view name = text;
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (FastAsciiDomain(name, out)) return absl::OkStatus();
  bool ascii = true;
  for (unsigned char c : name) ascii &= c < 0x80;
  if (ascii) {
    out->resize(name.size());
    for (size_t i = 0; i < name.size(); ++i) (*out)[i] = LowerAscii(name[i]);
    return CheckAsciiDomain(*out, text);
  }
  std::string input(name);  // NUL-terminated for libidn2
  if (input.find('\0') != std::string::npos)
    return Invalid(absl::StrFormat("domain name %s contains a NUL byte", Quote(text)));
  char* converted = nullptr;
  int rc = idn2_to_ascii_8z(input.c_str(), &converted, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK) {
    return Invalid(absl::StrFormat("domain name %s is not a valid internationalised name: %s",
                                   Quote(text), idn2_strerror(rc)));
  }
  out->assign(converted);
  idn2_free(converted);
  for (char& c : *out) c = LowerAscii(c);
  if (!out->empty() && out->back() == '.') out->pop_back();  // a mapped full stop (U+3002)
  return CheckAsciiDomain(*out, text);
}

Result<std::string> Domain(std::string_view text) {
  std::string out;
  CORDON_RETURN_IF_ERROR(DomainInto(text, &out));
  return out;
}

bool ParseIpv4(std::string_view s, IpAddress* out) {
  // One 16-byte compare finds the dots and checks that every other byte is a
  // digit; then each part is read by its length. (callgrind on the Zeek TSV
  // input: 140 instructions per address, was 220 byte by byte.) The vector is
  // assembled in registers from two 8-byte loads: built in a stack buffer by
  // 8-byte stores and loaded as 16 bytes, it stalled on store forwarding
  // (9-13 ns per address, was 17-19, in a loop over 300,000 addresses of the
  // shared Zeek logs).
  const size_t n = s.size();
  if (n < 7 || n > 15) return false;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
  uint64_t head, high = 0;
  if (n >= 8) {
    std::memcpy(&head, p, 8);
    if (n > 8) {  // bytes 8..n-1 from the last eight
      uint64_t tail;
      std::memcpy(&tail, p + n - 8, 8);
      high = tail >> (8 * (16 - n));
    }
  } else {  // seven bytes: two overlapping 4-byte loads
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + 3, 4);
    head = uint64_t(a) | uint64_t(b) << 24;
  }
  const __m128i v = _mm_set_epi64x(int64_t(high), int64_t(head));
  const unsigned all = (1u << n) - 1;
  const unsigned dots = unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')))) & all;
  // Digits as signed bytes: not below '0' and not above '9' (bytes >= 0x80 are negative).
  const __m128i below = _mm_cmplt_epi8(v, _mm_set1_epi8('0'));
  const __m128i above = _mm_cmpgt_epi8(v, _mm_set1_epi8('9'));
  const unsigned digits = ~unsigned(_mm_movemask_epi8(_mm_or_si128(below, above))) & all;
  if ((dots | digits) != all) return false;
  // Exactly three dots.
  const unsigned rest = dots & (dots - 1), last = rest & (rest - 1);
  if (dots == 0 || rest == 0 || last == 0 || (last & (last - 1)) != 0) return false;
  const unsigned d1 = unsigned(__builtin_ctz(dots)), d2 = unsigned(__builtin_ctz(rest)),
                 d3 = unsigned(__builtin_ctz(last));
  uint8_t parts[4];
  if (!ParseOctet(p, d1, &parts[0]) || !ParseOctet(p + d1 + 1, d2 - d1 - 1, &parts[1]) ||
      !ParseOctet(p + d2 + 1, d3 - d2 - 1, &parts[2]) || !ParseOctet(p + d3 + 1, unsigned(n) - d3 - 1, &parts[3]))
    return false;
  out->bytes = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, parts[0], parts[1], parts[2], parts[3]};
  return true;
}

Result<IpAddress> Ip(std::string_view text) {
  IpAddress a;
  if (ParseIpv4(text, &a)) return a;
  if (text.find(':') != std::string_view::npos && text.size() <= INET6_ADDRSTRLEN) {
    char buf[INET6_ADDRSTRLEN + 1];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = 0;
    if (inet_pton(AF_INET6, buf, a.bytes.data()) == 1) return a;
  }
  if (text.find('%') != std::string_view::npos)
    return Invalid(absl::StrFormat("IP address %s has a zone id (not allowed)", Quote(text)));
  if (text.find(':') != std::string_view::npos)
    return Invalid(absl::StrFormat("%s is not a valid IPv6 address", Quote(text)));
  return Invalid(absl::StrFormat(
      "%s is not a valid IPv4 address (four decimal octets 0-255 without leading zeros)", Quote(text)));
}

Result<IpPrefix> Cidr(std::string_view text) {
  size_t slash = text.find('/');
  std::string_view addr_text = text.substr(0, slash);
  CORDON_ASSIGN_OR_RETURN(IpAddress addr, Ip(addr_text));
  bool v4_text = addr_text.find(':') == std::string_view::npos;
  IpPrefix p;
  p.addr = addr;
  p.length = 128;
  if (slash != std::string_view::npos) {
    std::string_view len = text.substr(slash + 1);
    int max = v4_text ? 32 : 128;
    int n = 0;
    bool ok = !len.empty() && len.size() <= 3 && !(len.size() > 1 && len[0] == '0');
    for (size_t i = 0; ok && i < len.size(); ++i) {  // at most 3 digits: no overflow
      if (len[i] < '0' || len[i] > '9') ok = false;
      else n = n * 10 + (len[i] - '0');
    }
    if (!ok || n > max)
      return Invalid(absl::StrFormat("CIDR %s: prefix length %s is not a number 0..%d", Quote(text),
                                     Quote(len), max));
    p.length = v4_text ? n + 96 : n;
  }
  IpPrefix network = p;
  for (int bit = p.length; bit < 128; ++bit) network.addr.bytes[bit / 8] &= uint8_t(~(0x80 >> (bit % 8)));
  if (!(network.addr == p.addr)) {
    return Invalid(absl::StrFormat("CIDR %s has host bits set beyond /%d (the network is %s)",
                                   Quote(text), v4_text ? p.length - 96 : p.length,
                                   FormatPrefix(network)));
  }
  return p;
}

std::string FormatIp(const IpAddress& a) {
  if (a.IsV4()) {
    // By hand: at most 15 characters, so the string needs no allocation
    // (StrFormat was most of the cost of rendering a record's addresses).
    char text[16];
    char* p = text;
    for (int i = 12; i < 16; ++i) {
      unsigned v = a.bytes[i];
      if (v >= 100) *p++ = char('0' + v / 100);
      if (v >= 10) *p++ = char('0' + v / 10 % 10);
      *p++ = char('0' + v % 10);
      if (i < 15) *p++ = '.';
    }
    return std::string(text, size_t(p - text));
  }
  return FormatV6Text(a);
}

std::string FormatPrefix(const IpPrefix& p) {
  return absl::StrFormat("%s/%d", FormatIp(p.addr), p.IsV4() ? p.length - 96 : p.length);
}

Result<std::string> Url(std::string_view text) {
  // scheme
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return Invalid(absl::StrFormat("URL %s has no scheme (expected scheme://host...)", Quote(text)));
  std::string out;
  out.reserve(text.size() + 8);
  for (size_t i = 0; i < colon; ++i) {
    unsigned char c = text[i];
    bool ok = IsAsciiAlnum(c) && !(i == 0 && c >= '0' && c <= '9');
    ok |= i > 0 && (c == '+' || c == '-' || c == '.');
    if (!ok)
      return Invalid(absl::StrFormat("URL %s: scheme has invalid character %s at offset %d", Quote(text),
                                     Quote(text.substr(i, 1)), i));
    out.push_back(LowerAscii(char(c)));
  }
  std::string scheme = out;
  if (text.substr(colon + 1, 2) != "//")
    return Invalid(absl::StrFormat("URL %s: expected '//' after the scheme", Quote(text)));
  out += "://";
  std::string_view rest = text.substr(colon + 3);
  size_t fragment = rest.find('#');
  if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  size_t auth_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view tail = auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);

  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    AppendUrlTail(authority.substr(0, at + 1), &out);  // userinfo as written (escapes normalised)
    authority = authority.substr(at + 1);
  }
  std::string_view host, port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return Invalid(absl::StrFormat("URL %s: '[' of an IPv6 host is not closed", Quote(text)));
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':')
      return Invalid(absl::StrFormat("URL %s: unexpected %s after the IPv6 host", Quote(text), Quote(after)));
    if (!after.empty()) port = after.substr(1);
    auto ip = Ip(host);
    if (!ip.ok() || host.find(':') == std::string_view::npos)
      return Invalid(absl::StrFormat("URL %s: host [%s] is not an IPv6 address", Quote(text), host));
    out += '[';
    out += FormatV6Text(*ip);  // a mapped IPv4 stays in its IPv6 form inside brackets
    out += ']';
  } else {
    size_t pc = authority.rfind(':');
    host = authority.substr(0, pc);
    if (pc != std::string_view::npos) port = authority.substr(pc + 1);
    if (host.empty()) return Invalid(absl::StrFormat("URL %s has no host", Quote(text)));
    std::string decoded;  // hosts may be percent-encoded UTF-8 (RFC 3986 reg-name)
    if (host.find('%') != std::string_view::npos) {
      for (size_t i = 0; i < host.size(); ++i) {
        if (host[i] == '%' && i + 2 < host.size() && HexValue(host[i + 1]) >= 0 &&
            HexValue(host[i + 2]) >= 0) {
          decoded.push_back(char(HexValue(host[i + 1]) * 16 + HexValue(host[i + 2])));
          i += 2;
        } else {
          decoded.push_back(host[i]);
        }
      }
      host = decoded;
    }
    auto domain = Domain(host);
    if (!domain.ok())
      return Invalid(absl::StrFormat("URL %s: host: %s", Quote(text), domain.status().message()));
    out += *domain;
  }
  if (!port.empty()) {
    uint32_t n = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || n > 65535)
        return Invalid(absl::StrFormat("URL %s: port %s is not a number 0..65535", Quote(text), Quote(port)));
      n = n * 10 + uint32_t(c - '0');
    }
    if (n > 65535)
      return Invalid(absl::StrFormat("URL %s: port %s is not a number 0..65535", Quote(text), Quote(port)));
    bool is_default = (scheme == "http" && n == 80) || (scheme == "https" && n == 443) ||
                      (scheme == "ftp" && n == 21);
    if (!is_default) absl::StrAppendFormat(&out, ":%d", n);
  }
  if (tail.empty() || tail[0] != '/') out += '/';
  AppendUrlTail(tail, &out);
  return out;
}

Result<std::string> Email(std::string_view text) {
  size_t at = text.rfind('@');
  if (at == std::string_view::npos)
    return Invalid(absl::StrFormat("e-mail address %s has no '@'", Quote(text)));
  if (at == 0) return Invalid(absl::StrFormat("e-mail address %s has an empty local part", Quote(text)));
  for (unsigned char c : text.substr(0, at))
    if (c <= 0x20 || c == 0x7f)
      return Invalid(absl::StrFormat("e-mail address %s: local part contains a space or control character",
                                     Quote(text)));
  auto domain = Domain(text.substr(at + 1));
  if (!domain.ok())
    return Invalid(absl::StrFormat("e-mail address %s: %s", Quote(text), domain.status().message()));
  std::string out(text.substr(0, at + 1));
  out += *domain;
  return out;
}

Result<HashAlgo> ParseHashAlgo(std::string_view name) {
  std::string n;
  for (char c : name)
    if (c != '-' && c != '_') n.push_back(LowerAscii(c));
  if (n == "md5") return HashAlgo::kMd5;
  if (n == "sha1") return HashAlgo::kSha1;
  if (n == "sha256") return HashAlgo::kSha256;
  if (n == "sha512") return HashAlgo::kSha512;
  return Invalid(absl::StrFormat("unknown hash algorithm %s (expected MD5, SHA-1, SHA-256, SHA-512)",
                                 Quote(name)));
}

Result<std::string> Hash(std::string_view text, HashAlgo algo) {
  static constexpr size_t kLen[] = {32, 40, 64, 128};
  static constexpr const char* kName[] = {"MD5", "SHA-1", "SHA-256", "SHA-512"};
  size_t want = kLen[int(algo)];
  if (text.size() != want)
    return Invalid(absl::StrFormat("%s hash %s has %d characters (expected %d hex digits)", kName[int(algo)],
                                   Quote(text), text.size(), want));
  std::string out(text.size(), '\0');
  for (size_t i = 0; i < text.size(); ++i) {
    if (HexValue(text[i]) < 0)
      return Invalid(absl::StrFormat("%s hash %s: character %d %s is not a hex digit", kName[int(algo)],
                                     Quote(text), i + 1, Quote(text.substr(i, 1))));
    out[i] = LowerAscii(text[i]);
  }
  return out;
}

size_t AppendHexDigits(std::string_view text, std::string* out) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == ':' || text[i] == ' ') continue;
    if (HexValue(text[i]) < 0) return i;
    *out += LowerAscii(text[i]);
  }
  return std::string_view::npos;
}

Result<std::string> Serial(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  if (size_t bad = AppendHexDigits(text, &out); bad != std::string_view::npos)
    return Invalid(absl::StrFormat("serial number %s: character %d %s is not a hex digit", Quote(text), bad + 1,
                                   Quote(text.substr(bad, 1))));
  if (out.empty()) return Invalid(absl::StrFormat("serial number %s has no hex digit", Quote(text)));
  return out;
}

}  // namespace cordon::normalize
