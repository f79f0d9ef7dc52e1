#include "feeds/parsers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "feeds/misp.h"
#include "testutil/testutil.h"

namespace cordon::feeds {
namespace {

using ::testing::HasSubstr;
using testutil::ReadFile;
using testutil::SharedData;

TEST(IndicatorTest, PatternsFromValues) {
  EXPECT_EQ(FromKind(ValueKind::kDomain, "WWW.Example.COM.")->pattern, "[domain-name:value = 'www.example.com']");
  EXPECT_EQ(FromKind(ValueKind::kDomain, "bücher.example")->pattern, "[domain-name:value = 'xn--bcher-kva.example']");
  EXPECT_EQ(FromKind(ValueKind::kIp, "2001:DB8::1")->pattern, "[ipv6-addr:value = '2001:db8::1']");
  EXPECT_EQ(FromKind(ValueKind::kCidr, "192.0.2.0/24")->pattern, "[ipv4-addr:value = '192.0.2.0/24']");
  EXPECT_EQ(FromKind(ValueKind::kCidr, "192.0.2.1/32")->pattern, "[ipv4-addr:value = '192.0.2.1']");
  EXPECT_EQ(FromKind(ValueKind::kHash, std::string(64, 'A'))->pattern,
            "[file:hashes.'SHA-256' = '" + std::string(64, 'a') + "']");
  EXPECT_EQ(FromTyped("url", "HTTP://Evil.Example:80/a'b")->pattern, "[url:value = 'http://evil.example/a\\'b']");
  EXPECT_EQ(FromTyped("ip-dst|port", "192.0.2.7|8443")->pattern,
            "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '192.0.2.7' AND "
            "network-traffic:dst_port = 8443]");
  EXPECT_EQ(FromTyped("domain|ip", "evil.example|192.0.2.7")->pattern,
            "[domain-name:value = 'evil.example' AND domain-name:resolves_to_refs[*].value = '192.0.2.7']");
  EXPECT_EQ(FromTyped("filename|md5", "a.exe|D41D8CD98F00B204E9800998ECF8427E")->pattern,
            "[file:name = 'a.exe' AND file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']");
  EXPECT_EQ(FromTyped("email-src", "Bad@Evil.Example")->pattern, "[email-message:from_ref.value = 'Bad@evil.example']");
  EXPECT_EQ(FromTyped("regkey|value", "x").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(FromTyped("ip-dst", "10.0.0.1/8").status().message()), HasSubstr("host bits"));
  EXPECT_THAT(std::string(FromTyped("sha1", "abc").status().message()), HasSubstr("40"));
  EXPECT_THAT(std::string(FromTyped("ip-dst|port", "192.0.2.7|99999").status().message()), HasSubstr("port"));
}

TEST(IndicatorTest, DetectKind) {
  EXPECT_EQ(DetectKind("https://a.example/x"), ValueKind::kUrl);
  EXPECT_EQ(DetectKind("d41d8cd98f00b204e9800998ecf8427e"), ValueKind::kHash);
  EXPECT_EQ(DetectKind("10.0.0.0/8"), ValueKind::kCidr);
  EXPECT_EQ(DetectKind("2001:db8::1"), ValueKind::kIp);
  EXPECT_EQ(DetectKind("1.2.3.4"), ValueKind::kIp);
  EXPECT_EQ(DetectKind("1.2.3.999"), ValueKind::kIp);  // a bad address, reported as one
  EXPECT_EQ(DetectKind("a@b.example"), ValueKind::kEmail);
  EXPECT_EQ(DetectKind("deadbeef.example"), ValueKind::kDomain);
}

TEST(ParsersTest, PlainListWithCommentsAndBadLines) {
  Parsed p = ParsePlain("# header\nevil.example\n\n  1.2.3.4  # inline\n10.0.0.1/8\nhttp://x.example/#frag\nbad..name\n");
  ASSERT_EQ(p.items.size(), 3u);
  EXPECT_EQ(p.items[0].where, "line 2");
  EXPECT_EQ(p.items[1].value, "1.2.3.4");
  EXPECT_EQ(p.items[2].value, "http://x.example/");
  ASSERT_EQ(p.rejected.size(), 2u);
  EXPECT_EQ(p.rejected[0].where, "line 5");
  EXPECT_THAT(p.rejected[0].reason, HasSubstr("host bits"));
  EXPECT_EQ(p.rejected[1].where, "line 7");
  Parsed hosts = ParsePlain("0.0.0.0 evil.example\n192.0.2.1\t7\n");
  ASSERT_EQ(hosts.rejected.size(), 1u);
  EXPECT_EQ(hosts.rejected[0].reason, "a hosts-file line (use --format hosts)");
  ASSERT_EQ(hosts.items.size(), 1u);
  EXPECT_EQ(hosts.items[0].value, "192.0.2.1");
}

TEST(ParsersTest, RealBlocklistAndIpsum) {
  Parsed p = ParsePlain(ReadFile(SharedData("indicators/urlhaus/urlhaus-filter-domains.txt")));
  EXPECT_GT(p.items.size(), 1000u);
  EXPECT_LT(p.rejected.size(), p.items.size() / 100) << (p.rejected.empty() ? "" : p.rejected[0].reason);
  // blocklistproject ships hosts files: as a plain list every line is rejected with a hint.
  Parsed hosts = ParsePlain(ReadFile(SharedData("indicators/blocklistproject/ransomware.txt")));
  EXPECT_TRUE(hosts.items.empty());
  ASSERT_GT(hosts.rejected.size(), 1000u);
  EXPECT_EQ(hosts.rejected[0].reason, "a hosts-file line (use --format hosts)");
  Parsed as_hosts = ParseHosts(ReadFile(SharedData("indicators/blocklistproject/ransomware.txt")));
  EXPECT_EQ(as_hosts.items.size(), hosts.rejected.size());
  Parsed ipsum = ParsePlain(ReadFile(SharedData("indicators/ipsum/ipsum.txt.zst")));
  EXPECT_GT(ipsum.items.size(), 10000u);
  EXPECT_TRUE(ipsum.rejected.empty());
  EXPECT_EQ(ipsum.items[0].checks[0].kind, ValueKind::kIp);
}

TEST(ParsersTest, RealHostsFileAndNetsets) {
  Parsed h = ParseHosts(ReadFile(SharedData("indicators/urlhaus/urlhaus-filter-hosts.txt")));
  EXPECT_GT(h.items.size(), 1000u);
  EXPECT_TRUE(h.rejected.empty()) << h.rejected[0].where << ": " << h.rejected[0].reason;
  Parsed local = ParseHosts("127.0.0.1 localhost\n0.0.0.0 a.example b.example\nnot-an-ip x.example\n0.0.0.0 0.0.0.0\n");
  EXPECT_EQ(local.items.size(), 2u);
  EXPECT_EQ(local.skipped.size(), 2u);
  ASSERT_EQ(local.rejected.size(), 1u);
  EXPECT_EQ(local.rejected[0].where, "line 3");
  for (const char* f : {"firehol_level1.netset", "spamhaus_drop.netset", "feodo.ipset", "firehol_level4.netset.zst"}) {
    Parsed n = ParseNetset(ReadFile(SharedData(std::string("indicators/firehol/") + f)));
    EXPECT_GE(n.items.size(), 1u) << f;
    EXPECT_TRUE(n.rejected.empty()) << f << ": " << n.rejected[0].where << " " << n.rejected[0].reason;
  }
  Parsed bad = ParseNetset("1.2.3.0/24\n1.2.3.4/24\n300.1.1.1\nevil.example\n");
  EXPECT_EQ(bad.items.size(), 1u);
  ASSERT_EQ(bad.rejected.size(), 3u);
  EXPECT_THAT(bad.rejected[0].reason, HasSubstr("host bits"));
  EXPECT_EQ(bad.rejected[2].reason, "not an address or CIDR block");
}

TEST(ParsersTest, CsvByNumberAndByHeaderName) {
  auto p = ParseCsv("# c\n\"evil.example\",domain,2026-01-02T00:00:00Z,\"a;b\"\n192.0.2.1,ip-dst,,\n"
                    "x,md5,,\n",
                    {.columns = "value=1,type=2,first_seen=3,labels=4"});
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->items.size(), 2u);
  EXPECT_EQ(p->items[0].labels, (std::vector<std::string>{"a", "b"}));
  ASSERT_TRUE(p->items[0].first_seen.has_value());
  ASSERT_EQ(p->rejected.size(), 1u);
  EXPECT_EQ(p->rejected[0].where, "line 4");
  // The real urlhaus Splunk lookup, by header name.
  auto real = ParseCsv(ReadFile(SharedData("indicators/urlhaus/urlhaus-filter-splunk-online.csv")),
                       {.columns = "value=host,description=message"});
  ASSERT_TRUE(real.ok()) << real.status();
  EXPECT_GT(real->items.size(), 1000u);
  EXPECT_EQ(real->items[0].description, "urlhaus-filter malicious website detected");
}

// RFC 4180 quoting, as the description column shows it: delimiters and
// doubled quotes inside quotes, a quote inside an unquoted field kept as is,
// spaces before an opening quote, CR dropped outside quotes and kept inside.
TEST(ParsersTest, CsvQuotingRules) {
  auto p = ParseCsv("a.example,\"one, two\"\n"
                    "b.example,\"say \"\"hi\"\"\"\n"
                    "c.example,six\"inch\n"
                    "d.example,  \"quoted\"\r\n"
                    "e.example,\"line\rbreak\"\n"
                    "f.example,\n",
                    {.columns = "value=1,description=2"});
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->items.size(), 6u);
  EXPECT_EQ(p->items[0].description, "one, two");
  EXPECT_EQ(p->items[1].description, "say \"hi\"");
  EXPECT_EQ(p->items[2].description, "six\"inch");
  EXPECT_EQ(p->items[3].description, "quoted");
  EXPECT_EQ(p->items[4].description, "line\rbreak");
  EXPECT_EQ(p->items[5].description, "");
}

