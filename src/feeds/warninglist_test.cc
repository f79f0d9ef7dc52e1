#include "feeds/warninglist.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "testutil/testutil.h"

namespace cordon::feeds {
namespace {

using testutil::ReadFile;
using testutil::SharedData;

WarningList Real(const std::string& file) {
  auto wl = ParseWarningList(ReadFile(SharedData("misp/warninglists/" + file)));
  EXPECT_TRUE(wl.ok()) << file << ": " << wl.status();
  return wl.ok() ? *wl : WarningList{};
}

WarningLists RealLists() {
  std::vector<WarningList> all;
  for (const auto& e : std::filesystem::directory_iterator(SharedData("misp/warninglists"))) {
    all.push_back(Real(e.path().filename().string()));
  }
  return WarningLists::Build(std::move(all));
}

std::string HitList(const WarningLists& w, ValueKind k, std::string_view v) {
  auto hit = w.Check(k, v);
  return hit ? hit->list + " | " + hit->entry : "";
}

TEST(WarningListTest, EveryRealListParses) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(SharedData("misp/warninglists"))) {
    auto wl = ParseWarningList(ReadFile(e.path()));
    ASSERT_TRUE(wl.ok()) << e.path() << ": " << wl.status();
    EXPECT_FALSE(wl->entries.empty());
    ++n;
  }
  EXPECT_GE(n, 10);
  WarningList rfc = Real("rfc1918.json");
  EXPECT_EQ(rfc.name, "List of RFC 1918 CIDR blocks");
  EXPECT_EQ(rfc.type, ListType::kCidr);
  EXPECT_EQ(rfc.entries.size(), 3u);
  EXPECT_EQ(rfc.version, 5);
}

TEST(WarningListTest, CidrListsMatchAddressesAndBlocks) {
  WarningLists w = RealLists();
  EXPECT_EQ(HitList(w, ValueKind::kIp, "10.1.2.3"), HitList(w, ValueKind::kIp, "10.200.0.1"));
  EXPECT_NE(HitList(w, ValueKind::kIp, "10.1.2.3"), "");
  EXPECT_EQ(HitList(w, ValueKind::kIp, "8.8.8.8"), "List of known IPv4 public DNS resolvers | 8.8.8.8");
  EXPECT_EQ(HitList(w, ValueKind::kIp, "9.9.9.9"), "List of known IPv4 public DNS resolvers | 9.9.9.9");
  // A block inside a listed block, and a block containing a listed one.
  EXPECT_NE(HitList(w, ValueKind::kCidr, "192.168.10.0/24"), "");
  EXPECT_NE(HitList(w, ValueKind::kCidr, "8.8.8.0/24"), "");
  // Not known-good: a TEST-NET-3 address is in rfc5735 though, so use an ordinary one.
  EXPECT_EQ(HitList(w, ValueKind::kIp, "185.220.101.1"), "");
  // CIDR lists do not apply to domains.
  EXPECT_EQ(HitList(w, ValueKind::kDomain, "10.1.2.3"), "");
}

TEST(WarningListTest, HostnameListsMatchSubdomains) {
  WarningLists w = RealLists();
  // url-shortener is a hostname list: the name and any subdomain hit, a lookalike does not.
  EXPECT_NE(HitList(w, ValueKind::kDomain, "bit.ly"), "");  // also in the Cisco top 10k (string list)
  EXPECT_EQ(HitList(w, ValueKind::kDomain, "x.y.bit.ly"), "List of known URL Shorteners domains | bit.ly");
  EXPECT_EQ(HitList(w, ValueKind::kDomain, "notbit.ly"), "");
  // dynamic-dns entries carry a leading dot (".duckdns.org"-style); a subdomain hits.
  EXPECT_NE(HitList(w, ValueKind::kDomain, "evil.0000004.xyz"), "");
  // URL values: the host is checked against hostname lists.
  EXPECT_EQ(HitList(w, ValueKind::kUrl, "https://go.bit.ly/3xYz"), "List of known URL Shorteners domains | bit.ly");
}

TEST(WarningListTest, StringAndSubstringLists) {
  WarningLists w = RealLists();
  EXPECT_EQ(HitList(w, ValueKind::kDomain, "accounts.google.com"),
            "Top 10 000 websites from Cisco Umbrella | accounts.google.com");
  // tlds.json is uppercase; comparison is case-insensitive (MISP).
  EXPECT_EQ(HitList(w, ValueKind::kDomain, "abbott"), "TLDs as known by IANA | ABBOTT");
  // A string list does not match subdomains.
  EXPECT_EQ(HitList(w, ValueKind::kDomain, "evil.accounts-google.example"), "");
  // automated-malware-analysis is a substring list.
  EXPECT_EQ(HitList(w, ValueKind::kUrl, "https://app.any.run/tasks/abc"),
            "List of known domains used by automated malware analysis services & security vendors | app.any.run");
  EXPECT_EQ(HitList(w, ValueKind::kHash, "d41d8cd98f00b204e9800998ecf8427e"), "");
}

