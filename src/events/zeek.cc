// Zeek logs: TSV with #-headers (ASCII writer) and JSON lines (json-streaming or
// LogAscii::use_json), any log type. Fields are mapped by NAME, the same for
// every log (dns query, http host/uri, conn id.*, ssl server_name/ja3, x509
// certificate.serial/fingerprint, files hashes, notice src/dst, smtp
// addresses), so new log types and header changes need no code.
#include <simdjson.h>

#include <algorithm>
#include <array>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <charconv>
#include <cstring>
#include <deque>
#include <vector>

#include "events/decoder.h"
#include "events/record.h"

namespace cordon::events {
namespace {

using match::KeyType;

enum class Role : uint8_t {
  kNone, kTs, kOrigH, kRespH, kOrigP, kRespP, kProto, kQuery, kAnswers, kHost, kUri, kServerName,
  kJa3, kJa3s, kFingerprint, kSerial, kMd5, kSha1, kSha256, kSrc, kDst, kTxHosts, kRxHosts,
  kMailFrom, kRcptTo, kFrom, kTo, kReplyTo,  // smtp.log
};

// By length first: this runs for every field of every JSON record.
Role RoleOf(std::string_view n) {
  auto is = [&]<size_t N>(const char (&lit)[N]) { return std::memcmp(n.data(), lit, N - 1) == 0; };
  switch (n.size()) {
    case 2:
      if (is("ts")) return Role::kTs;
      if (is("to")) return Role::kTo;
      return Role::kNone;
    case 3:
      if (is("uri")) return Role::kUri;
      if (is("md5")) return Role::kMd5;
      if (is("src")) return Role::kSrc;
      if (is("dst")) return Role::kDst;
      if (is("ja3")) return Role::kJa3;
      return Role::kNone;
    case 4:
      if (is("host")) return Role::kHost;
      if (is("sha1")) return Role::kSha1;
      if (is("ja3s")) return Role::kJa3s;
      if (is("from")) return Role::kFrom;
      return Role::kNone;
    case 5:
      if (is("query")) return Role::kQuery;
      if (is("proto")) return Role::kProto;
      return Role::kNone;
    case 6:
      if (is("sha256")) return Role::kSha256;
      if (is("rcptto")) return Role::kRcptTo;
      return Role::kNone;
    case 7: return is("answers") ? Role::kAnswers : Role::kNone;
    case 8:
      if (is("tx_hosts")) return Role::kTxHosts;
      if (is("rx_hosts")) return Role::kRxHosts;
      if (is("mailfrom")) return Role::kMailFrom;
      if (is("reply_to")) return Role::kReplyTo;
      return Role::kNone;
    case 9:
      if (!is("id.")) return Role::kNone;
      if (is("id.orig_h")) return Role::kOrigH;
      if (is("id.resp_h")) return Role::kRespH;
      if (is("id.orig_p")) return Role::kOrigP;
      if (is("id.resp_p")) return Role::kRespP;
      return Role::kNone;
    case 11:
      if (is("server_name")) return Role::kServerName;
      if (is("fingerprint")) return Role::kFingerprint;
      return Role::kNone;
    case 18: return is("certificate.serial") ? Role::kSerial : Role::kNone;
    default: return Role::kNone;
  }
}

// The field name each role reports in alerts (static storage: keys outlive records).
std::string_view FieldName(Role r) {
  static constexpr std::string_view kNames[] = {
      "", "ts", "id.orig_h", "id.resp_h", "id.orig_p", "id.resp_p", "proto", "query", "answers", "host", "uri",
      "server_name", "ja3", "ja3s", "fingerprint", "certificate.serial", "md5", "sha1", "sha256", "src", "dst",
      "tx_hosts", "rx_hosts", "mailfrom", "rcptto", "from", "to", "reply_to"};
  return kNames[static_cast<size_t>(r)];
}

bool ParsePort(std::string_view s, uint64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Per-record values applied after all fields are seen (URL needs host + uri).
struct Pending {
  std::string_view host, uri;
  uint64_t resp_port = 0;  // id.resp_p
  bool has_time = false;
};

class ZeekDecoder final : public Decoder {
 public:
  void BeginSource(std::string_view) override {
    roles_.clear();
    active_.clear();
    separator_ = '\t';
    set_separator_ = ',';
    unset_ = "-";
    empty_ = "(empty)";
  }

  LineKind Decode(std::string_view line, match::Event* event) override {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return LineKind::kSkip;
    if (line.front() == '#') return Header(line);
    if (line.front() == '{') return DecodeJson(line, event);
    return DecodeTsv(line, event);
  }

 private:
  LineKind Header(std::string_view line) {
    auto value_of = [&](std::string_view directive) -> std::optional<std::string_view> {
      if (!line.starts_with(directive)) return std::nullopt;
      std::string_view rest = line.substr(directive.size());
      if (rest.empty() || (rest.front() != separator_ && rest.front() != ' ')) return std::nullopt;
      return rest.substr(1);
    };
    if (auto v = value_of("#separator")) {
      // "#separator \x09": the only header separated by a space, value escaped.
      std::string_view s = *v;
      if (s.size() == 4 && s[0] == '\\' && s[1] == 'x') {
        int hi = HexValue(s[2]), lo = HexValue(s[3]);
        if (hi < 0 || lo < 0) return Malformed("#separator: bad \\x escape");
        separator_ = static_cast<char>(hi * 16 + lo);
      } else if (s.size() == 1) {
        separator_ = s[0];
      } else {
        return Malformed("#separator: expected one character or \\xHH");
      }
      return LineKind::kSkip;
    }
    if (auto v = value_of("#set_separator")) {
      if (v->size() != 1) return Malformed("#set_separator: expected one character");
      set_separator_ = (*v)[0];
      return LineKind::kSkip;
    }
    if (auto v = value_of("#unset_field")) {
      unset_.assign(*v);
      return LineKind::kSkip;
    }
    if (auto v = value_of("#empty_field")) {
      empty_.assign(*v);
      return LineKind::kSkip;
    }
    if (auto v = value_of("#fields")) {
      roles_.clear();
      active_.clear();
      size_t start = 0;
      std::string_view s = *v;
      while (true) {
        size_t end = s.find(separator_, start);
        Role role = RoleOf(s.substr(start, end == std::string_view::npos ? end : end - start));
        if (role != Role::kNone) active_.emplace_back(roles_.size(), role);
        roles_.push_back(role);
        if (end == std::string_view::npos) break;
        start = end + 1;
      }
      // A keyed column c needs the separators before and after it.
      stored_cuts_ = active_.empty() ? 0 : std::min(active_.back().first + 1, roles_.size() - 1);
      cuts_.resize(stored_cuts_);
      return LineKind::kSkip;
    }
    return LineKind::kSkip;  // #path, #open, #close, #types, comments
  }

  static int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  LineKind DecodeTsv(std::string_view line, match::Event* event) {
    if (roles_.empty()) return Malformed("TSV record before any #fields header");
    bool escaped = false;
    const size_t separators = FindSeparators(line, separator_, stored_cuts_, cuts_.data(), &escaped);
    if (separators + 1 != roles_.size()) {
      return Malformed("record has " + std::to_string(separators + 1) + " fields, #fields header names " +
                       std::to_string(roles_.size()));
    }
    rec_.Begin(event);
    Pending p;
    unescaped_used_ = 0;
    for (const auto& [column, role] : active_) {
      size_t start = column == 0 ? 0 : cuts_[column - 1] + 1;
      size_t end = column == separators ? line.size() : cuts_[column];
      std::string_view v(line.data() + start, end - start);
      if (IsUnsetOrEmpty(v)) continue;
      // The separator pass saw backslashes only up to the last separator it
      // stored: the line's last column is looked at on its own.
      const bool may_be_escaped = escaped || end == line.size();
      auto unescaped = [&](std::string_view x) {
        return may_be_escaped && std::memchr(x.data(), '\\', x.size()) != nullptr ? Unescape(x) : x;
      };
      if (role == Role::kAnswers || role == Role::kTxHosts || role == Role::kRxHosts || role == Role::kRcptTo ||
          role == Role::kTo) {
        // Split first: a separator inside an element is written escaped (\x2c).
        size_t s = 0;
        while (true) {
          size_t e = v.find(set_separator_, s);
          ApplyText(role, unescaped(v.substr(s, e == std::string_view::npos ? e : e - s)), event, &p);
          if (e == std::string_view::npos) break;
          s = e + 1;
        }
      } else if (v = unescaped(v); !ApplyText(role, v, event, &p)) {
        return Malformed(std::string("bad value in column ") + std::string(FieldName(role)) + ": '" +
                         std::string(v.substr(0, 64)) + "'");
      }
    }
    return Finish(event, p);
  }

  // Zeek's TSV writer escapes bytes outside printable ASCII as \xHH (UTF-8
  // names included: "b\xc3\xbccher.example"): the bytes back, in a buffer that
  // lives until the record is finished (Pending keeps views of host and uri).
  std::string_view Unescape(std::string_view v) {
    if (unescaped_used_ == unescaped_.size()) unescaped_.emplace_back();
    std::string& out = unescaped_[unescaped_used_++];
    out.clear();
    for (size_t i = 0; i < v.size(); ++i) {
      int hi, lo;
      if (v[i] == '\\' && i + 3 < v.size() && v[i + 1] == 'x' && (hi = HexValue(v[i + 2])) >= 0 &&
          (lo = HexValue(v[i + 3])) >= 0) {
        out += char(hi << 4 | lo);
        i += 3;
      } else {
        out += v[i];
      }
    }
    return out;
  }

  bool IsUnsetOrEmpty(std::string_view v) const {
    if (v.size() == unset_.size() && (v.size() == 1 ? v[0] == unset_[0] : v == unset_)) return true;
    return v.size() == empty_.size() && v == empty_;
  }

  // Counts the `sep`s in `line` and stores the offsets of the first `store`
  // of them in `out` (16 bytes per step with SSE2): one pass, no call per
  // field, and past the last keyed column only a popcount per 16 bytes.
  // `*escaped`: whether a backslash occurs up to the last stored separator
  // (so in some keyed value): the same pass, instead of a search per value
  // (which cost the TSV run ~10 %).
  static size_t FindSeparators(std::string_view line, char sep, size_t store, uint32_t* out, bool* escaped) {
    const char* d = line.data();
    const size_t n = line.size();
    size_t count = 0, i = 0;
    *escaped = false;
#ifdef __SSE2__
    const __m128i s = _mm_set1_epi8(sep), backslash = _mm_set1_epi8('\\');
    __m128i slashes = _mm_setzero_si128();
    for (; i + 16 <= n && count < store; i += 16) {
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i));
      slashes = _mm_or_si128(slashes, _mm_cmpeq_epi8(bytes, backslash));
      auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, s)));
      for (; mask != 0 && count < store; mask &= mask - 1) out[count++] = static_cast<uint32_t>(i + __builtin_ctz(mask));
      for (; mask != 0; mask &= mask - 1) ++count;
    }
    *escaped = _mm_movemask_epi8(slashes) != 0;
    // The rest is only counted: per 16 bytes, the matches (0 or 1 each) summed
    // by PSADBW into two 64-bit lanes.
    __m128i sum = _mm_setzero_si128();
    const __m128i one = _mm_set1_epi8(1);
    for (; i + 16 <= n; i += 16) {
      __m128i eq = _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(d + i)), s);
      sum = _mm_add_epi64(sum, _mm_sad_epu8(_mm_and_si128(eq, one), _mm_setzero_si128()));
    }
    count += static_cast<size_t>(_mm_cvtsi128_si64(sum)) + static_cast<size_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sum, sum)));