TEST(ParsersTest, CsvStructuralErrorsFailTheWholeFile) {
  auto p = ParseCsv("a,b\nc\n", {.columns = "value=1,type=2"});
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("line 2: 1 fields, but column 2 (type) is mapped"));
  p = ParseCsv("host,path\nx,y\n", {.columns = "value=url"});
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("line 1: the header has no column 'url'"));
  p = ParseCsv("x\n", {.columns = "type=1"});
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("value column is required"));
  p = ParseCsv("x\n", {.columns = "value=0"});
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("start at 1"));
  p = ParseCsv("x\n", {.columns = "colour=1"});
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("unknown field 'colour'"));
}

TEST(MispTest, RealEventsInEveryShape) {
  int events = 0, items = 0;
  for (const char* f : {"misp/events/pymisp/long_event.json", "misp/events/pymisp/existing_event.json",
                        "misp/events/eset/sshdoor/misp-events/endor.json",
                        "misp/events/eset/turla/misp-turla-crutch-event.json",
                        "misp/events/eset/badiis/misp-badiis.json.zst"}) {
    auto p = ParseMispEvents(ReadFile(SharedData(f)), {});
    ASSERT_TRUE(p.ok()) << f << ": " << p.status();
    items += p->items.size() + p->skipped.size() + p->rejected.size();
    ++events;
  }
  EXPECT_GT(items, 500);
}

