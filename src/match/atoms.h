// Index atoms: the lookups that stand for a STIX pattern in the matcher's
// index (and the entries an exporter writes for it).
//
// ExtractAtoms reduces a parsed pattern to a set of atoms with this contract
// (the necessary-condition rule): if the pattern can match an observation, at
// least one of its atoms matches a key of that observation. When
// AtomSet::decides is true the converse holds too: any atom hit IS a match,
// so the matcher (or a DNS RPZ / Suricata exporter) need not evaluate the
// pattern. That is the case for one observation, without qualifiers, whose
// comparison expression is a test or an OR of tests that all became atoms.
// Otherwise the atoms are candidates: a hit must be confirmed by
// pattern::Evaluate on the event's observed data.
//
// Mapping of comparisons (not negated; anything else yields no atom):
//   path                                   = / IN          LIKE                MATCHES   ISSUBSET
//   domain-name:value                      exact           suffix | regex      regex     -
//   ipv4-addr:value, ipv6-addr:value,
//   network-traffic:(src|dst)_ref.value    exact | cidr    -                   -         cidr
//   url:value, email-addr:value            exact           regex               regex     -
//   file:hashes.MD5/SHA-1/SHA-256/SHA-512  exact           -                   -         -
//   x509-certificate:hashes.'SHA-1'        exact           -                   -         -
//   x509-certificate:serial_number         exact           -                   -         -
//   network-traffic:(src|dst)_port         exact (int)     -                   -         -
//   x-ja3:value, x-ja3s:value, any path
//   ending in .ja3 / .ja3s                 exact           -                   -         -
// Values are normalised as log keys are (src/normalize). A string compared
// with = / IN that does not normalise (a "domain name" with a space, a hash of
// the wrong length) can equal no observed value, since decoded events carry
// only normalised values: it gives no atom, and a pattern that cannot match
// without it is marked `never` (so it costs nothing per event). Any other
// value that does not normalise makes its comparison unusable (no atom). Deliberate extensions of
// STIX string semantics, as every CERT tool does: an IP value that is a CIDR
// block ('= 10.0.0.0/8') matches the addresses inside it, and domain/URL/e-mail
// values compare in their normalised form (so case-insensitively for hosts;
// a LIKE value on domains and digests too: 'WWW.%' is www.*),
// and a URL value without a scheme ('example.com/a.exe', common in feeds)
// stands for its http:// and https:// forms.
// LIKE '%.example.com' is a domain-suffix atom: it matches every strict
// subdomain of example.com, not example.com itself nor badexample.com.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "match/event.h"
#include "normalize/normalize.h"
#include "pattern/ast.h"

namespace cordon::match {

enum class AtomKind : uint8_t {
  kExact,         // key == value (kIp: prefix of length 128; kPort: number)
  kDomainSuffix,  // kDomain key is a strict subdomain of value
  kCidr,          // kIp key inside prefix
  kRegex,         // value is a Hyperscan expression (PCRE syntax) run on the key text
};

std::string_view AtomKindName(AtomKind k);  // "exact", "suffix", "cidr", "regex"

struct Atom {
  KeyType key = KeyType::kDomain;
  AtomKind kind = AtomKind::kExact;
  std::string value;           // normalised text (exact, suffix); expression (regex)
  normalize::IpPrefix prefix;  // kIp (exact: length 128)
  uint32_t number = 0;         // kPort
  bool caseless = false;       // kRegex: match ignoring ASCII case
  // kRegex from LIKE: the literal bytes every match ends with (what follows
  // the last % or _ of the LIKE value); empty when not known (MATCHES).
  std::string literal_tail;
  // The STIX object path as written, e.g. "domain-name:value", for reports.
  std::string path;

  // e.g. "domain suffix example.com", "ip cidr 10.0.0.0/8", "url regex ^http://a/.*$".
  std::string DebugString() const;
};

struct AtomSet {
  std::vector<Atom> atoms;  // empty: no usable atom (the pattern must always be evaluated), unless `never`
  bool decides = false;     // see the header comment
  // Some atom stands for a network-traffic src_ref/dst_ref/src_port/dst_port
  // comparison. A key carries its value, not the side of the connection it
  // was on, so for the matcher such a hit is a candidate that pattern
  // evaluation confirms (a dst_ref indicator must not match the source, nor
  // an address seen in a DNS answer). Exporters ignore it: an enforcement
  // point blocks the value whichever side it is on.
  bool directional = false;
  // Non-empty: no decoded event can match the pattern (atoms empty), and why,
  // e.g. "domain-name:value 'a b.example' is not a valid domain name".
  std::string never;
};

// Extracts the atoms of `pattern` (which Parse accepted). Never fails: a
// pattern without usable atoms yields an empty set.
AtomSet ExtractAtoms(const pattern::Pattern& pattern);

// Rewrites the string constants that `=`, `!=` and IN compare with a path the
// index knows (domain, URL, e-mail, hashes, certificate serial, IP address)
// into the normalised form events carry, as the atoms are: so that a pattern
// the matcher confirms by evaluation ('WWW.EVIL.EXAMPLE' AND ..., a qualifier,
// an upper-case hash) matches the same values as one the index decides. An IP
// value with a full-length prefix ('198.51.100.7/32') becomes the address; a
// positive = / IN with a shorter block or a URL without a scheme becomes an
// OR of ISSUBSET / = tests (the index's reading). A
// LIKE constant on a path with lowercase values (domains, digests, serials)
// is lowercased, as its atom is. A constant that does not normalise is left
// as written.
void NormaliseConstants(pattern::Pattern& pattern);

// The observed fields the pattern needs, as ObservedFieldBit bits of (SCO
// type, first property of each path): it can match only observed data holding
// one of them (a comparison, negated or not, is false without an object of its
// type that has the property). AND takes one operand's (the fewest), OR the
// union. For the matcher's evaluate-only patterns: a process or registry
// pattern, or one on a file's name, is never evaluated on a network record.
uint64_t ObservedFieldsNeeded(const pattern::Pattern& pattern);

// Fast path for the commonest indicator form, `[type:path = 'value']` (single
// spaces, a value without escapes): the same atoms as Parse + ExtractAtoms
// without building a syntax tree. nullopt for anything else, including a
// value that does not normalise: then take the full path.
std::optional<AtomSet> ExtractSimpleAtoms(std::string_view pattern_text);

// SQL LIKE (% any run, _ one character; no escape, as STIX) as an anchored
// PCRE expression matching UTF-8 text.
std::string LikeToRegex(std::string_view like);

}  // namespace cordon::match
