#include "match/atoms.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>

#include "simdjson.h"
#include "base/strings.h"

#include "pattern/pattern.h"
#include "testutil/testutil.h"

namespace cordon::match {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

AtomSet Extract(std::string_view text) {
  auto p = pattern::Parse(text, pattern::Version::k21);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status();
  if (!p.ok()) return {};
  return ExtractAtoms(*p);
}

std::vector<std::string> Debug(const AtomSet& s) {
  std::vector<std::string> out;
  for (const Atom& a : s.atoms) out.push_back(a.DebugString());
  return out;
}

TEST(Atoms, ExactKinds) {
  auto s = Extract("[domain-name:value = 'Evil.Example.COM.']");
  EXPECT_TRUE(s.decides);
  EXPECT_THAT(Debug(s), ElementsAre("domain exact evil.example.com"));
  EXPECT_EQ(s.atoms[0].path, "domain-name:value");
  EXPECT_THAT(Debug(Extract("[ipv4-addr:value = '198.51.100.7']")), ElementsAre("ip exact 198.51.100.7"));
  EXPECT_THAT(Debug(Extract("[ipv6-addr:value = '2001:DB8::1']")), ElementsAre("ip exact 2001:db8::1"));
  EXPECT_THAT(Debug(Extract("[url:value = 'HTTP://Example.com:80/a%7e']")), ElementsAre("url exact http://example.com/a~"));
  EXPECT_THAT(Debug(Extract("[email-addr:value = 'Bob@Example.com']")), ElementsAre("email exact Bob@example.com"));
  s = Extract("[file:hashes.'SHA-256' = 'AEC070645FE53EE3B3763059376134F058CC337247C978ADD178B6CCDFB0019F']");
  EXPECT_THAT(Debug(s), ElementsAre("sha256 exact aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"));
  EXPECT_EQ(s.atoms[0].path, "file:hashes.'SHA-256'");
  EXPECT_THAT(Debug(Extract("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']")),
              ElementsAre("md5 exact d41d8cd98f00b204e9800998ecf8427e"));
  EXPECT_THAT(Debug(Extract("[x509-certificate:hashes.'SHA-1' = '" + std::string(40, 'A') + "']")),
              ElementsAre("x509-sha1 exact " + std::string(40, 'a')));
  // As the decoders write serials: Suricata's "0A:FF" and Zeek's "0AFF" are one key.
  EXPECT_THAT(Debug(Extract("[x509-certificate:serial_number = '0A:FF']")), ElementsAre("x509-serial exact 0aff"));
  EXPECT_THAT(Debug(Extract("[network-traffic:dst_port = 4444]")), ElementsAre("port exact 4444"));
  EXPECT_THAT(Debug(Extract("[network-traffic:dst_ref.value = '10.1.2.3']")), ElementsAre("ip exact 10.1.2.3"));
  EXPECT_THAT(Debug(Extract("[x-ja3:value = '" + std::string(32, 'B') + "']")),
              ElementsAre("ja3 exact " + std::string(32, 'b')));
  EXPECT_THAT(Debug(Extract("[network-traffic:extensions.'x-tls'.ja3s = '" + std::string(32, 'c') + "']")),
              ElementsAre("ja3s exact " + std::string(32, 'c')));
}

TEST(Atoms, UrlWithoutScheme) {
  // As feeds often write them: the http:// and https:// forms.
  auto s = Extract("[url:value = 'Evil.Example.com/gate.php']");
  EXPECT_TRUE(s.decides);
  EXPECT_THAT(Debug(s), ElementsAre("url exact http://evil.example.com/gate.php",
                                    "url exact https://evil.example.com/gate.php"));
  EXPECT_THAT(Debug(Extract("[url:value IN ('a.example/x', 'ftp://b.example/y')]")),
              ElementsAre("url exact http://a.example/x", "url exact https://a.example/x", "url exact ftp://b.example/y"));
}

TEST(Atoms, InAndOr) {
  auto s = Extract("[domain-name:value IN ('a.example', 'b.example') OR ipv4-addr:value = '192.0.2.1']");
  EXPECT_TRUE(s.decides);
  EXPECT_THAT(Debug(s), ElementsAre("domain exact a.example", "domain exact b.example", "ip exact 192.0.2.1"));
  s = Extract("[domain-name:value = 'a.example'] OR [url:value = 'http://b.example/x']");
  EXPECT_TRUE(s.decides);
  EXPECT_EQ(s.atoms.size(), 2u);
}

TEST(Atoms, SuffixCidrRegex) {
  auto s = Extract("[domain-name:value LIKE '%.Example.com']");
  EXPECT_TRUE(s.decides);
  EXPECT_THAT(Debug(s), ElementsAre("domain suffix example.com"));
  s = Extract("[domain-name:value LIKE 'example.com']");  // no wildcard: equality
  EXPECT_THAT(Debug(s), ElementsAre("domain exact example.com"));
  s = Extract("[domain-name:value LIKE '%example.com']");  // also badexample.com: not a suffix atom
  EXPECT_TRUE(s.decides);
  EXPECT_THAT(Debug(s), ElementsAre("domain regex (?s)^.*example\\.com$"));
  s = Extract("[domain-name:value LIKE 'ex_mple.%']");
  EXPECT_THAT(Debug(s), ElementsAre("domain regex (?s)^ex.mple\\..*$"));
  s = Extract("[domain-name:value MATCHES 'EVIL[0-9]+']");
  EXPECT_FALSE(s.decides);  // upper case against lowercase keys: caseless candidate
  EXPECT_THAT(Debug(s), ElementsAre("domain regex/i EVIL[0-9]+"));
  s = Extract("[url:value MATCHES '^https?://[^/]+/gate\\\\.php']");
  EXPECT_TRUE(s.decides);
  EXPECT_THAT(Debug(s), ElementsAre("url regex ^https?://[^/]+/gate\\.php"));
  s = Extract("[ipv4-addr:value ISSUBSET '10.0.0.0/8']");
  EXPECT_TRUE(s.decides);
  EXPECT_THAT(Debug(s), ElementsAre("ip cidr 10.0.0.0/8"));
  EXPECT_THAT(Debug(Extract("[ipv4-addr:value = '10.0.0.0/8']")), ElementsAre("ip cidr 10.0.0.0/8"));
  EXPECT_THAT(Debug(Extract("[ipv6-addr:value ISSUBSET '2001:db8::/32']")), ElementsAre("ip cidr 2001:db8::/32"));
  EXPECT_THAT(Debug(Extract("[ipv4-addr:value ISSUBSET '1.2.3.4/32']")), ElementsAre("ip cidr 1.2.3.4/32"));
}

TEST(Atoms, CandidatesOnly) {
  // AND: one operand is a necessary condition, the rest is evaluated.
  auto s = Extract("[file:name = 'a.exe' AND file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']");
  EXPECT_FALSE(s.decides);
  EXPECT_THAT(Debug(s), ElementsAre("md5 exact d41d8cd98f00b204e9800998ecf8427e"));
  s = Extract("[domain-name:value = 'a.example' AND domain-name:value LIKE '%.example']");
  EXPECT_FALSE(s.decides);
  EXPECT_THAT(Debug(s), ElementsAre("domain exact a.example"));  // the cheaper operand
  s = Extract("[domain-name:value = 'a.example'] REPEATS 2 TIMES");
  EXPECT_FALSE(s.decides);
  EXPECT_EQ(s.atoms.size(), 1u);
  s = Extract("[ipv4-addr:value = '192.0.2.1'] FOLLOWEDBY [file:name = 'x']");
  EXPECT_FALSE(s.decides);
  EXPECT_THAT(Debug(s), ElementsAre("ip exact 192.0.2.1"));
  s = Extract("([domain-name:value = 'a.example'] OR [url:value = 'http://a.example/']) WITHIN 10 SECONDS");
  EXPECT_FALSE(s.decides);
  EXPECT_EQ(s.atoms.size(), 2u);
}

TEST(Atoms, NoUsableAtom) {
  EXPECT_THAT(Extract("[file:name = 'a.exe']").atoms, IsEmpty());
  EXPECT_THAT(Extract("[domain-name:value != 'a.example']").atoms, IsEmpty());
  EXPECT_THAT(Extract("[domain-name:value NOT = 'a.example']").atoms, IsEmpty());
  // OR with an operand the index cannot see: no necessary condition.
  EXPECT_THAT(Extract("[domain-name:value = 'a.example' OR file:name = 'x']").atoms, IsEmpty());
  EXPECT_THAT(Extract("[domain-name:value = 'a.example'] OR [process:pid = 4]").atoms, IsEmpty());
  EXPECT_THAT(Extract("[network-traffic:dst_port > 1000]").atoms, IsEmpty());
  for (const char* text : {"[domain-name:value != 'not a domain']", "[network-traffic:dst_port != '443']",
                           "[domain-name:value = 'a.example' OR file:name = 'x']", "[file:name = 'a b']"})
    EXPECT_EQ(Extract(text).never, "") << text;
}

// Decoded events carry only normalised values, so a string that does not
// normalise can equal none of them: such a comparison gives no atom, and a
// pattern that needs it is `never` (not evaluated against every event).
TEST(Atoms, ValuesNoEventCarriesNeverMatch) {
  // A DNS-SD instance name of the shared wrccdc DNS log, and a URL logged as a query.
  auto s = Extract("[domain-name:value = 'nougat [28:d2:44:0f:4c:e9]._workstation._tcp.local']");
  EXPECT_THAT(s.atoms, IsEmpty());
  EXPECT_TRUE(s.decides);
  EXPECT_EQ(s.never,
            "domain-name:value 'nougat [28:d2:44:0f:4c:e9]._workstation._tcp.local' is not a valid domain name");
  EXPECT_EQ(Extract("[domain-name:value = 'http://172.16.0.58']").never,
            "domain-name:value 'http://172.16.0.58' is not a valid domain name");
  EXPECT_EQ(Extract("[file:hashes.MD5 = 'xyz']").never, "file:hashes.MD5 'xyz' is not a valid hex digest of its algorithm");
  EXPECT_EQ(Extract("[ipv4-addr:value = '10.0.0.1/8']").never,
            "ipv4-addr:value '10.0.0.1/8' is not a valid IP address or CIDR block");
  EXPECT_EQ(Extract("[x509-certificate:serial_number = '0x1F']").never,
            "x509-certificate:serial_number '0x1F' is not a hex serial number");
  EXPECT_NE(Extract("[domain-name:value LIKE 'no such.name']").never, "");
  // A set of mixed types is left to pattern::Evaluate, which refuses it.
  EXPECT_THAT(Extract("[network-traffic:dst_port IN ('8080', 8081)]").atoms, IsEmpty());
  EXPECT_EQ(Extract("[network-traffic:dst_port IN ('8080', 8081)]").never, "");
  EXPECT_NE(Extract("[network-traffic:dst_port IN ('8080', '8081')]").never, "");
  // An integer property compared with a string (pattern::Evaluate: unequal).
  EXPECT_EQ(Extract("[network-traffic:dst_port = '8080' AND network-traffic:protocols[*] = 'tcp']").never,
            "network-traffic:dst_port '8080' is a string, and ports are integers");
  EXPECT_EQ(Extract("[url:value = 'hxxp://evil[.]example/a']").never,
            "url:value 'hxxp://evil[.]example/a' is not a valid URL");
  // AND: one operand no event satisfies makes the whole never true.
  s = Extract("[domain-name:value = 'a b.example' AND ipv4-addr:value = '192.0.2.1']");
  EXPECT_THAT(s.atoms, IsEmpty());
  EXPECT_NE(s.never, "");
  EXPECT_NE(Extract("[domain-name:value = 'a b.example'] FOLLOWEDBY [ipv4-addr:value = '192.0.2.1']").never, "");
  // IN and OR: such a member adds nothing; the others still decide.
  s = Extract("[domain-name:value IN ('a b.example', 'good.example')]");
  EXPECT_THAT(Debug(s), ElementsAre("domain exact good.example"));
  EXPECT_TRUE(s.decides);
  EXPECT_EQ(s.never, "");
  s = Extract("[domain-name:value = 'a b.example'] OR [ipv4-addr:value = '192.0.2.1']");
  EXPECT_THAT(Debug(s), ElementsAre("ip exact 192.0.2.1"));
  EXPECT_TRUE(s.decides);
  EXPECT_EQ(s.never, "");
  // Negated, the same comparison is true of every name: no atom, evaluated.
  EXPECT_EQ(Extract("[domain-name:value != 'a b.example']").never, "");
}

TEST(Atoms, ObservedFieldsNeeded) {
  auto fields = [](std::string_view text) {
    auto p = pattern::Parse(text, pattern::Version::k21);
    EXPECT_TRUE(p.ok()) << text << ": " << p.status();
    return p.ok() ? ObservedFieldsNeeded(*p) : 0;
  };
  const uint64_t hashes = Bit(ObservedField::kFileHashes), dport = Bit(ObservedField::kTrafficDstPort),
                 src = Bit(ObservedField::kTrafficSrcRef), other = Bit(ObservedField::kOther),
                 v4 = Bit(ObservedField::kIpv4AddrValue);
  EXPECT_EQ(fields("[file:name = 'a.exe']"), other);  // logs give files their hashes only
  EXPECT_EQ(fields("[file:name != 'a.exe']"), other);  // negated: still about file names
  EXPECT_EQ(fields("[file:hashes.MD5 != 'd41d8cd98f00b204e9800998ecf8427e']"), hashes);
  EXPECT_EQ(fields("[process:command_line = 'vssadmin delete shadows']"), other);
  EXPECT_EQ(fields("[network-traffic:src_ref.value = '10.0.0.1']"), src);  // the path's first property
  EXPECT_EQ(fields("[domain-name:resolves_to_refs[*].value = '10.0.0.1']"), other);
  EXPECT_EQ(fields("[file:hashes.MD5 = 'a' OR network-traffic:dst_port = 1]"), hashes | dport);
  EXPECT_EQ(fields("[file:hashes.MD5 = 'a'] OR [ipv4-addr:value = '10.0.0.1']"), hashes | v4);
  // AND / FOLLOWEDBY: one operand's fields suffice as a necessary condition.
  uint64_t f = fields("[file:hashes.MD5 = 'a' AND process:name = 'b']");
  EXPECT_TRUE(f == hashes || f == other) << f;
  f = fields("[file:hashes.MD5 = 'a' OR network-traffic:dst_port = 1] FOLLOWEDBY [process:name = 'b'] WITHIN 5 SECONDS");
  EXPECT_EQ(f, other);  // the operand with fewer fields
}

// Every real-world pattern parses into atoms or is counted as evaluate-only,
// and the common single-value indicators are decided by the index.
TEST(Atoms, RealWorldPatterns) {
  std::string text = testutil::ReadFile(testutil::SharedData("patterns/unit42-real-world-patterns.jsonl.zst"));
  simdjson::ondemand::parser parser;
  int decided = 0, candidates = 0, none = 0, never = 0;
  std::vector<std::string> never_examples;
  for (std::string_view line : Split(text, '\n', EmptyParts::kSkip)) {
    simdjson::padded_string padded(line);
    auto doc = parser.iterate(padded);
    std::string_view pat;
    ASSERT_EQ(doc["pattern"].get_string().get(pat), simdjson::SUCCESS) << line;
    std::string unescaped(pat);
    auto p = pattern::Parse(unescaped, pattern::Version::k21);
    if (!p.ok()) continue;
    AtomSet s = ExtractAtoms(*p);
    if (!s.never.empty()) {
      ++never;
      if (never_examples.size() < 5) never_examples.push_back(s.never);
    } else if (s.atoms.empty()) ++none;
    else if (s.decides) ++decided;
    else ++candidates;
  }
  std::cout << "decided " << decided << " candidates " << candidates << " evaluate-only " << none << " never "
            << never << "\n";
  for (const std::string& e : never_examples) std::cout << "  never: " << e << "\n";
  EXPECT_GT(decided, 5000);
  EXPECT_LT(none, decided / 5);
  // Only junk never matches (a defanged "hxxp://", a trailing space), not the
  // ~300 URLs written without a scheme.
  EXPECT_LT(never, 10);
}

}  // namespace
}  // namespace cordon::match