TEST(WarningListTest, RegexListsAndMatchingAttributes) {
  auto wl = ParseWarningList(R"({"name":"internal","type":"regex","list":["/^.*\\.corp\\.example$/i"],
                                 "matching_attributes":["hostname"]})");
  ASSERT_TRUE(wl.ok()) << wl.status();
  WarningLists w = WarningLists::Build({*wl});
  EXPECT_NE(HitList(w, ValueKind::kDomain, "mail.corp.example"), "");
  EXPECT_EQ(HitList(w, ValueKind::kDomain, "corp.example.org"), "");
  EXPECT_EQ(HitList(w, ValueKind::kUrl, "https://mail.corp.example/"), "");  // url not in matching_attributes
}

TEST(WarningListTest, BrokenListsAreRejectedPrecisely) {
  auto e = ParseWarningList(R"({"name":"x","type":"cidr","list":["10.0.0.0/8","10.0.0.0/33"]})");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("\"list\"[1] '10.0.0.0/33'"), std::string::npos) << e.status();
  e = ParseWarningList(R"({"name":"x","type":"cidr","list":["not-an-ip"]})");
  EXPECT_NE(e.status().message().find("\"list\"[0]"), std::string::npos) << e.status();
  e = ParseWarningList(R"({"name":"x","type":"fuzzy","list":[]})");
  EXPECT_NE(e.status().message().find("unknown list type 'fuzzy'"), std::string::npos) << e.status();
  e = ParseWarningList(R"({"type":"string","list":[]})");
  EXPECT_NE(e.status().message().find("\"name\""), std::string::npos) << e.status();
  e = ParseWarningList(R"({"name":"x","type":"string","list":["a", 3]})");
  EXPECT_NE(e.status().message().find("\"list\"[1]: not a string"), std::string::npos) << e.status();
  e = ParseWarningList(R"({"name":"x","type":"regex","list":["(unclosed"]})");
  EXPECT_NE(e.status().message().find("regex does not compile"), std::string::npos) << e.status();
  std::string truncated = ReadFile(SharedData("misp/warninglists/rfc1918.json"));
  truncated.resize(truncated.size() / 2);
  e = ParseWarningList(truncated);
  EXPECT_NE(e.status().message().find("not a JSON document"), std::string::npos) << e.status();
}

TEST(WarningListTest, HostBitsInCidrEntriesAreMasked) {
  auto wl = ParseWarningList(R"({"name":"x","type":"cidr","list":["192.0.2.77/24","2001:db8::1/32"]})");
  ASSERT_TRUE(wl.ok()) << wl.status();
  WarningLists w = WarningLists::Build({*wl});
  EXPECT_NE(HitList(w, ValueKind::kIp, "192.0.2.1"), "");
  EXPECT_NE(HitList(w, ValueKind::kIp, "2001:db8:ffff::1"), "");
  EXPECT_EQ(HitList(w, ValueKind::kIp, "192.0.3.1"), "");
}

TEST(WarningListTest, Ipv6BlocksCoveringMappedIpv4Space) {
  auto wl = ParseWarningList(R"({"name":"all-v4","type":"cidr","list":["::ffff:0:0/96"]})");
  ASSERT_TRUE(wl.ok()) << wl.status();
  WarningLists w = WarningLists::Build({*wl});
  EXPECT_NE(HitList(w, ValueKind::kIp, "198.51.100.7"), "");
  EXPECT_EQ(HitList(w, ValueKind::kIp, "2001:db8::7"), "");
  auto v6 = ParseWarningList(R"({"name":"doc-v6","type":"cidr","list":["2001:db8::/32"]})");
  w = WarningLists::Build({*v6});
  EXPECT_EQ(HitList(w, ValueKind::kIp, "198.51.100.7"), "");
  EXPECT_NE(HitList(w, ValueKind::kCidr, "2001:db8:1::/48"), "");
}

TEST(WarningListTest, StoredListsRoundTrip) {
  testutil::TempDir dir;
  std::string data = dir.path().string();
  auto empty = WarningLists::Load(data);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto added = AddStoredList(data, ReadFile(SharedData("misp/warninglists/rfc1918.json")));
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->slug, "list-of-rfc-1918-cidr-blocks");
  ASSERT_TRUE(AddStoredList(data, ReadFile(SharedData("misp/warninglists/url-shortener.json"))).ok());
  // Adding again replaces, it does not duplicate.
  ASSERT_TRUE(AddStoredList(data, ReadFile(SharedData("misp/warninglists/rfc1918.json"))).ok());
  EXPECT_FALSE(AddStoredList(data, "{\"name\":\"broken\"").ok());
  auto listed = ListStored(data);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  auto loaded = WarningLists::Load(data);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->list_count(), 2u);
  EXPECT_TRUE(loaded->Check(ValueKind::kIp, "172.16.5.4").has_value());
  ASSERT_TRUE(RemoveStored(data, "List of RFC 1918 CIDR blocks").ok());
  EXPECT_EQ(RemoveStored(data, "list-of-rfc-1918-cidr-blocks").code(), absl::StatusCode::kNotFound);
  loaded = WarningLists::Load(data);
  EXPECT_FALSE(loaded->Check(ValueKind::kIp, "172.16.5.4").has_value());
  EXPECT_TRUE(loaded->Check(ValueKind::kDomain, "bit.ly").has_value());
}

}  // namespace
}  // namespace cordon::feeds
