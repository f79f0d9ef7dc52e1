// Canonical forms of indicator values and log keys, so that the matcher can
// compare them byte for byte.
//
// The same functions run on indicator values when an index is built and on
// log fields when a record is decoded; whatever one side normalises, the other
// does identically. Every function is pure and thread-safe. Errors are
// InvalidArgument with a message saying what is wrong and where (which label,
// which character, which part of the URL).
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cordon::normalize {

// An IPv4 or IPv6 address: 16 bytes in network order, IPv4 stored as the
// IPv4-mapped IPv6 address ::ffff:a.b.c.d (so "1.2.3.4" and "::ffff:1.2.3.4"
// are the same address).
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  // Bytes 8..11 of an IPv4-mapped address (00 00 ff ff) read as a native word.
  static constexpr uint32_t kV4MappedMid = std::endian::native == std::endian::little ? 0xffff0000u : 0x0000ffffu;
  // ::ffff:0:0/96. Inline and two word compares: the matcher asks it of every
  // address key (a byte loop out of line was 6.7 % of a TSV run's instructions).
  bool IsV4() const {
    uint64_t head;
    uint32_t mid;
    std::memcpy(&head, bytes.data(), 8);
    std::memcpy(&mid, bytes.data() + 8, 4);
    return head == 0 && mid == kV4MappedMid;
  }
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const IpAddress& a) {
    return H::combine_contiguous(std::move(h), a.bytes.data(), a.bytes.size());
  }
};

// A CIDR block over the 128-bit space: IPv4 /n is stored as length n + 96.
// Invariant (from Cidr): no bit of `addr` beyond `length` is set.
struct IpPrefix {
  IpAddress addr;
  int length = 128;  // 0..128
  bool IsV4() const { return length >= 96 && addr.IsV4(); }
  bool Contains(const IpAddress& a) const;
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

// A domain name: ASCII lowercase, one trailing dot removed, IDN U-labels
// converted to A-labels (punycode; libidn2, IDNA2008 with UTS #46
// non-transitional mapping). Checked: 1..63 octets per label, <= 253 in all,
// letters, digits, '-' (not first or last in a label) and '_' (service labels
// such as _dmarc occur in DNS logs). ASCII input costs one pass and one
// allocation (the result).
Result<std::string> Domain(std::string_view text);
// As Domain, into a caller-owned buffer whose capacity is reused (hot path of
// log decoders). On error `*out` is unspecified.
Status DomainInto(std::string_view text, std::string* out);

// "a.b.c.d" (strict dotted quad: decimal, no leading zeros) or any RFC 4291
// IPv6 text form (incl. "::ffff:a.b.c.d"). No zone ids, no brackets.
Result<IpAddress> Ip(std::string_view text);
// The IPv4 half of Ip() without a Status, for hot paths (log decoders): a
// strict dotted quad (four decimal octets 0-255, no leading zeros) as
// ::ffff:a.b.c.d. False for anything else, IPv6 included.
bool ParseIpv4(std::string_view text, IpAddress* out);

// "addr/len", or a plain address (= /32 or /128). IPv4 lengths are 0..32,
// IPv6 0..128. A block whose address has host bits set beyond the length is an
// error naming the network it probably meant.
Result<IpPrefix> Cidr(std::string_view text);

// Dotted quad for IPv4 (incl. mapped), RFC 5952 text for IPv6.
std::string FormatIp(const IpAddress& a);
// "1.2.3.0/24" (IPv4 length shown as length - 96) or "2001:db8::/32".
std::string FormatPrefix(const IpPrefix& p);

// A URL: scheme and host lowercase, IDN host to punycode, IPv6 host in
// canonical form and kept in brackets, default port removed (http 80,
// https 443, ftp 21; an empty port too), percent-escapes of unreserved
// characters (A-Z a-z 0-9 - . _ ~) decoded and other escapes uppercased,
// bytes that may not appear raw in a URL (controls, space, non-ASCII)
// percent-encoded, empty path = "/", fragment removed. Userinfo, path and
// query keep their case; dot segments are not resolved. Requires
// "scheme://host"; a '%' not followed by two hex digits is kept literally.
Result<std::string> Url(std::string_view text);

// local@domain: the domain part normalised as Domain; the local part is kept
// as written (it is case-sensitive by RFC 5321) but must be non-empty.
Result<std::string> Email(std::string_view text);

enum class HashAlgo : uint8_t { kMd5, kSha1, kSha256, kSha512 };
// "MD5", "SHA-1", "SHA-256", "SHA-512" (also without the dash, any case).
Result<HashAlgo> ParseHashAlgo(std::string_view name);
// Lowercase hex of exactly the algorithm's digest length (32/40/64/128).
Result<std::string> Hash(std::string_view text, HashAlgo algo);
// Appends the hex digits of `text` to `out`, lowercased, dropping the byte
// separators ':' and ' ' ("0A:FF" and "0a ff" give "0aff"). Returns the
// position of the first other character (what came before it is appended),
// or npos. The log decoders write digests and serials with it, and Serial
// normalises indicator values with it, so both sides agree.
size_t AppendHexDigits(std::string_view text, std::string* out);
// An X.509 serial number as AppendHexDigits writes it (Suricata separates
// bytes with ':', Zeek does not). Empty or with a non-hex character: an error.
Result<std::string> Serial(std::string_view text);

}  // namespace cordon::normalize
