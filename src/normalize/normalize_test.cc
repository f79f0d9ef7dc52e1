#include "normalize/normalize.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <cstring>
#include <random>
#include <sstream>
#include <string>

#include "testutil/testutil.h"

namespace cordon::normalize {
namespace {

using ::testing::HasSubstr;

std::string Dom(std::string_view s) {
  auto r = Domain(s);
  return r.ok() ? *r : "ERROR: " + std::string(r.status().message());
}
std::string U(std::string_view s) {
  auto r = Url(s);
  return r.ok() ? *r : "ERROR: " + std::string(r.status().message());
}

TEST(Domain, CaseTrailingDot) {
  EXPECT_EQ(Dom("WWW.Example.COM"), "www.example.com");
  EXPECT_EQ(Dom("example.com."), "example.com");
  EXPECT_EQ(Dom("_dmarc.example.com"), "_dmarc.example.com");
  EXPECT_EQ(Dom("xn--bcher-kva.example"), "xn--bcher-kva.example");
  // Edges of the one-pass ASCII path: a 63-octet label, '-' inside labels, one label.
  EXPECT_EQ(Dom(std::string(63, 'A') + ".Com"), std::string(63, 'a') + ".com");
  EXPECT_EQ(Dom("A-B.c-d.E"), "a-b.c-d.e");
  EXPECT_EQ(Dom("LOCALHOST."), "localhost");
}

TEST(Domain, Idn) {
  EXPECT_EQ(Dom("bücher.example"), "xn--bcher-kva.example");
  EXPECT_EQ(Dom("BÜCHER.example."), "xn--bcher-kva.example");  // TR46 maps case
  // Non-transitional: ß is kept (IDNA2008), not mapped to "ss" as IDNA2003 did.
  EXPECT_EQ(Dom("faß.de"), "xn--fa-hia.de");
  EXPECT_EQ(Dom("例え.テスト"), "xn--r8jz45g.xn--zckzah");
  EXPECT_EQ(Dom("例え。テスト"), "xn--r8jz45g.xn--zckzah");  // ideographic full stop
}

TEST(Domain, Errors) {
  EXPECT_THAT(Dom(""), HasSubstr("empty"));
  EXPECT_THAT(Dom("a..b"), HasSubstr("label 2 is empty"));
  EXPECT_THAT(Dom("example.com.."), HasSubstr("label 3 is empty"));
  EXPECT_THAT(Dom("-bad.example"), HasSubstr("starts or ends with '-'"));
  EXPECT_THAT(Dom("bad-.example"), HasSubstr("label 1 'bad-' starts or ends with '-'"));
  EXPECT_THAT(Dom("example.bad-"), HasSubstr("label 2 'bad-' starts or ends with '-'"));
  EXPECT_THAT(Dom("example.-"), HasSubstr("label 2"));
  EXPECT_THAT(Dom("."), HasSubstr("empty"));
  EXPECT_THAT(Dom(".example"), HasSubstr("label 1 is empty"));
  EXPECT_THAT(Dom("exa\x01mple.com"), HasSubstr("invalid character"));
  EXPECT_THAT(Dom("a b.example"), HasSubstr("label 1 has invalid character ' '"));
  EXPECT_THAT(Dom(std::string(64, 'a') + ".com"), HasSubstr("label 1 is 64 octets"));
  std::string long_name;
  for (int i = 0; i < 51; ++i) long_name += "abcd.";
  long_name += "com";
  EXPECT_THAT(Dom(long_name), HasSubstr("at most 253"));
  EXPECT_EQ(Dom(long_name.substr(5)), long_name.substr(5));  // exactly 253
  EXPECT_THAT(Dom("\xff\xfe.example"), HasSubstr("not a valid internationalised name"));
}

TEST(Domain, IntoReusesBuffer) {
  std::string buf;
  buf.reserve(64);
  const char* data = buf.data();
  ASSERT_TRUE(DomainInto("A.Example.Org.", &buf).ok());
  EXPECT_EQ(buf, "a.example.org");
  EXPECT_EQ(buf.data(), data);
}

TEST(Ip, V4V6Mapped) {
  auto a = Ip("192.0.2.1");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->IsV4());
  auto m = Ip("::ffff:192.0.2.1");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*a, *m);
  auto m2 = Ip("::FFFF:c000:0201");
  ASSERT_TRUE(m2.ok());
  EXPECT_EQ(*a, *m2);
  EXPECT_EQ(FormatIp(*m), "192.0.2.1");
  auto v6 = Ip("2001:DB8:0:0:0:0:0:1");
  ASSERT_TRUE(v6.ok());
  EXPECT_FALSE(v6->IsV4());
  EXPECT_EQ(FormatIp(*v6), "2001:db8::1");
  EXPECT_FALSE(Ip("::1")->IsV4());
}