#endif
    for (; i < n; ++i) {
      if (d[i] == '\\' && count < store) *escaped = true;
      if (d[i] != sep) continue;
      if (count < store) out[count] = static_cast<uint32_t>(i);
      ++count;
    }
    return count;
  }

  // Applies one textual value; false if the value is malformed for its role
  // (only where the log format fixes the syntax: times and ports).
  bool ApplyText(Role role, std::string_view v, match::Event* event, Pending* p) {
    switch (role) {
      case Role::kTs: {
        auto t = ParseEpochSeconds(v);
        if (!t) t = ParseIsoTime(v);
        if (!t) return false;
        event->time = *t;
        p->has_time = true;
        return true;
      }
      case Role::kOrigP:
      case Role::kRespP: {
        uint64_t port;
        if (!ParsePort(v, &port)) return false;
        rec_.AddPort(port, FieldName(role), role == Role::kOrigP ? Side::kSrc : Side::kDst);
        if (role == Role::kRespP) p->resp_port = port;
        return true;
      }
      case Role::kOrigH: rec_.AddIp(v, FieldName(role), Side::kSrc); return true;
      case Role::kRespH: rec_.AddIp(v, FieldName(role), Side::kDst); return true;
      case Role::kSrc:
      case Role::kDst:
      case Role::kTxHosts:
      case Role::kRxHosts: rec_.AddIp(v, FieldName(role)); return true;
      case Role::kProto: rec_.SetProtocol(v); return true;
      case Role::kQuery:
      case Role::kServerName: rec_.AddDomain(v, FieldName(role)); return true;
      case Role::kAnswers: rec_.AddHost(v, FieldName(role)); return true;
      case Role::kHost: p->host = v; rec_.AddHost(v, FieldName(role)); return true;
      case Role::kUri: p->uri = v; return true;
      case Role::kJa3: rec_.AddHex(KeyType::kJa3, v, FieldName(role)); return true;
      case Role::kJa3s: rec_.AddHex(KeyType::kJa3s, v, FieldName(role)); return true;
      case Role::kFingerprint:  // SHA-1 in older Zeek; SHA-256 (no key type) since Zeek 4
        rec_.AddHex(KeyType::kX509Sha1, v, FieldName(role));
        return true;
      case Role::kSerial: rec_.AddHex(KeyType::kX509Serial, v, FieldName(role)); return true;
      case Role::kMd5: rec_.AddHex(KeyType::kMd5, v, FieldName(role)); return true;
      case Role::kSha1: rec_.AddHex(KeyType::kSha1, v, FieldName(role)); return true;
      case Role::kSha256: rec_.AddHex(KeyType::kSha256, v, FieldName(role)); return true;
      case Role::kMailFrom:
      case Role::kRcptTo:
      case Role::kFrom:
      case Role::kTo:
      case Role::kReplyTo: rec_.AddEmail(v, FieldName(role)); return true;
      case Role::kNone: return true;
    }
    return true;
  }

  LineKind Finish(match::Event* event, const Pending& p) {
    if (!p.has_time) return Malformed("record without ts");
    if (!p.host.empty() && !p.uri.empty()) {
      // A Host header without a port (HTTP/1.0 clients, some malware) on a
      // server port other than 80: the URL the client reached has that port.
      if (p.resp_port != 0 && p.resp_port != 80 && p.host.find(':') == std::string_view::npos && p.uri[0] == '/') {
        authority_.assign(p.host);
        authority_ += ':';
        authority_ += std::to_string(p.resp_port);
        rec_.AddHttpUrl(authority_, p.uri, "uri");
      } else {
        rec_.AddHttpUrl(p.host, p.uri, "uri");
      }
    }
    return LineKind::kEvent;
  }

  LineKind DecodeJson(std::string_view line, match::Event* event) {
    rec_.Begin(event);
    Pending p;
    simdjson::padded_string_view padded(line.data(), line.size(), line.size() + kJsonPadding);
    simdjson::ondemand::document doc;
    if (parser_.iterate(padded).get(doc) != simdjson::SUCCESS) return Malformed("not JSON");
    simdjson::ondemand::object obj;
    if (doc.get_object().get(obj) != simdjson::SUCCESS) return Malformed("not a JSON object");
    for (auto field_result : obj) {
      simdjson::ondemand::field field;
      if (std::move(field_result).get(field) != simdjson::SUCCESS) return Malformed("malformed JSON object");
      // The raw key: Zeek's field names have no escapes, so no copy is needed
      // (a key with a backslash is simply no field of ours).
      const char* raw = field.key().raw();
      const char* end = static_cast<const char*>(std::memchr(raw, '"', line.data() + line.size() - raw));
      if (end == nullptr) return Malformed("malformed JSON key");
      std::string_view name(raw, end - raw);
      Role role = RoleOf(name);
      if (role == Role::kNone) continue;  // on demand: skipped unparsed
      simdjson::ondemand::value value = field.value();
      simdjson::ondemand::json_type type;
      if (value.type().get(type) != simdjson::SUCCESS) return Malformed("malformed JSON value");
      switch (type) {
        case simdjson::ondemand::json_type::string: {
          std::string_view s;
          if (value.get_string().get(s) != simdjson::SUCCESS) return Malformed("malformed JSON string");
          if (!ApplyText(role, s, event, &p)) {
            return Malformed("bad value of \"" + std::string(FieldName(role)) + "\": '" +
                             std::string(s.substr(0, 64)) + "'");
          }
          break;
        }
        case simdjson::ondemand::json_type::number: {
          std::string_view raw;
          raw = value.raw_json_token();
          while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\n' || raw.back() == '\r')) {
            raw.remove_suffix(1);
          }
          if (!ApplyText(role, raw, event, &p)) {
            return Malformed("bad value of \"" + std::string(FieldName(role)) + "\": " + std::string(raw));
          }
          break;
        }
        case simdjson::ondemand::json_type::array: {
          simdjson::ondemand::array arr;
          if (value.get_array().get(arr) != simdjson::SUCCESS) return Malformed("malformed JSON array");
          for (auto item : arr) {
            std::string_view s;
            if (item.get_string().get(s) == simdjson::SUCCESS) ApplyText(role, s, event, &p);
          }
          break;
        }
        default: break;  // null, bool, object: nothing to key
      }
    }
    return Finish(event, p);
  }

  RecordBuilder rec_;
  simdjson::ondemand::parser parser_;
  std::vector<Role> roles_;                        // per column of #fields
  std::vector<std::pair<size_t, Role>> active_;    // the columns we key, in order
  std::vector<uint32_t> cuts_;                     // offsets of the current line's first separators
  size_t stored_cuts_ = 0;                         // how many: up to the last keyed column's end
  char separator_ = '\t', set_separator_ = ',';
  std::string authority_;  // host:port of the record's URL (Finish)
  std::deque<std::string> unescaped_;  // Unescape's buffers (a deque: views of earlier ones survive)
  size_t unescaped_used_ = 0;
  std::string unset_ = "-", empty_ = "(empty)";
};

}  // namespace

std::unique_ptr<Decoder> NewZeekDecoder() { return std::make_unique<ZeekDecoder>(); }

}  // namespace cordon::events