TEST(MispTest, ToIdsDistributionTagsAndRejections) {
  // long_event.json: tlp:white on the event, attributes with to_ids true and false.
  auto p = ParseMispEvents(ReadFile(SharedData("misp/events/pymisp/HTML_event.json")), {});
  ASSERT_TRUE(p.ok()) << p.status();
  for (const auto& s : p->skipped) EXPECT_EQ(s.reason, "to_ids is false");
  std::string event = R"({"Event":{"uuid":"e1","distribution":"3","Tag":[{"name":"tlp:amber"},{"name":"apt"}],
    "Attribute":[
      {"uuid":"a1","type":"domain","value":"Evil.Example","to_ids":true,"distribution":"5",
       "Tag":[{"name":"tlp:red"}],"comment":"c2"},
      {"uuid":"a2","type":"ip-dst","value":"192.0.2.1","to_ids":"1","distribution":"0"},
      {"uuid":"a3","type":"text","value":"note","to_ids":false},
      {"uuid":"a4","type":"weird-type","value":"x","to_ids":true},
      {"uuid":"a5","type":"ip-src","value":"300.0.0.1","to_ids":true}],
    "Object":[{"name":"file","Attribute":[{"uuid":"o1","type":"sha256","to_ids":true,
      "value":"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"}]}]}})";
  p = ParseMispEvents(event, {});
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->items.size(), 2u);
  EXPECT_EQ(p->items[0].value, "evil.example");
  EXPECT_EQ(p->items[0].tlp, stix::Tlp::kRed);
  EXPECT_EQ(p->items[0].labels, std::vector<std::string>{"apt"});
  EXPECT_EQ(p->items[0].description, "c2");
  EXPECT_EQ(p->items[0].where, "event e1 attribute a1");
  EXPECT_EQ(p->items[1].tlp, stix::Tlp::kAmber);
  ASSERT_EQ(p->skipped.size(), 2u);
  EXPECT_EQ(p->skipped[0].reason, "distribution 0 (your organisation only)");
  ASSERT_EQ(p->rejected.size(), 2u);
  EXPECT_EQ(p->rejected[0].where, "event e1 attribute a4");
  EXPECT_THAT(p->rejected[0].reason, HasSubstr("no STIX pattern mapping"));
  EXPECT_EQ(p->rejected[1].where, "event e1 attribute a5");
  auto forced = ParseMispEvents(event, {.include_restricted = true});
  EXPECT_EQ(forced->items.size(), 3u);
}