// Every octet value in every position, in dotted decimal without leading zeros.
TEST(Ip, FormatsEveryIpv4Octet) {
  for (int v = 0; v < 256; ++v) {
    const std::string text =
        std::to_string(v) + "." + std::to_string(255 - v) + "." + std::to_string(v * 7 % 256) + "." + std::to_string(v);
    auto a = Ip(text);
    ASSERT_TRUE(a.ok()) << text;
    EXPECT_EQ(FormatIp(*a), text);
  }
}

TEST(Ip, Errors) {
  EXPECT_THAT(Ip("1.2.3").status().message(), HasSubstr("not a valid IPv4"));
  EXPECT_FALSE(Ip("1.2.3.256").ok());
  EXPECT_FALSE(Ip("01.2.3.4").ok());
  EXPECT_FALSE(Ip("1.2.3.4 ").ok());
  EXPECT_FALSE(Ip("").ok());
  EXPECT_THAT(Ip("fe80::1%eth0").status().message(), HasSubstr("zone id"));
  EXPECT_THAT(Ip("2001:db8:::1").status().message(), HasSubstr("not a valid IPv6"));
}

TEST(Cidr, Forms) {
  auto p = Cidr("10.0.0.0/8");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->length, 104);
  EXPECT_TRUE(p->IsV4());
  EXPECT_EQ(FormatPrefix(*p), "10.0.0.0/8");
  EXPECT_TRUE(p->Contains(*Ip("10.255.1.2")));
  EXPECT_TRUE(p->Contains(*Ip("::ffff:10.1.1.1")));
  EXPECT_FALSE(p->Contains(*Ip("11.0.0.0")));
  EXPECT_EQ(Cidr("1.2.3.4")->length, 128);
  EXPECT_EQ(FormatPrefix(*Cidr("1.2.3.4")), "1.2.3.4/32");
  EXPECT_EQ(Cidr("1.2.3.4/32")->length, 128);
  auto zero = Cidr("0.0.0.0/0");
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->length, 96);
  EXPECT_TRUE(zero->Contains(*Ip("255.255.255.255")));
  EXPECT_FALSE(zero->Contains(*Ip("2001:db8::1")));  // IPv4 /0 is the IPv4 space only
  auto all = Cidr("::/0");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->length, 0);
  EXPECT_TRUE(all->Contains(*Ip("1.2.3.4")));
  EXPECT_EQ(FormatPrefix(*Cidr("2001:db8::/32")), "2001:db8::/32");
  EXPECT_EQ(Cidr("2001:db8::1/128")->length, 128);
  EXPECT_EQ(Cidr("::ffff:10.0.0.0/104")->length, 104);
  EXPECT_EQ(*Cidr("::ffff:10.0.0.0/104"), *Cidr("10.0.0.0/8"));
}

TEST(Cidr, Errors) {
  EXPECT_THAT(Cidr("10.0.0.1/8").status().message(),
              HasSubstr("host bits set beyond /8 (the network is 10.0.0.0/8)"));
  EXPECT_THAT(Cidr("2001:db8::1/32").status().message(), HasSubstr("2001:db8::/32"));
  EXPECT_THAT(Cidr("10.0.0.0/33").status().message(), HasSubstr("0..32"));
  EXPECT_THAT(Cidr("::/129").status().message(), HasSubstr("0..128"));
  EXPECT_FALSE(Cidr("10.0.0.0/").ok());
  EXPECT_FALSE(Cidr("10.0.0.0/08").ok());
  EXPECT_FALSE(Cidr("10.0.0.0/a").ok());
  EXPECT_FALSE(Cidr("/8").ok());
}

