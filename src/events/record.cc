#include "events/record.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "normalize/normalize.h"

namespace cordon::events {
namespace {

using match::KeyType;

bool IsHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

size_t HexLength(KeyType t) {
  switch (t) {
    case KeyType::kMd5:
    case KeyType::kJa3:
    case KeyType::kJa3s: return 32;
    case KeyType::kSha1:
    case KeyType::kX509Sha1: return 40;
    case KeyType::kSha256: return 64;
    case KeyType::kSha512: return 128;
    default: return 0;  // any length
  }
}

// Cheap shape test so that names are not first tried (and rejected, with an
// allocated message) as addresses.
bool LooksLikeIp(std::string_view s) {
  // One pass that gives up at the first byte no address has: a name such as
  // "www.example.com" is decided at its first letter.
  bool colon = false, dot = false, hex_letter = false;
  for (char c : s) {
    if (c == '.') dot = true;
    else if (c == ':') colon = true;
    else if (c >= '0' && c <= '9') continue;
    else if (IsHexDigit(c)) hex_letter = true;
    else return false;
  }
  return colon || (dot && !hex_letter);  // IPv6 (hex, colons, maybe a dotted tail), or digits and dots
}

// A stable id for the i-th SCO of a record (ids only tie refs together
// inside one observed-data; they need not be globally meaningful): `type`,
// "--00000000-0000-4000-8000-" and i in 12 hex digits.
std::string_view IdOf(std::string_view type, int i, char (&buf)[64]) {
  static constexpr std::string_view kPrefix = "--00000000-0000-4000-8000-";
  char* p = std::copy(type.begin(), type.end(), buf);
  p = std::copy(kPrefix.begin(), kPrefix.end(), p);
  for (int d = 11; d >= 0; --d, i >>= 4) p[d] = "0123456789abcdef"[i & 15];
  return std::string_view(buf, size_t(p + 12 - buf));
}

// Eight ASCII digits loaded little-endian into `v`, as a number; -1 if one is
// not a digit (the SWAR method of simdjson and fast_float).
inline int64_t EightDigits(uint64_t v) {
  if ((v & 0xf0f0f0f0f0f0f0f0ull) != 0x3030303030303030ull ||
      ((v + 0x0606060606060606ull) & 0xf0f0f0f0f0f0f0f0ull) != 0x3030303030303030ull)
    return -1;
  v -= 0x3030303030303030ull;
  v = v * 10 + (v >> 8);
  v = (((v & 0x000000ff000000ffull) * (100 + (1000000ull << 32))) +
       (((v >> 16) & 0x000000ff000000ffull) * (1 + (10000ull << 32)))) >> 32;
  return int64_t(v);
}

}  // namespace

void RecordBuilder::Begin(match::Event* event) {
  event_ = event;
  event->keys.clear();
  event->observed = this;
  used_ = 0;
  src_key_ = dst_key_ = -1;
  src_port_ = dst_port_ = 0;
  proto_[0] = '\0';
}

std::string& RecordBuilder::NextSlot() {
  if (used_ == slots_.size()) slots_.emplace_back();
  std::string& s = slots_[used_++];
  s.clear();
  return s;
}

void RecordBuilder::AddKey(KeyType type, std::string_view text, std::string_view field) {
  match::Key& k = event_->keys.emplace_back();
  k.type = type;
  k.text = text;
  k.field = field;
}

void RecordBuilder::AddDomain(std::string_view text, std::string_view field) {
  if (text.empty()) return;
  std::string& slot = NextSlot();
  if (!normalize::DomainInto(text, &slot).ok()) {
    --used_;
    return;
  }
  AddKey(KeyType::kDomain, slot, field);
}

void RecordBuilder::AddIp(std::string_view text, std::string_view field, Side side) {
  normalize::IpAddress ip;
  if (!normalize::ParseIpv4(text, &ip)) {
    if (text.find(':') == std::string_view::npos || !LooksLikeIp(text)) return;  // v4 failed; only v6 is left
    auto v6 = normalize::Ip(text);
    if (!v6.ok()) return;
    ip = *v6;
  }
  match::Key& k = event_->keys.emplace_back();
  k.type = KeyType::kIp;
  k.ip = ip;
  k.field = field;
  int index = static_cast<int>(event_->keys.size()) - 1;
  if (side == Side::kSrc) src_key_ = index;
  if (side == Side::kDst) dst_key_ = index;
}

void RecordBuilder::AddHost(std::string_view text, std::string_view field) {
  if (text.empty()) return;
  if (text.front() == '[') {  // [v6] or [v6]:port
    size_t close = text.find(']');
    if (close == std::string_view::npos) return;
    AddIp(text.substr(1, close - 1), field);
    return;
  }
  size_t colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    text = text.substr(0, colon);  // name:port or v4:port
  }
  if (LooksLikeIp(text)) {
    AddIp(text, field);
  } else {
    AddDomain(text, field);
  }
}