TEST(MispTest, BrokenDocumentsFailWhole) {
  std::string text = ReadFile(SharedData("misp/events/pymisp/long_event.json"));
  auto p = ParseMispEvents(text.substr(0, text.size() / 2), {});
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("not a JSON document"));
  p = ParseMispEvents(R"({"foo": 1})", {});
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("no MISP event"));
}

TEST(MispTest, FeedDirectory) {
  testutil::TempDir dir;
  std::string a = ReadFile(SharedData("misp/events/eset/sshdoor/misp-events/endor.json"));
  std::string b = ReadFile(SharedData("misp/events/eset/sshdoor/misp-events/kamino.json"));
  auto write = [&](const std::string& name, const std::string& text) {
    FILE* f = fopen((dir.path() / name).c_str(), "w");
    fwrite(text.data(), 1, text.size(), f);
    fclose(f);
  };
  write("manifest.json", R"({"u-endor":{"info":"Endor"},"u-kamino":{"info":"Kamino"}})");
  write("u-endor.json", a);
  write("u-kamino.json", b);
  auto p = ParseMispFeed(dir.path().string(), {});
  ASSERT_TRUE(p.ok()) << p.status();
  auto single = ParseMispEvents(a, {});
  EXPECT_GT(p->items.size() + p->skipped.size(), single->items.size() + single->skipped.size());
  write("u-kamino.json", b.substr(0, 100));
  p = ParseMispFeed(dir.path().string(), {});
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("u-kamino.json: not a JSON document"));
  std::filesystem::remove(dir.path() / "u-kamino.json");
  p = ParseMispFeed(dir.path().string(), {});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kNotFound);
}

// A large list is parsed in two halves on two cores: the result is the same
// as one pass (items in input order, line numbers right in both halves).
TEST(ParsersTest, LargeListKeepsOrderAndLineNumbers) {
  std::string text = "# header comment\n";
  std::vector<int> bad = {2, 30000, 59999};
  int kLines = 60000;
  for (int line = 2; line <= kLines; ++line) {
    if (std::find(bad.begin(), bad.end(), line) != bad.end()) {
      text += "999.1.1.1\n";
    } else {
      text += "host" + std::to_string(line) + ".long-enough-name.example  # comment\n";
    }
  }
  ASSERT_GT(text.size(), size_t{1} << 21);
  Parsed p = ParsePlain(text);
  ASSERT_EQ(p.items.size(), static_cast<size_t>(kLines - 1 - 3));
  ASSERT_EQ(p.rejected.size(), 3u);
  for (size_t k = 0; k < 3; ++k) EXPECT_EQ(p.rejected[k].where, "line " + std::to_string(bad[k]));
  int previous = 0;
  for (const Candidate& c : p.items) {
    int line = std::stoi(c.where.substr(5));
    ASSERT_GT(line, previous);
    EXPECT_EQ(c.value, "host" + std::to_string(line) + ".long-enough-name.example");
    previous = line;
  }
  EXPECT_EQ(previous, kLines);
}


TEST(ParsersTest, LargeCsvKeepsLineNumbersAndReportsTheFirstBrokenRow) {
  std::string text = "# exported\nvalue,type,labels\n";
  constexpr int kLines = 40000;
  for (int line = 3; line <= kLines; ++line) {
    text += line == 30000 ? std::string(",domain,x\n")
                          : "host" + std::to_string(line) + ".csv-example.example,domain,a;b\n";
  }
  ASSERT_GT(text.size(), size_t{1} << 20);
  CsvOptions o{.columns = "value=value,type=type,labels=labels"};
  auto p = ParseCsv(text, o);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->items.size(), static_cast<size_t>(kLines - 2 - 1));
  ASSERT_EQ(p->rejected.size(), 1u);
  EXPECT_EQ(p->rejected[0].where, "line 30000");
  EXPECT_EQ(p->items.front().where, "line 3");
  EXPECT_EQ(p->items.back().where, "line 40000");
  EXPECT_EQ(p->items.back().labels, (std::vector<std::string>{"a", "b"}));
  // A row short of a mapped column fails the file, naming the first such row.
  std::string broken = text;
  for (int line : {36000, 12000}) {
    std::string row = "host" + std::to_string(line) + ".csv-example.example,domain,a;b\n";
    broken.replace(broken.find(row), row.size(), "short\n");
  }
  auto b = ParseCsv(broken, o);
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(std::string(b.status().message()), ::testing::StartsWith("line 12000: 1 fields"));
}

}  // namespace
}  // namespace cordon::feeds