TEST(Url, Normalisation) {
  EXPECT_EQ(U("HTTP://WWW.Example.COM"), "http://www.example.com/");
  EXPECT_EQ(U("http://example.com:80/a"), "http://example.com/a");
  EXPECT_EQ(U("https://example.com:443/"), "https://example.com/");
  EXPECT_EQ(U("ftp://example.com:21/x"), "ftp://example.com/x");
  EXPECT_EQ(U("http://example.com:443/"), "http://example.com:443/");
  EXPECT_EQ(U("http://example.com:/"), "http://example.com/");
  EXPECT_EQ(U("http://example.com:8080"), "http://example.com:8080/");
  EXPECT_EQ(U("http://example.com/%7euser/%2fa%2Fb?q=%41%3d"), "http://example.com/~user/%2Fa%2Fb?q=A%3D");
  EXPECT_EQ(U("http://example.com/Path?Q=1#frag"), "http://example.com/Path?Q=1");
  EXPECT_EQ(U("http://example.com?x=1"), "http://example.com/?x=1");
  EXPECT_EQ(U("http://bücher.example/ä"), "http://xn--bcher-kva.example/%C3%A4");
  EXPECT_EQ(U("http://example.com/a b"), "http://example.com/a%20b");
  // A '%' that starts no escape is a literal percent sign: %25, as a client
  // that escapes it writes it, and normalising the result changes nothing.
  EXPECT_EQ(U("http://example.com/100%"), "http://example.com/100%25");
  EXPECT_EQ(U("http://example.com/100%25"), "http://example.com/100%25");
  EXPECT_EQ(U("http://example.com/%%33%zz"), "http://example.com/%253%25zz");
  EXPECT_EQ(U(U("http://example.com/%%33%zz")), U("http://example.com/%%33%zz"));
  EXPECT_EQ(U("http://[2001:DB8::1]:8080/x"), "http://[2001:db8::1]:8080/x");
  EXPECT_EQ(U("http://[2001:db8::1]:80"), "http://[2001:db8::1]/");
  EXPECT_EQ(U("http://User:Pw@Example.com/"), "http://User:Pw@example.com/");
  EXPECT_EQ(U("http://192.0.2.1:80/a.exe"), "http://192.0.2.1/a.exe");
  EXPECT_EQ(U("http://Example.com./"), "http://example.com/");
}

TEST(Url, Errors) {
  EXPECT_THAT(U("example.com/x"), HasSubstr("no scheme"));
  EXPECT_THAT(U("http:example.com"), HasSubstr("'//'"));
  EXPECT_THAT(U("http:///x"), HasSubstr("no host"));
  EXPECT_THAT(U("http://example.com:99999/"), HasSubstr("port"));
  EXPECT_THAT(U("http://[2001:db8::1/"), HasSubstr("not closed"));
  EXPECT_THAT(U("http://[example.com]/"), HasSubstr("not an IPv6"));
  EXPECT_THAT(U("http://exa mple.com/"), HasSubstr("host: domain name"));
}

TEST(Email, Forms) {
  EXPECT_EQ(*Email("John.Doe@Example.COM"), "John.Doe@example.com");
  EXPECT_EQ(*Email("a@bücher.example."), "a@xn--bcher-kva.example");
  EXPECT_THAT(Email("nobody").status().message(), HasSubstr("no '@'"));
  EXPECT_THAT(Email("@example.com").status().message(), HasSubstr("empty local part"));
  EXPECT_THAT(Email("a@").status().message(), HasSubstr("empty"));
}

