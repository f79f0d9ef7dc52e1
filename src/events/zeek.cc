// Zeek logs: TSV with #-headers (ASCII writer) and JSON lines (json-streaming or
// LogAscii::use_json), any log type. Fields are mapped by NAME, the same for
// every log (dns query, http host/uri, conn id.*, ssl server_name/ja3, x509
// certificate.serial/fingerprint, files hashes, notice src/dst), so new log
// types and header changes need no code.
#include <simdjson.h>

#include <array>
#include <charconv>
#include <vector>

#include "events/decoder.h"
#include "events/record.h"

namespace cordon::events {
namespace {

using match::KeyType;

enum class Role : uint8_t {
  kNone, kTs, kOrigH, kRespH, kOrigP, kRespP, kProto, kQuery, kAnswers, kHost, kUri, kServerName,
  kJa3, kJa3s, kFingerprint, kSerial, kMd5, kSha1, kSha256, kSrc, kDst, kTxHosts, kRxHosts,
};

Role RoleOf(std::string_view name) {
  struct Entry { std::string_view name; Role role; };
  static constexpr Entry kTable[] = {
      {"ts", Role::kTs}, {"id.orig_h", Role::kOrigH}, {"id.resp_h", Role::kRespH},
      {"id.orig_p", Role::kOrigP}, {"id.resp_p", Role::kRespP}, {"proto", Role::kProto},
      {"query", Role::kQuery}, {"answers", Role::kAnswers}, {"host", Role::kHost}, {"uri", Role::kUri},
      {"server_name", Role::kServerName}, {"ja3", Role::kJa3}, {"ja3s", Role::kJa3s},
      {"fingerprint", Role::kFingerprint}, {"certificate.serial", Role::kSerial}, {"md5", Role::kMd5},
      {"sha1", Role::kSha1}, {"sha256", Role::kSha256}, {"src", Role::kSrc}, {"dst", Role::kDst},
      {"tx_hosts", Role::kTxHosts}, {"rx_hosts", Role::kRxHosts},
  };
  for (const Entry& e : kTable) {
    if (e.name.size() == name.size() && e.name == name) return e.role;
  }
  return Role::kNone;
}

// The field name each role reports in alerts (static storage: keys outlive records).
std::string_view FieldName(Role r) {
  static constexpr std::string_view kNames[] = {
      "", "ts", "id.orig_h", "id.resp_h", "id.orig_p", "id.resp_p", "proto", "query", "answers", "host", "uri",
      "server_name", "ja3", "ja3s", "fingerprint", "certificate.serial", "md5", "sha1", "sha256", "src", "dst",
      "tx_hosts", "rx_hosts"};
  return kNames[static_cast<size_t>(r)];
}

bool ParsePort(std::string_view s, uint64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Per-record values applied after all fields are seen (URL needs host + uri).
struct Pending {
  std::string_view host, uri;
  bool has_time = false;
};

class ZeekDecoder final : public Decoder {
 public:
  void BeginSource(std::string_view) override {
    roles_.clear();
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
      size_t start = 0;
      std::string_view s = *v;
      while (true) {
        size_t end = s.find(separator_, start);
        roles_.push_back(RoleOf(s.substr(start, end == std::string_view::npos ? end : end - start)));
        if (end == std::string_view::npos) break;
        start = end + 1;
      }
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
    rec_.Begin(event);
    Pending p;
    size_t column = 0, start = 0;
    const char* data = line.data();
    const size_t n = line.size();
    while (true) {
      const void* hit = start < n ? std::memchr(data + start, separator_, n - start) : nullptr;
      size_t end = hit ? static_cast<size_t>(static_cast<const char*>(hit) - data) : n;
      if (column >= roles_.size()) return TooMany(column + 1);
      Role role = roles_[column];
      if (role != Role::kNone) {
        std::string_view v(data + start, end - start);
        if (v != unset_ && v != empty_) {
          if (role == Role::kAnswers || role == Role::kTxHosts || role == Role::kRxHosts) {
            size_t s = 0;
            while (true) {
              size_t e = v.find(set_separator_, s);
              ApplyText(role, v.substr(s, e == std::string_view::npos ? e : e - s), event, &p);
              if (e == std::string_view::npos) break;
              s = e + 1;
            }
          } else if (!ApplyText(role, v, event, &p)) {
            return Malformed(std::string("bad value in column ") + std::string(FieldName(role)) + ": '" +
                             std::string(v.substr(0, 64)) + "'");
          }
        }
      }
      ++column;
      if (!hit) break;
      start = end + 1;
    }
    if (column != roles_.size()) {
      return Malformed("record has " + std::to_string(column) + " fields, #fields header names " +
                       std::to_string(roles_.size()));
    }
    return Finish(event, p);
  }

  LineKind TooMany(size_t column) {
    return Malformed("record has more fields (" + std::to_string(column) + "+) than the #fields header (" +
                     std::to_string(roles_.size()) + ")");
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
      case Role::kNone: return true;
    }
    return true;
  }

  LineKind Finish(match::Event* event, const Pending& p) {
    if (!p.has_time) return Malformed("record without ts");
    if (!p.host.empty() && !p.uri.empty()) rec_.AddHttpUrl(p.host, p.uri, "uri");
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
      std::string_view name;
      if (field.unescaped_key().get(name) != simdjson::SUCCESS) return Malformed("malformed JSON key");
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
  std::vector<Role> roles_;
  char separator_ = '\t', set_separator_ = ',';
  std::string unset_ = "-", empty_ = "(empty)";
};

}  // namespace

std::unique_ptr<Decoder> NewZeekDecoder() { return std::make_unique<ZeekDecoder>(); }

}  // namespace cordon::events
