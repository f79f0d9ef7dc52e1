// Suricata EVE JSON: one record per line, event_type dns, http, tls, flow,
// fileinfo, alert (and any other: their src/dest addresses still key). The
// top-level "host" is the sensor's name, not traffic, and is ignored.
#include <simdjson.h>

#include "events/decoder.h"
#include "events/record.h"

namespace cordon::events {
namespace {

using match::KeyType;
using simdjson::SUCCESS;
namespace od = simdjson::ondemand;

class EveDecoder final : public Decoder {
 public:
  void BeginSource(std::string_view) override {}

  LineKind Decode(std::string_view line, match::Event* event) override {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) return LineKind::kSkip;
    rec_.Begin(event);
    host_ = url_ = {};
    http_port_ = 0;
    bool has_time = false;
    simdjson::padded_string_view padded(line.data(), line.size(), line.size() + kJsonPadding);
    od::document doc;
    if (parser_.iterate(padded).get(doc) != SUCCESS) return Malformed("not JSON");
    od::object obj;
    if (doc.get_object().get(obj) != SUCCESS) return Malformed("not a JSON object");
    for (auto fr : obj) {
      od::field field;
      std::string_view key;
      if (std::move(fr).get(field) != SUCCESS || field.unescaped_key().get(key) != SUCCESS) return Malformed("malformed JSON");
      od::value v = field.value();
      if (key == "timestamp") {
        std::string_view s;
        if (v.get_string().get(s) != SUCCESS) return Malformed("\"timestamp\" is not a string");
        auto t = ParseIsoTime(s);
        if (!t) return Malformed("bad \"timestamp\": '" + std::string(s.substr(0, 64)) + "'");
        event->time = *t;
        has_time = true;
      } else if (key == "src_ip" || key == "dest_ip") {
        std::string_view s;
        if (v.get_string().get(s) == SUCCESS) {
          rec_.AddIp(s, key == "src_ip" ? "src_ip" : "dest_ip", key == "src_ip" ? Side::kSrc : Side::kDst);
        }
      } else if (key == "src_port" || key == "dest_port") {
        uint64_t port;
        if (v.get_uint64().get(port) != SUCCESS) return Malformed("\"" + std::string(key) + "\" is not a port number");
        rec_.AddPort(port, key == "src_port" ? "src_port" : "dest_port", key == "src_port" ? Side::kSrc : Side::kDst);
      } else if (key == "proto") {
        std::string_view s;
        if (v.get_string().get(s) == SUCCESS) rec_.SetProtocol(s);
      } else if (key == "dns") {
        if (!Dns(v)) return Malformed("malformed \"dns\" object");
      } else if (key == "http") {
        if (!Http(v)) return Malformed("malformed \"http\" object");
      } else if (key == "tls") {
        if (!Tls(v)) return Malformed("malformed \"tls\" object");
      } else if (key == "fileinfo") {
        if (!FileInfo(v)) return Malformed("malformed \"fileinfo\" object");
      } else if (key == "smtp" || key == "email") {
        if (!Mail(v, key == "smtp")) return Malformed("malformed \"" + std::string(key) + "\" object");
      }
    }
    if (!has_time) return Malformed("record without \"timestamp\"");
    if (!host_.empty()) {
      rec_.AddHost(host_, "http.hostname");
      if (!url_.empty()) {
        // EVE's hostname has no port; a non-default server port belongs in the URL.
        if (http_port_ != 0 && http_port_ != 80 && host_.find(':') == std::string_view::npos) {
          authority_.assign(host_);
          authority_ += ':';
          authority_ += std::to_string(http_port_);
          rec_.AddHttpUrl(authority_, url_, "http.url");
        } else {
          rec_.AddHttpUrl(host_, url_, "http.url");
        }
      }
    }
    return LineKind::kEvent;
  }

 private:
  template <typename F>
  static bool ForFields(od::value& v, F&& f) {
    od::object o;
    if (v.get_object().get(o) != SUCCESS) return false;
    for (auto fr : o) {
      od::field field;
      std::string_view key;
      if (std::move(fr).get(field) != SUCCESS || field.unescaped_key().get(key) != SUCCESS) return false;
      od::value inner = field.value();
      if (!f(key, inner)) return false;
    }
    return true;
  }

  static std::string_view StringOf(od::value& v) {
    std::string_view s;
    if (v.get_string().get(s) != SUCCESS) return {};
    return s;
  }