TEST(Hash, Forms) {
  EXPECT_EQ(*Hash("D41D8CD98F00B204E9800998ECF8427E", HashAlgo::kMd5), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_TRUE(Hash(std::string(40, 'a'), HashAlgo::kSha1).ok());
  EXPECT_TRUE(Hash(std::string(64, 'F'), HashAlgo::kSha256).ok());
  EXPECT_TRUE(Hash(std::string(128, '0'), HashAlgo::kSha512).ok());
  EXPECT_THAT(Hash(std::string(31, 'a'), HashAlgo::kMd5).status().message(), HasSubstr("expected 32"));
  EXPECT_THAT(Hash(std::string(39, 'a') + "g", HashAlgo::kSha1).status().message(),
              HasSubstr("character 40 'g'"));
  EXPECT_EQ(*ParseHashAlgo("SHA-256"), HashAlgo::kSha256);
  EXPECT_EQ(*ParseHashAlgo("sha1"), HashAlgo::kSha1);
  EXPECT_FALSE(ParseHashAlgo("SHA3-256").ok());
}

TEST(Serial, Forms) {
  EXPECT_EQ(*Serial("0A:FF:01"), "0aff01");  // Suricata
  EXPECT_EQ(*Serial("0AFF01"), "0aff01");    // Zeek
  EXPECT_EQ(*Serial("0a ff 01"), "0aff01");
  EXPECT_THAT(Serial("0x1F").status().message(), HasSubstr("character 2 'x'"));
  EXPECT_THAT(Serial(": :").status().message(), HasSubstr("no hex digit"));
}

TEST(AppendHexDigits, AppendsUpToTheFirstOtherCharacter) {
  std::string out = "x";
  EXPECT_EQ(AppendHexDigits("AB:cd 0F", &out), std::string_view::npos);
  EXPECT_EQ(out, "xabcd0f");
  out.clear();
  EXPECT_EQ(AppendHexDigits("ab:g1", &out), 3u);
  EXPECT_EQ(out, "ab");
}

// Every entry of a real blocklist normalises, and the result is stable.
TEST(RealData, UrlhausDomainsNormalise) {
  std::istringstream in(testutil::ReadFile(testutil::SharedData("indicators/urlhaus/urlhaus-filter-domains.txt")));
  std::string line;
  int ok = 0, bad = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line[0] == '!') continue;
    auto d = Domain(line);
    if (!d.ok()) {
      ++bad;
      continue;
    }
    ++ok;
    EXPECT_EQ(*Domain(*d), *d);
  }
  EXPECT_GT(ok, 10000);
  EXPECT_LT(bad, ok / 100);
}

// ParseIpv4 (and so Ip for IPv4) accepts exactly the texts glibc's
// inet_pton(AF_INET) accepts (strict dotted decimal, no leading zeros), with
// the same bytes: edge cases, then 300,000 random strings over digits and
// dots (and a few other bytes), lengths 0-17.
TEST(ParseIpv4, AgreesWithInetPton) {
  auto agree = [](const std::string& s) {
    IpAddress fast;
    bool ok = ParseIpv4(s, &fast);
    uint8_t ref[4];
    bool ref_v4 = inet_pton(AF_INET, s.c_str(), ref) == 1;
    EXPECT_EQ(ok, ref_v4) << "'" << s << "'";
    if (ok && ref_v4) {
      EXPECT_EQ(0, std::memcmp(fast.bytes.data() + 12, ref, 4)) << s;
      EXPECT_EQ(fast.bytes[10], 0xff) << s;
      EXPECT_EQ(fast.bytes[11], 0xff) << s;
      EXPECT_EQ(Ip(s)->bytes, fast.bytes) << s;
    }
    return ok;
  };
  for (const char* s : {"0.0.0.0", "255.255.255.255", "192.168.10.100", "1.2.3.4", "10.0.0.1"})
    EXPECT_TRUE(agree(s)) << s;
  for (const char* s : {"256.1.1.1", "1.2.3.256", "01.2.3.4", "1.2.3.04", "1.2.3", "1.2.3.4.", ".1.2.3.4", "1..2.3",
                        "1.2.3.4.5", "1234.1.1.1", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "1.2.3.4/8", "::1",
                        "::ffff:1.2.3.4", "1.2.3.a", "1.2.3.\xc0", "", "1.2.3.4\n"})
    EXPECT_FALSE(agree(s)) << s;
  std::mt19937 rng(11);
  const std::string alphabet = "0123456789012345678901234567890123456789.....:a \xff";
  size_t accepted = 0;
  for (int i = 0; i < 300000; ++i) {
    std::string s;
    if (i % 3 == 0) {  // mostly well-formed, with the odd 3-digit octet over 255
      for (int part = 0; part < 4; ++part) {
        if (part) s += '.';
        s += std::to_string(rng() % (rng() % 4 == 0 ? 1000 : 256));
      }
    } else {
      size_t len = rng() % 18;
      for (size_t k = 0; k < len; ++k) s += alphabet[rng() % alphabet.size()];
    }
    accepted += agree(s);
  }
  EXPECT_GT(accepted, 30000u);  // much of the well-formed third passes: both sides were exercised
}

}  // namespace
}  // namespace cordon::normalize
