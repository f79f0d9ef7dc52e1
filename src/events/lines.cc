#include "events/decoder.h"
#include "events/record.h"

namespace cordon::events {
namespace {

// Plain lines: one domain, IP address or URL per line; '#' starts a comment
// line. Auto-detected per line: "scheme://" is a URL (its host keyed too),
// an address is an IP, anything else must be a valid domain name.
class LinesDecoder final : public Decoder {
 public:
  void BeginSource(std::string_view) override {}

  LineKind Decode(std::string_view line, match::Event* event) override {
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string_view::npos || line[b] == '#') return LineKind::kSkip;
    size_t e = line.find_last_not_of(" \t\r");
    line = line.substr(b, e - b + 1);
    rec_.Begin(event);
    event->time = Now();  // a bare value has no time of its own: when it was read
    size_t scheme = line.find("://");
    if (scheme != std::string_view::npos) {
      rec_.AddUrl(line, "url");
      if (event->keys.empty()) return Malformed("not a valid URL");
      size_t host_start = scheme + 3;
      size_t host_end = line.find_first_of("/?#", host_start);
      std::string_view authority = line.substr(host_start, host_end == std::string_view::npos ? host_end : host_end - host_start);
      if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
      rec_.AddHost(authority, "url.host");
      return LineKind::kEvent;
    }
    rec_.AddHost(line, "value");
    if (event->keys.empty()) return Malformed("neither a domain name, an IP address nor a URL");
    return LineKind::kEvent;
  }

 private:
  RecordBuilder rec_;
};

}  // namespace

std::unique_ptr<Decoder> NewLinesDecoder() { return std::make_unique<LinesDecoder>(); }

}  // namespace cordon::events