void RecordBuilder::AddPort(uint64_t port, std::string_view field, Side side) {
  if (port > 65535) return;
  match::Key& k = event_->keys.emplace_back();
  k.type = KeyType::kPort;
  k.number = static_cast<uint32_t>(port);
  k.field = field;
  if (side == Side::kSrc) src_port_ = k.number;
  if (side == Side::kDst) dst_port_ = k.number;
}

void RecordBuilder::SetProtocol(std::string_view proto) {
  size_t n = std::min(proto.size(), sizeof proto_ - 1);
  for (size_t i = 0; i < n; ++i) {
    char c = proto[i];
    proto_[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  proto_[n] = '\0';
}

void RecordBuilder::AddUrl(std::string_view text, std::string_view field) {
  auto url = normalize::Url(text);
  if (!url.ok()) return;
  std::string& slot = NextSlot();
  slot = std::move(*url);
  AddKey(KeyType::kUrl, slot, field);
}

void RecordBuilder::AddHttpUrl(std::string_view host, std::string_view target, std::string_view field) {
  if (target.starts_with("http://") || target.starts_with("https://")) {  // proxy request
    AddUrl(target, field);
    return;
  }
  if (host.empty()) return;
  scratch_.assign("http://");
  scratch_.append(host);
  if (target.empty() || target.front() != '/') scratch_ += '/';
  scratch_.append(target);
  AddUrl(scratch_, field);
}

void RecordBuilder::AddEmail(std::string_view text, std::string_view field) {
  if (const size_t open = text.rfind('<'); open != std::string_view::npos) {
    const size_t close = text.find('>', open);
    text = text.substr(open + 1, close == std::string_view::npos ? std::string_view::npos : close - open - 1);
  }
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (text.empty()) return;
  auto email = normalize::Email(text);
  if (!email.ok()) return;
  std::string& slot = NextSlot();
  slot = *std::move(email);
  AddKey(KeyType::kEmail, slot, field);
}

void RecordBuilder::AddHex(KeyType type, std::string_view text, std::string_view field) {
  std::string& slot = NextSlot();
  const size_t want = HexLength(type);
  if (normalize::AppendHexDigits(text, &slot) != std::string_view::npos || slot.empty() ||
      (want != 0 && slot.size() != want)) {
    --used_;
    return;
  }
  AddKey(type, slot, field);
}

// Exactly the fields BuildObserved renders (decoder_test checks this on
// the shared logs).
uint64_t RecordBuilder::ObservedFields() const {
  using match::ObservedField;
  uint64_t fields = 0;
  for (const match::Key& k : event_->keys) {
    switch (k.type) {
      case KeyType::kDomain: fields |= Bit(ObservedField::kDomainNameValue); break;
      case KeyType::kUrl: fields |= Bit(ObservedField::kUrlValue); break;
      case KeyType::kEmail: fields |= Bit(ObservedField::kEmailAddrValue); break;
      case KeyType::kIp: fields |= Bit(k.ip.IsV4() ? ObservedField::kIpv4AddrValue : ObservedField::kIpv6AddrValue); break;
      case KeyType::kMd5:
      case KeyType::kSha1:
      case KeyType::kSha256:
      case KeyType::kSha512: fields |= Bit(ObservedField::kFileHashes); break;
      case KeyType::kX509Sha1: fields |= Bit(ObservedField::kX509Hashes); break;
      case KeyType::kX509Serial: fields |= Bit(ObservedField::kX509SerialNumber); break;
      case KeyType::kJa3: fields |= Bit(ObservedField::kJa3Value); break;
      case KeyType::kJa3s: fields |= Bit(ObservedField::kJa3sValue); break;
      case KeyType::kPort:
      case KeyType::kCount: break;
    }
  }
  if (src_key_ >= 0 || dst_key_ >= 0) {  // the network-traffic object
    fields |= Bit(ObservedField::kTrafficProtocols);  // always written, perhaps empty
    if (src_key_ >= 0) fields |= Bit(ObservedField::kTrafficSrcRef);
    if (dst_key_ >= 0) fields |= Bit(ObservedField::kTrafficDstRef);
    if (src_port_ != 0) fields |= Bit(ObservedField::kTrafficSrcPort);
    if (dst_port_ != 0) fields |= Bit(ObservedField::kTrafficDstPort);
  }
  return fields;
}

Result<pattern::ObservationSet> RecordBuilder::BuildObserved(pattern::Version version) const {
  using pattern::JsonValue;
  using pattern::ObservedDataBuilder;
  const auto& keys = event_->keys;
  // At most one SCO per key, plus file, x509-certificate and network-traffic.
  ObservedDataBuilder b(version, "observed-data--00000000-0000-4000-8000-ffffffffffff", event_->time, keys.size() + 3);
  char id[64];
  int n = 0;
  auto add_sco = [&](std::string_view type) { return b.AddObject(type, IdOf(type, n++, id)); };
  // The id of each IP key's SCO, for the network-traffic refs.
  int src_sco = -1, dst_sco = -1;
  JsonValue file_hashes = ObservedDataBuilder::Object(), x509 = ObservedDataBuilder::Object();
  for (size_t i = 0; i < keys.size(); ++i) {
    const match::Key& k = keys[i];
    switch (k.type) {
      case KeyType::kDomain:
      case KeyType::kUrl:
      case KeyType::kEmail: {
        std::string_view type = k.type == KeyType::kDomain ? "domain-name" : k.type == KeyType::kUrl ? "url" : "email-addr";
        b.Add(add_sco(type), "value", b.String(k.text));
        break;
      }
      case KeyType::kIp:
        if (int(i) == src_key_) src_sco = n;
        if (int(i) == dst_key_) dst_sco = n;
        b.Add(add_sco(k.ip.IsV4() ? "ipv4-addr" : "ipv6-addr"), "value", b.String(normalize::FormatIp(k.ip)));
        break;
      case KeyType::kMd5:
      case KeyType::kSha1:
      case KeyType::kSha256:
      case KeyType::kSha512: {
        std::string_view name = k.type == KeyType::kMd5 ? "MD5" : k.type == KeyType::kSha1 ? "SHA-1"
                                : k.type == KeyType::kSha256 ? "SHA-256" : "SHA-512";
        if (!file_hashes.Find(name)) b.Add(&file_hashes, name, b.String(k.text));  // the first of each
        break;
      }
      case KeyType::kX509Sha1:
        if (!x509.Find("hashes")) b.Add(b.Add(&x509, "hashes", ObservedDataBuilder::Object()), "SHA-1", b.String(k.text));
        break;
      case KeyType::kX509Serial:
        if (!x509.Find("serial_number")) b.Add(&x509, "serial_number", b.String(k.text));
        break;
      case KeyType::kJa3:
      case KeyType::kJa3s:  // the custom SCOs the matcher's `x-ja3:value` / `x-ja3s:value` atoms name
        b.Add(add_sco(k.type == KeyType::kJa3 ? "x-ja3" : "x-ja3s"), "value", b.String(k.text));
        break;
      case KeyType::kPort:
      case KeyType::kCount: break;  // no SCO of their own (ports go into network-traffic)
    }
  }
  if (!file_hashes.keys.empty()) b.Add(add_sco("file"), "hashes", std::move(file_hashes));
  if (!x509.keys.empty()) {
    JsonValue* cert = add_sco("x509-certificate");
    for (size_t i = 0; i < x509.keys.size(); ++i) b.Add(cert, x509.keys[i], std::move(x509.items[i]));
  }
  if (src_sco >= 0 || dst_sco >= 0) {
    auto type_of = [&](int key) { return keys[key].ip.IsV4() ? "ipv4-addr" : "ipv6-addr"; };
    JsonValue* traffic = add_sco("network-traffic");
    if (src_sco >= 0) b.Add(traffic, "src_ref", b.String(IdOf(type_of(src_key_), src_sco, id)));
    if (dst_sco >= 0) b.Add(traffic, "dst_ref", b.String(IdOf(type_of(dst_key_), dst_sco, id)));
    if (src_port_ != 0) b.Add(traffic, "src_port", ObservedDataBuilder::Int(src_port_));
    if (dst_port_ != 0) b.Add(traffic, "dst_port", ObservedDataBuilder::Int(dst_port_));
    JsonValue* protocols = b.Add(traffic, "protocols", ObservedDataBuilder::Array());
    if (proto_[0] != '\0') protocols->items.push_back(b.String(proto_));
  }
  return std::move(b).Finish();
}

std::optional<Timestamp> ParseEpochSeconds(std::string_view text) {
  const size_t n = text.size();
  const char* p = text.data();
  if (n == 17 && p[10] == '.' && std::endian::native == std::endian::little) {
    // Zeek's own form, "1521911720.865716": ten digits, a dot, six digits.
    uint64_t a, b;
    std::memcpy(&a, p, 8);       // "15219117"
    std::memcpy(&b, p + 9, 8);   // "0.865716": its first two bytes become "00"
    unsigned d8 = static_cast<unsigned char>(p[8]) - '0', d9 = static_cast<unsigned char>(p[9]) - '0';
    int64_t high = EightDigits(a), frac = EightDigits((b & ~uint64_t(0xffff)) | 0x3030);
    if (high < 0 || frac < 0 || d8 > 9 || d9 > 9) return std::nullopt;  // a non-digit where the form has digits
    return FromUnixSeconds(high * 100 + d8 * 10 + d9, frac * 1'000, 6);  // past 2262-04-11: saturated
  }
  size_t i = 0;
  int64_t sec = 0;
  // At most 12 integer digits (year 33658): no overflow check per digit.
  for (; i < n && i < 13; ++i) {
    unsigned d = static_cast<unsigned char>(p[i]) - '0';
    if (d > 9) break;
    sec = sec * 10 + d;
  }
  if (i == 0 || i > 12) return std::nullopt;
  if (i == n) return FromUnixSeconds(sec, 0, 0);
  if (p[i] != '.') return std::nullopt;
  int64_t frac = 0;
  int digits = 0;
  for (++i; i < n; ++i) {
    unsigned d = static_cast<unsigned char>(p[i]) - '0';
    if (d > 9) return std::nullopt;
    if (digits < 9) {
      frac = frac * 10 + d;
      ++digits;
    }
  }
  static constexpr int64_t kScale[10] = {1'000'000'000, 100'000'000, 10'000'000, 1'000'000, 100'000,
                                         10'000,        1'000,       100,        10,        1};
  return FromUnixSeconds(sec, frac * kScale[digits], static_cast<int8_t>(digits));
}

std::optional<Timestamp> ParseIsoTime(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.f+] then Z | ±HH[:]MM | ±HH
  if (text.size() < 20) return std::nullopt;
  size_t end = 19;
  if (text[end] == '.') {
    ++end;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  }
  int64_t offset_min = 0;
  std::string_view zone = text.substr(end);
  if (zone == "Z" || zone == "z") {
  } else if (!zone.empty() && (zone[0] == '+' || zone[0] == '-')) {
    auto two = [](std::string_view s, size_t at) -> int {
      if (at + 2 > s.size() || s[at] < '0' || s[at] > '9' || s[at + 1] < '0' || s[at + 1] > '9') return -1;
      return (s[at] - '0') * 10 + (s[at + 1] - '0');
    };
    int hh = two(zone, 1);
    int mm = 0;
    if (zone.size() == 3) {
    } else if (zone.size() == 5) {
      mm = two(zone, 3);
    } else if (zone.size() == 6 && zone[3] == ':') {
      mm = two(zone, 4);
    } else {
      return std::nullopt;
    }
    if (hh < 0 || mm < 0 || hh > 23 || mm > 59) return std::nullopt;
    offset_min = (hh * 60 + mm) * (zone[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  char buf[48];
  if (end + 1 > sizeof buf) return std::nullopt;
  std::memcpy(buf, text.data(), end);
  buf[end] = 'Z';
  auto t = ParseTimestamp(std::string_view(buf, end + 1));
  if (!t.ok()) return std::nullopt;
  Timestamp r = *t;
  if (IsSaturated(r)) return r;  // beyond the span: an offset does not bring it back
  if (__builtin_sub_overflow(r.ns, offset_min * 60 * 1'000'000'000, &r.ns)) return offset_min < 0 ? kLatest : kEarliest;
  return r;
}

}  // namespace cordon::events