  // v1 ("rrname"/"rdata" per record), v2 ("answers": [{rdata}], "grouped":
  // {"A": [...]}) and Suricata 7 ("queries": [{rrname}]) layouts.
  bool Dns(od::value& v) {
    return ForFields(v, [&](std::string_view key, od::value& f) {
      if (key == "rrname") {
        rec_.AddDomain(StringOf(f), "dns.rrname");
      } else if (key == "rdata") {
        rec_.AddHost(StringOf(f), "dns.rdata");
      } else if (key == "answers" || key == "queries") {
        od::array arr;
        if (f.get_array().get(arr) != SUCCESS) return false;
        bool answers = key == "answers";
        for (auto item : arr) {
          od::value iv;
          if (std::move(item).get(iv) != SUCCESS) return false;
          bool ok = ForFields(iv, [&](std::string_view k, od::value& x) {
            if (answers && k == "rdata") rec_.AddHost(StringOf(x), "dns.answers.rdata");
            if (!answers && k == "rrname") rec_.AddDomain(StringOf(x), "dns.queries.rrname");
            return true;
          });
          if (!ok) return false;
        }
      } else if (key == "grouped") {
        return ForFields(f, [&](std::string_view, od::value& list) {
          od::array arr;
          if (list.get_array().get(arr) != SUCCESS) return true;
          for (auto item : arr) {
            std::string_view s;
            if (item.get_string().get(s) == SUCCESS) rec_.AddHost(s, "dns.grouped");
          }
          return true;
        });
      }
      return true;
    });
  }

  bool Http(od::value& v) {
    return ForFields(v, [&](std::string_view key, od::value& f) {
      if (key == "hostname") {
        host_ = StringOf(f);
      } else if (key == "url") {
        url_ = StringOf(f);
      } else if (key == "http_port") {
        uint64_t port;
        if (f.get_uint64().get(port) == SUCCESS) http_port_ = port;
      }
      return true;
    });
  }

  bool Tls(od::value& v) {
    return ForFields(v, [&](std::string_view key, od::value& f) {
      if (key == "sni") {
        rec_.AddDomain(StringOf(f), "tls.sni");
      } else if (key == "fingerprint") {
        rec_.AddHex(KeyType::kX509Sha1, StringOf(f), "tls.fingerprint");
      } else if (key == "serial") {
        rec_.AddHex(KeyType::kX509Serial, StringOf(f), "tls.serial");
      } else if (key == "ja3" || key == "ja3s") {
        bool s = key == "ja3s";
        return ForFields(f, [&](std::string_view k, od::value& x) {
          if (k == "hash") rec_.AddHex(s ? KeyType::kJa3s : KeyType::kJa3, StringOf(x), s ? "tls.ja3s.hash" : "tls.ja3.hash");
          return true;
        });
      }
      return true;
    });
  }

  bool FileInfo(od::value& v) {
    return ForFields(v, [&](std::string_view key, od::value& f) {
      if (key == "md5") rec_.AddHex(KeyType::kMd5, StringOf(f), "fileinfo.md5");
      else if (key == "sha1") rec_.AddHex(KeyType::kSha1, StringOf(f), "fileinfo.sha1");
      else if (key == "sha256") rec_.AddHex(KeyType::kSha256, StringOf(f), "fileinfo.sha256");
      return true;
    });
  }

  // The addresses of an smtp event: the envelope ("smtp": mail_from,
  // rcpt_to) and the message headers ("email": from, to, cc).
  bool Mail(od::value& v, bool envelope) {
    return ForFields(v, [&](std::string_view key, od::value& f) {
      std::string_view field;
      if (envelope) field = key == "mail_from" ? "smtp.mail_from" : key == "rcpt_to" ? "smtp.rcpt_to" : "";
      else field = key == "from" ? "email.from" : key == "to" ? "email.to" : key == "cc" ? "email.cc" : "";
      if (field.empty()) return true;
      od::json_type type;
      if (f.type().get(type) != SUCCESS) return false;
      if (type == od::json_type::string) {
        rec_.AddEmail(StringOf(f), field);
      } else if (type == od::json_type::array) {
        od::array arr;
        if (f.get_array().get(arr) != SUCCESS) return false;
        for (auto item : arr) {
          std::string_view s;
          if (item.get_string().get(s) == SUCCESS) rec_.AddEmail(s, field);
        }
      }
      return true;
    });
  }

  RecordBuilder rec_;
  od::parser parser_;
  std::string_view host_, url_;
  uint64_t http_port_ = 0;
  std::string authority_;
};

}  // namespace

std::unique_ptr<Decoder> NewEveDecoder() { return std::make_unique<EveDecoder>(); }

}  // namespace cordon::events
