// Decoders on the real Zeek and Suricata logs in ../shared/data/logs. Expected
// counts come from simple independent scans of the files (string search per
// line), never from the decoder under test.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>

#include "absl/strings/str_format.h"
#include "simdjson.h"
#include "base/strings.h"
#include "events/decoder.h"
#include "events/input.h"
#include "events/record.h"
#include "match/index.h"
#include "normalize/normalize.h"
#include "pattern/evaluator.h"
#include "pattern/pattern.h"
#include "testutil/testutil.h"

namespace cordon::events {
namespace {

using match::KeyType;
namespace fs = std::filesystem;

struct Decoded {
  DecodeStats stats;
  std::string errors;
  // Per event: its keys rendered "type=value" (in decoder order), time, line.
  std::vector<std::vector<std::string>> keys;
  std::vector<Timestamp> times;
  std::vector<uint64_t> lines;
};

std::string Render(const match::Key& k) {
  std::string out(match::KeyTypeName(k.type));
  out += '=';
  if (k.type == KeyType::kIp) out += normalize::FormatIp(k.ip);
  else if (k.type == KeyType::kPort) out += std::to_string(k.number);
  else out += k.text;
  return out;
}

Decoded Decode(const std::vector<std::string>& paths, Format format) {
  Decoded d;
  std::ostringstream errors;
  DecodeOptions opt;
  opt.errors = &errors;
  opt.max_reported = 1000;
  Status s = DecodeInputs(paths, format, opt, [&](const match::Event& e) {
    std::vector<std::string> ks;
    for (const auto& k : e.keys) ks.push_back(Render(k));
    d.keys.push_back(std::move(ks));
    d.times.push_back(e.time);
    d.lines.push_back(e.line);
  }, &d.stats);
  EXPECT_TRUE(s.ok()) << s;
  d.errors = errors.str();
  return d;
}

// A shared log as a plain file (decompressed into `dir` when stored as .zst).
std::string Materialise(const testutil::TempDir& dir, const std::string& relative) {
  fs::path src = testutil::SharedData("logs/" + relative);
  if (src.extension() != ".zst") return src.string();
  fs::path out = dir.path() / (std::to_string(std::hash<std::string>{}(relative)) + src.stem().string());
  std::ofstream(out, std::ios::binary) << testutil::ReadFile(src);
  return out.string();
}

std::vector<std::string> DataLines(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  return out;
}

size_t CountEventsWithKey(const Decoded& d, const std::string& key) {
  size_t n = 0;
  for (const auto& ks : d.keys) n += std::find(ks.begin(), ks.end(), key) != ks.end();
  return n;
}

size_t CountLinesContaining(const std::vector<std::string>& lines, const std::string& needle) {
  size_t n = 0;
  for (const auto& l : lines) n += l.find(needle) != std::string::npos;
  return n;
}

// --- Zeek TSV -------------------------------------------------------------

TEST(ZeekTsv, RealDnsLogQueriesAndAnswers) {
  testutil::TempDir dir;
  std::string path = Materialise(dir, "zeek/wrccdc-2018/tsv/dns.log.zst");
  Decoded d = Decode({path}, Format::kZeek);
  auto lines = DataLines(path);
  EXPECT_EQ(d.stats.events, lines.size());
  EXPECT_EQ(d.stats.malformed, 0u) << d.errors;
  // Independent scan: the query column (index 9) and the answers column (21).
  auto count = [&](const std::string& v) {
    size_t n = 0;
    for (const auto& l : lines) {
      auto cols = Split(l, '\t');
      bool hit = cols[9] == v;
      for (auto a : Split(cols[21], ',')) hit = hit || a == v;
      n += hit;
    }
    return n;
  };
  for (std::string v : {"ise.wrccdc.org", "www.google.com", "time.windows.com"}) {
    size_t expected = count(v);
    EXPECT_EQ(CountEventsWithKey(d, "domain=" + v), expected) << v;
  }
  EXPECT_GT(count("ise.wrccdc.org"), 0u);
  EXPECT_EQ(CountEventsWithKey(d, "domain=not-in-these-logs.example"), 0u);
  // An address that occurs as an answer and as a resolver.
  size_t answer_hits = 0, resolver_hits = 0;
  for (const auto& l : lines) {
    auto cols = Split(l, '\t');
    bool in_answers = false;
    for (auto a : Split(cols[21], ',')) in_answers = in_answers || a == "134.71.3.16";
    answer_hits += in_answers || cols[2] == "134.71.3.16" || cols[4] == "134.71.3.16";
    resolver_hits += cols[4] == "10.0.0.100";
  }
  EXPECT_GT(answer_hits, 0u);
  EXPECT_EQ(CountEventsWithKey(d, "ip=134.71.3.16"), answer_hits);
  EXPECT_EQ(CountEventsWithKey(d, "ip=10.0.0.100"), resolver_hits);
}

TEST(ZeekTsv, TsvAndJsonOfTheSameEventsDecodeAlike) {
  testutil::TempDir dir;
  for (std::string log : {"dns", "ssl"}) {
    Decoded tsv = Decode({Materialise(dir, "zeek/wrccdc-2018/tsv/" + log + ".log.zst")}, Format::kZeek);
    Decoded json = Decode({Materialise(dir, "zeek/wrccdc-2018/json/" + log + ".json.zst")}, Format::kZeek);
    ASSERT_EQ(tsv.stats.events, json.stats.events) << log;
    EXPECT_EQ(tsv.stats.malformed + json.stats.malformed, 0u) << tsv.errors << json.errors;
    size_t differing = 0;
    for (size_t i = 0; i < tsv.keys.size(); ++i) {
      auto a = tsv.keys[i], b = json.keys[i];
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      differing += a != b || tsv.times[i] != json.times[i];
    }
    EXPECT_EQ(differing, 0u) << log;
  }
}

TEST(ZeekTsv, SslServerNamesAndX509Serials) {
  testutil::TempDir dir;
  std::string ssl = Materialise(dir, "zeek/wrccdc-2018/tsv/ssl.log.zst");
  Decoded d = Decode({ssl}, Format::kZeek);
  auto lines = DataLines(ssl);
  // server_name is column 9; pick the most frequent one.
  std::map<std::string, size_t> names;
  for (const auto& l : lines) {
    auto cols = Split(l, '\t');
    if (cols[9] != "-") ++names[std::string(cols[9])];
  }
  ASSERT_FALSE(names.empty());
  auto top = std::max_element(names.begin(), names.end(), [](auto& a, auto& b) { return a.second < b.second; });
  EXPECT_EQ(CountEventsWithKey(d, "domain=" + ToLower(top->first)), top->second) << top->first;

  std::string x509 = testutil::SharedData("logs/zeek/wrccdc-2018/tsv/x509.log").string();
  Decoded x = Decode({x509}, Format::kZeek);
  EXPECT_EQ(x.stats.malformed, 0u) << x.errors;
  auto xl = DataLines(x509);
  EXPECT_EQ(x.stats.events, xl.size());
  // certificate.serial of the first record, counted over the file.
  std::string header;
  for (std::ifstream in(x509); std::getline(in, header);) if (header.starts_with("#fields")) break;
  auto fields = Split(header, '\t');
  size_t col = std::find(fields.begin(), fields.end(), "certificate.serial") - fields.begin() - 1;
  std::string serial(Split(xl[0], '\t')[col]);
  size_t expected = 0;
  for (const auto& l : xl) expected += Split(l, '\t')[col] == serial;
  EXPECT_EQ(CountEventsWithKey(x, "x509-serial=" + ToLower(serial)), expected);
}

TEST(ZeekTsv, HeaderChangesMidStreamAndMalformedLines) {
  testutil::TempDir dir;
  fs::path p = dir.path() / "mixed.log";
  std::ofstream(p) << "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
                      "#fields\tts\tquery\tanswers\n"
                      "1.5\tEvil.Example.COM.\t1.2.3.4,cname.example.net\n"   // line 6
                      "2.0\tonly-two-columns\n"                                  // 7: malformed
                      "notatime\tx.example\t-\n"                                 // 8: malformed
                      "3\t-\t(empty)\n"                                          // 9: no keys
                      "#fields\tts\tid.orig_h\tid.resp_h\tid.resp_p\n"
                      "4.25\t10.0.0.1\t2001:DB8::1\t443\n"                       // 11
                      "{\"ts\":5.0,\"query\":\"json.example\"}\n"                // 12: JSON line among TSV
                      "{\"ts\":5.0,\"query\":\n";                                // 13: malformed JSON
  Decoded d = Decode({p.string()}, Format::kZeek);
  EXPECT_EQ(d.stats.events, 4u);
  EXPECT_EQ(d.stats.malformed, 3u);
  EXPECT_NE(d.errors.find("mixed.log:7: malformed record: record has 2 fields, #fields header names 3"),
            std::string::npos) << d.errors;
  EXPECT_NE(d.errors.find("mixed.log:8: malformed record: bad value in column ts"), std::string::npos) << d.errors;
  EXPECT_NE(d.errors.find("mixed.log:13:"), std::string::npos) << d.errors;
  ASSERT_EQ(d.keys.size(), 4u);
  EXPECT_EQ(d.keys[0], (std::vector<std::string>{"domain=evil.example.com", "ip=1.2.3.4", "domain=cname.example.net"}));
  EXPECT_EQ(d.times[0].ns, 1'500'000'000);
  EXPECT_EQ(d.lines[0], 6u);
  EXPECT_TRUE(d.keys[1].empty());
  EXPECT_EQ(d.keys[2], (std::vector<std::string>{"ip=10.0.0.1", "ip=2001:db8::1", "port=443"}));
  EXPECT_EQ(d.lines[2], 11u);
  EXPECT_EQ(d.keys[3], (std::vector<std::string>{"domain=json.example"}));
}

TEST(ZeekTsv, EscapedBytesAreDecodedBeforeNormalising) {
  testutil::TempDir dir;
  fs::path p = dir.path() / "dns.log";
  std::ofstream(p) << "#separator \\x09\n#fields\tts\tquery\tmailfrom\n"
                   << "1600000000.000000\tb\\xc3\\xbccher.example\tx@M\\xc3\\xbcnchen.example\n"
                   << "1600000001.000000\tbad\\x\tplain@example.org\n";
  Decoded d = Decode({p.string()}, Format::kZeek);
  ASSERT_EQ(d.keys.size(), 2u);
  EXPECT_EQ(d.keys[0], (std::vector<std::string>{"domain=xn--bcher-kva.example", "email=x@xn--mnchen-3ya.example"}));
  EXPECT_EQ(d.keys[1], (std::vector<std::string>{"email=plain@example.org"}));  // "bad\x": no valid name
  // An escape only in the last column, past the first 16 bytes; and an escaped set separator
  // (\x2c) that stays inside its element.
  fs::path q = dir.path() / "dns2.log";
  std::ofstream(q) << "#separator \\x09\n#set_separator\t,\n#fields\tts\tanswers\tquery\n"
                   << "1600000000.000000\tTXT 20 v=x\\x2cevil.example,192.0.2.1\tveryveryverylongprefix.b\\xc3\\xbccher.example\n";
  Decoded e = Decode({q.string()}, Format::kZeek);
  ASSERT_EQ(e.keys.size(), 1u);
  EXPECT_EQ(e.keys[0], (std::vector<std::string>{"ip=192.0.2.1", "domain=veryveryverylongprefix.xn--bcher-kva.example"}));
}

TEST(ZeekJson, HttpUrlTakesTheServerPortWhenTheHostHasNone) {
  testutil::TempDir dir;
  fs::path p = dir.path() / "http.log";
  std::ofstream(p) << R"({"ts":1600000000.0,"id.orig_h":"10.0.0.1","id.orig_p":5000,"id.resp_h":"192.0.2.1","id.resp_p":8081,"host":"evil.example","uri":"/gate"})" "\n"
                   << R"({"ts":1600000001.0,"id.resp_p":8081,"host":"evil.example:8081","uri":"/gate"})" "\n"
                   << R"({"ts":1600000002.0,"id.resp_p":80,"host":"evil.example","uri":"/gate"})" "\n";
  Decoded d = Decode({p.string()}, Format::kZeek);
  ASSERT_EQ(d.keys.size(), 3u);
  EXPECT_EQ(d.keys[0].back(), "url=http://evil.example:8081/gate");
  EXPECT_EQ(d.keys[1].back(), "url=http://evil.example:8081/gate");
  EXPECT_EQ(d.keys[2].back(), "url=http://evil.example/gate");
}

TEST(ZeekTsv, NewFileResetsTheHeader) {
  testutil::TempDir dir;
  std::ofstream(dir.path() / "a.log") << "#fields\tts\tquery\n1\ta.example\n";
  std::ofstream(dir.path() / "b.log") << "1\tb.example\n";  // no header of its own
  Decoded d = Decode({(dir.path() / "a.log").string(), (dir.path() / "b.log").string()}, Format::kZeek);
  EXPECT_EQ(d.stats.events, 1u);
  EXPECT_EQ(d.stats.malformed, 1u);
  EXPECT_NE(d.errors.find("b.log:1: malformed record: TSV record before any #fields header"), std::string::npos);
}

// --- Zeek JSON ------------------------------------------------------------

TEST(ZeekJson, RealLogsHttpDnsFilesX509) {
  std::string base = testutil::SharedData("logs/zeek/stratosphere-slips-test9-mixed/").string();
  for (std::string log : {"conn", "dns", "http", "files", "ssl", "x509", "notice"}) {
    Decoded d = Decode({base + log + ".log"}, Format::kZeek);
    EXPECT_EQ(d.stats.malformed, 0u) << log << ": " << d.errors;
    EXPECT_EQ(d.stats.events, DataLines(base + log + ".log").size()) << log;
  }
  // Quoted string values occur only in the fields we key for these logs.
  auto dns_lines = DataLines(base + "dns.log");
  Decoded dns = Decode({base + "dns.log"}, Format::kZeek);
  for (std::string v : {"www.msftncsi.com", "isatap.felk.cvut.cz", "teredo.ipv6.microsoft.com"}) {
    size_t expected = CountLinesContaining(dns_lines, "\"" + v + "\"");
    EXPECT_GT(expected, 0u) << v;
    EXPECT_EQ(CountEventsWithKey(dns, "domain=" + v), expected) << v;
  }
  EXPECT_EQ(CountEventsWithKey(dns, "ip=195.113.232.73"), CountLinesContaining(dns_lines, "\"195.113.232.73\""));

  auto http_lines = DataLines(base + "http.log");
  Decoded http = Decode({base + "http.log"}, Format::kZeek);
  EXPECT_EQ(CountEventsWithKey(http, "url=http://103.41.26.58/Mozi.m"),
            CountLinesContaining(http_lines, "\"host\":\"103.41.26.58\",\"uri\":\"/Mozi.m\""));
  EXPECT_EQ(CountEventsWithKey(http, "url=http://103.41.26.58/Mozi.m"), 1u);
  EXPECT_EQ(CountEventsWithKey(http, "domain=www.msn.com"), CountLinesContaining(http_lines, "\"host\":\"www.msn.com\""));
  EXPECT_EQ(CountEventsWithKey(http, "url=http://103.41.26.58/not-there"), 0u);

  auto files_lines = DataLines(base + "files.log");
  Decoded files = Decode({base + "files.log"}, Format::kZeek);
  EXPECT_EQ(CountEventsWithKey(files, "md5=df7c845e4eadd7bac6cbfe2087bbd482"),
            CountLinesContaining(files_lines, "\"df7c845e4eadd7bac6cbfe2087bbd482\""));
  EXPECT_EQ(CountEventsWithKey(files, "sha1=8800350f53cb7bfc883962e965461d94ab5d2616"),
            CountLinesContaining(files_lines, "\"8800350f53cb7bfc883962e965461d94ab5d2616\""));

  Decoded ssl = Decode({base + "ssl.log"}, Format::kZeek);
  EXPECT_EQ(CountEventsWithKey(ssl, "domain=ieonline.microsoft.com"),
            CountLinesContaining(DataLines(base + "ssl.log"), "\"server_name\":\"ieonline.microsoft.com\""));
}

// Zeek's "ts" form (ten digits, a dot, six) takes a fast path; it must give
// what the general parser gives for the same value written with a seventh
// fraction digit, and refuse exactly the strings with a non-digit in place.
TEST(ParseEpochSeconds, FastFormAgreesWithTheGeneralParser) {
  std::mt19937_64 rng(5);
  size_t valid = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string s = absl::StrFormat("%010d.%06d", int64_t(rng() % 10000000000ull), int(rng() % 1000000));
    if (i % 4 == 0) s[rng() % s.size()] = "x/:. \xb0"[rng() % 6];  // break it somewhere (or not: '.' on the dot)
    ASSERT_EQ(s.size(), 17u);
    auto fast = ParseEpochSeconds(s);
    auto general = ParseEpochSeconds(s + "0");
    ASSERT_EQ(fast.has_value(), general.has_value()) << s;
    if (!fast) continue;
    ++valid;
    EXPECT_EQ(fast->ns, general->ns) << s;
    EXPECT_EQ(fast->frac_digits, 6) << s;
  }
  EXPECT_GT(valid, 150000u);
  EXPECT_EQ(ParseEpochSeconds("1521911720.865716")->ns, 1521911720865716000);
  EXPECT_EQ(ParseEpochSeconds("0000000000.000001")->ns, 1000);
  EXPECT_FALSE(ParseEpochSeconds("152191172a.865716"));
  EXPECT_FALSE(ParseEpochSeconds("1521911720.86571a"));
  EXPECT_FALSE(ParseEpochSeconds("1521911720,865716"));
  // Past 2262 (int64 ns) both forms saturate rather than overflow.
  EXPECT_EQ(ParseEpochSeconds("9999999999.999999")->ns, INT64_MAX);
  EXPECT_EQ(ParseEpochSeconds("999999999999")->ns, INT64_MAX);
  EXPECT_EQ(ParseIsoTime("9999-12-31T23:59:59-1400")->ns, INT64_MAX);
}

TEST(ZeekJson, IsoTimestampsAndEpochAgree) {
  auto iso = ParseIsoTime("2018-03-24T17:15:20.865716Z");
  auto epoch = ParseEpochSeconds("1521911720.865716");
  ASSERT_TRUE(iso && epoch);
  EXPECT_EQ(iso->ns, epoch->ns);
  auto offset = ParseIsoTime("2021-06-06T15:59:46.457984+0200");
  auto utc = ParseIsoTime("2021-06-06T13:59:46.457984Z");
  ASSERT_TRUE(offset && utc);
  EXPECT_EQ(offset->ns, utc->ns);
  EXPECT_EQ(ParseIsoTime("2021-06-06T17:29:46.457984+03:30")->ns, utc->ns);
  EXPECT_FALSE(ParseIsoTime("2021-06-06 13:59:46"));
  EXPECT_FALSE(ParseIsoTime("2021-06-06T13:59:46+2"));
  EXPECT_FALSE(ParseEpochSeconds("12a"));
  EXPECT_FALSE(ParseEpochSeconds(""));
}

// --- Suricata EVE ---------------------------------------------------------

TEST(Eve, RealCapture) {
  testutil::TempDir dir;
  std::string path = Materialise(dir, "suricata/stratosphere-test6-malicious.eve.json.zst");
  Decoded d = Decode({path}, Format::kEve);
  auto lines = DataLines(path);
  EXPECT_EQ(d.stats.events, 5000u);
  EXPECT_EQ(d.stats.malformed, 0u) << d.errors;
  EXPECT_EQ(CountEventsWithKey(d, "domain=www.google.com"), CountLinesContaining(lines, "\"rrname\":\"www.google.com\""));
  EXPECT_GT(CountEventsWithKey(d, "domain=www.google.com"), 0u);
  // An address: quoted, it appears only as src_ip/dest_ip/hostname/rdata.
  for (std::string ip : {"192.168.1.1", "78.36.196.213", "147.32.82.197"}) {
    size_t expected = CountLinesContaining(lines, "\"" + ip + "\"");
    EXPECT_GT(expected, 0u) << ip;
    EXPECT_EQ(CountEventsWithKey(d, "ip=" + ip), expected) << ip;
  }
  EXPECT_EQ(CountEventsWithKey(d, "domain=stratosphere.org"), 0u);  // the sensor's name, not traffic
  // DNS rrname/rdata and the TLS SNI.
  EXPECT_EQ(CountEventsWithKey(d, "domain=www.myedimax.com"), CountLinesContaining(lines, "\"www.myedimax.com\""));
  EXPECT_EQ(CountEventsWithKey(d, "ja3=b7202231ff2db28363c109cedc6d1642"), 1u);
  EXPECT_EQ(CountEventsWithKey(d, "ja3s=ad90cab724fafab2660fbf61673c91a9"), 1u);
  EXPECT_EQ(CountEventsWithKey(d, "x509-sha1=2dd19f809986fcac5f2a2afda3f37e967cdd2437"), 1u);
  EXPECT_EQ(CountEventsWithKey(d, "x509-serial=178e1ed7bd75efcd3d8fffd3"), 1u);
  size_t root_requests = 0;  // http and fileinfo records carry the http object
  for (const auto& l : lines) {
    root_requests += l.find("\"hostname\":\"147.32.82.197\"") != std::string::npos &&
                     l.find("\"url\":\"/\"") != std::string::npos &&
                     (l.find("\"http_port\"") == std::string::npos || l.find("\"http_port\":80,") != std::string::npos);
  }
  EXPECT_GT(root_requests, 0u);
  EXPECT_EQ(CountEventsWithKey(d, "url=http://147.32.82.197/"), root_requests);
  // Times carry the offset: 15:59:46.457984+0200 is 13:59:46.457984Z.
  EXPECT_EQ(d.times[0].ns, ParseIsoTime("2021-06-06T13:59:46.457984Z")->ns);
}

TEST(Eve, DnsLayoutsAndMalformedLines) {
  testutil::TempDir dir;
  fs::path p = dir.path() / "eve.json";
  std::ofstream(p)
      << R"({"timestamp":"2024-01-01T00:00:00.000000+0000","event_type":"dns","src_ip":"10.0.0.2","dest_ip":"10.0.0.1","dns":{"type":"answer","rrname":"A.example","answers":[{"rrname":"a.example","rrtype":"CNAME","rdata":"b.example"},{"rrname":"b.example","rrtype":"A","rdata":"192.0.2.7"}],"grouped":{"AAAA":["2001:db8::7"]}}})" "\n"
      << R"({"timestamp":"2024-01-01T00:00:01+00:00","event_type":"dns","dns":{"queries":[{"rrname":"q.example"}]}})" "\n"
      << R"({"timestamp":"2024-01-01T00:00:02Z","event_type":"fileinfo","fileinfo":{"md5":"D41D8CD98F00B204E9800998ECF8427E","sha256":"zz"}})" "\n"
      << R"({"timestamp":"yesterday","event_type":"flow"})" "\n"
      << R"({"event_type":"flow","src_ip":"10.0.0.1"})" "\n"
      << "not json at all\n"
      << "\n"
      << R"({"timestamp":"2024-01-01T00:00:03Z","event_type":"flow","src_ip":"10.0.0.1","src_port":70000})" "\n";
  Decoded d = Decode({p.string()}, Format::kEve);
  EXPECT_EQ(d.stats.events, 4u);
  EXPECT_EQ(d.stats.malformed, 3u);
  EXPECT_EQ(d.stats.skipped, 1u);
  EXPECT_NE(d.errors.find("eve.json:4: malformed record: bad \"timestamp\": 'yesterday'"), std::string::npos) << d.errors;
  EXPECT_NE(d.errors.find("eve.json:5: malformed record: record without \"timestamp\""), std::string::npos);
  EXPECT_NE(d.errors.find("eve.json:6: malformed record: not a JSON object"), std::string::npos) << d.errors;
  ASSERT_EQ(d.keys.size(), 4u);
  EXPECT_EQ(d.keys[0], (std::vector<std::string>{"ip=10.0.0.2", "ip=10.0.0.1", "domain=a.example", "domain=b.example",
                                                 "ip=192.0.2.7", "ip=2001:db8::7"}));
  EXPECT_EQ(d.keys[1], (std::vector<std::string>{"domain=q.example"}));
  EXPECT_EQ(d.keys[2], (std::vector<std::string>{"md5=d41d8cd98f00b204e9800998ecf8427e"}));
  EXPECT_EQ(d.keys[3], (std::vector<std::string>{"ip=10.0.0.1"}));  // out-of-range port dropped
  EXPECT_EQ(d.lines[3], 8u);
}

TEST(Eve, SmtpEnvelopeAndHeaderAddresses) {
  testutil::TempDir dir;
  fs::path p = dir.path() / "eve.json";
  std::ofstream(p)
      << R"({"timestamp":"2024-01-01T00:00:00Z","event_type":"smtp","smtp":{"helo":"x","mail_from":"<A.Sender@Example.ORG>","rcpt_to":["<r1@example.net>","<bad address>"]},"email":{"status":"PARSE_DONE","from":"\"Sender, A.\" <a.sender@example.org>","to":["r1@example.net"],"cc":["\"C\" <c@example.com>"],"subject":"s"}})" "\n";
  Decoded d = Decode({p.string()}, Format::kEve);
  ASSERT_EQ(d.keys.size(), 1u);
  // The domain part normalised, the local part as written; an address that does not parse gives no key.
  EXPECT_EQ(d.keys[0], (std::vector<std::string>{"email=A.Sender@example.org", "email=r1@example.net",
                                                 "email=a.sender@example.org", "email=r1@example.net",
                                                 "email=c@example.com"}));
}

// --- plain lines ----------------------------------------------------------

TEST(Lines, AutoDetectsDomainsAddressesUrls) {
  testutil::TempDir dir;
  fs::path p = dir.path() / "values.txt";
  std::ofstream(p) << "# comment\nExample.COM.\n  192.0.2.1  \n::ffff:192.0.2.2\nHTTP://Evil.Example:80/a%7Eb\n"
                      "not a domain!\nhttps://[2001:db8::1]:8443/x\n";
  Decoded d = Decode({p.string()}, Format::kLines);
  EXPECT_EQ(d.stats.events, 5u);
  EXPECT_EQ(d.stats.malformed, 1u);
  EXPECT_NE(d.errors.find("values.txt:6: malformed record: neither a domain name"), std::string::npos) << d.errors;
  ASSERT_EQ(d.keys.size(), 5u);
  EXPECT_EQ(d.keys[0], (std::vector<std::string>{"domain=example.com"}));
  EXPECT_EQ(d.keys[1], (std::vector<std::string>{"ip=192.0.2.1"}));
  EXPECT_EQ(d.keys[2], (std::vector<std::string>{"ip=192.0.2.2"}));
  EXPECT_EQ(d.keys[3], (std::vector<std::string>{"url=http://evil.example/a~b", "domain=evil.example"}));
  EXPECT_EQ(d.keys[4], (std::vector<std::string>{"url=https://[2001:db8::1]:8443/x", "ip=2001:db8::1"}));
}

// --- observed data --------------------------------------------------------

TEST(Observed, RecordEvaluatesAgainstPatterns) {
  testutil::TempDir dir;
  fs::path p = dir.path() / "conn.json";
  std::ofstream(p) << R"({"ts":1521911720.5,"id.orig_h":"10.0.0.1","id.orig_p":50000,"id.resp_h":"192.0.2.9","id.resp_p":53,"proto":"udp","query":"evil.example","md5":"d41d8cd98f00b204e9800998ecf8427e"})" "\n";
  std::vector<pattern::ObservationSet> observed;  // copies what it holds: outlives the event
  DecodeStats stats;
  ASSERT_TRUE(DecodeInputs({p.string()}, Format::kZeek, {}, [&](const match::Event& e) {
    ASSERT_NE(e.observed, nullptr);
    auto set = e.observed->BuildObserved(pattern::Version::k21);
    ASSERT_TRUE(set.ok()) << set.status();
    observed.push_back(*std::move(set));
  }, &stats).ok());
  ASSERT_EQ(observed.size(), 1u);
  const pattern::ObservationSet* set = &observed[0];
  ASSERT_EQ(set->size(), 1u);
  EXPECT_EQ(set->observations()[0].objects.size(), 5u);  // domain, 2 IPs, file, network-traffic
  auto matches = [&](const std::string& text) {
    auto pat = pattern::Parse(text, pattern::Version::k21);
    EXPECT_TRUE(pat.ok()) << pat.status();
    auto r = pattern::Evaluate(*pat, *set);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && r->matched;
  };
  EXPECT_TRUE(matches("[domain-name:value = 'evil.example']"));
  EXPECT_TRUE(matches("[network-traffic:dst_ref.value = '192.0.2.9' AND network-traffic:dst_port = 53]"));
  EXPECT_TRUE(matches("[network-traffic:src_ref.value ISSUBSET '10.0.0.0/8' AND network-traffic:protocols[*] = 'udp']"));
  EXPECT_TRUE(matches("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']"));
  EXPECT_TRUE(matches("[ipv4-addr:value = '192.0.2.9'] START t'2018-03-24T17:15:00Z' STOP t'2018-03-24T17:16:00Z'"));
  EXPECT_FALSE(matches("[network-traffic:dst_port = 54]"));
  EXPECT_FALSE(matches("[domain-name:value = 'good.example']"));
}

// ObservedFields() is what lets the matcher skip evaluating a pattern: it
// must name every (type, property) BuildObserved renders (no more, to skip
// as often as it can), on every record of real logs of each format.
TEST(Observed, ObservedFieldsAreTheRenderedFields) {
  testutil::TempDir dir;
  const std::vector<std::pair<std::string, Format>> logs = {
      {Materialise(dir, "suricata/stratosphere-test6-malicious.eve.json.zst"), Format::kEve},
      {Materialise(dir, "zeek/wrccdc-2018/tsv/ssl.log.zst"), Format::kZeek},
      {Materialise(dir, "zeek/wrccdc-2018/json/x509.json"), Format::kZeek},
      {Materialise(dir, "zeek/stratosphere-slips-test9-mixed/files.log"), Format::kZeek},
      {Materialise(dir, "zeek/stratosphere-slips-test9-mixed/http.log"), Format::kZeek},
      {Materialise(dir, "zeek/stratosphere-slips-test9-mixed/conn.log"), Format::kZeek},
      {Materialise(dir, "zeek/stratosphere-005-zeek-scenario-malicious/dns.log"), Format::kZeek}};
  simdjson::dom::parser parser;
  uint64_t seen = 0;
  size_t events = 0, differ = 0;
  for (const auto& [path, format] : logs) {
    DecodeStats stats;
    ASSERT_TRUE(DecodeInputs({path}, format, {}, [&](const match::Event& e) {
      ASSERT_NE(e.observed, nullptr);
      auto set = e.observed->BuildObserved(pattern::Version::k21);
      ASSERT_TRUE(set.ok()) << set.status();
      ASSERT_EQ(set->size(), 1u);
      uint64_t rendered = 0;
      std::string shown;
      for (const pattern::JsonValue* o : set->observations()[0].objects) {
        const std::string_view type = o->Find("type")->string_value;
        for (std::string_view key : o->keys) {
          if (key != "type" && key != "spec_version" && key != "id") rendered |= match::ObservedFieldBit(type, key);
          shown += std::string(type) + ":" + std::string(key) + " ";
        }
      }
      ++events;
      seen |= rendered;
      if (e.observed->ObservedFields() != rendered && ++differ <= 3)
        ADD_FAILURE() << path << " line " << e.line << ": " << shown;
    }, &stats).ok());
  }
  EXPECT_GT(events, 10000u);
  EXPECT_EQ(differ, 0u);
  // Every field a record can yield occurred (so each branch was checked), but
  // e-mail addresses and IPv6 (not in these logs) and never "other".
  for (int f = 0; f < int(match::ObservedField::kOther); ++f) {
    const auto field = match::ObservedField(f);
    if (field == match::ObservedField::kEmailAddrValue || field == match::ObservedField::kIpv6AddrValue) continue;
    EXPECT_TRUE(seen & match::Bit(field)) << f;
  }
  EXPECT_FALSE(seen & match::Bit(match::ObservedField::kOther));
}

// Skipping evaluate-only patterns by observed field changes no result: the
// 7,900 Unit 42 patterns (~420 evaluate-only) against real records of each
// format, once as decoded and once through a builder that names no fields
// (so that every evaluate-only pattern is evaluated).
TEST(Observed, SkippingByFieldChangesNoHit) {
  std::string text = testutil::ReadFile(testutil::SharedData("patterns/unit42-real-world-patterns.jsonl.zst"));
  std::vector<match::IndicatorSpec> specs;
  simdjson::dom::parser json;
  for (std::string_view line : Split(text, '\n', EmptyParts::kSkip)) {
    simdjson::dom::element doc;
    ASSERT_EQ(json.parse(line).get(doc), simdjson::SUCCESS);
    match::IndicatorSpec spec;
    spec.id = absl::StrFormat("indicator--%08x-0000-4000-8000-000000000000", specs.size());
    spec.pattern = std::string(doc["pattern"].get_string().value());
    specs.push_back(std::move(spec));
  }
  // And evaluate-only patterns that real records do match, one per field a
  // record can carry (the Unit 42 ones match none of these records).
  for (const char* pattern :
       {"[domain-name:value != 'x']", "[url:value != 'x']", "[ipv4-addr:value != '192.0.2.1']",
        "[file:hashes.MD5 != 'x']", "[x509-certificate:serial_number != 'x']",
        "[x509-certificate:hashes.'SHA-1' != 'x']", "[network-traffic:dst_port > 79 AND network-traffic:dst_port < 81]",
        "[network-traffic:src_port > 1023]", "[network-traffic:protocols[*] = 'udp']",
        "[network-traffic:src_ref.value != '192.0.2.1']", "[network-traffic:dst_ref.value != '192.0.2.1']"}) {
    match::IndicatorSpec spec;
    spec.id = absl::StrFormat("indicator--%08x-0000-4000-8000-000000000000", specs.size());
    spec.pattern = pattern;
    specs.push_back(std::move(spec));
  }
  auto index = match::Index::Build(std::move(specs));
  ASSERT_TRUE(index.ok()) << index.status();
  ASSERT_GT((*index)->report().evaluated_only, 300u);
  struct NoFields : match::ObservedBuilder {
    const match::ObservedBuilder* inner = nullptr;
    Result<pattern::ObservationSet> BuildObserved(pattern::Version v) const override { return inner->BuildObserved(v); }
  };
  struct Ids : match::HitSink {
    std::vector<uint32_t> ids;
    size_t unindexed = 0;  // hits of evaluate-only patterns
    void OnHit(const match::Event&, const match::Hit& h) override {
      ids.push_back(h.indicator);
      unindexed += h.key == nullptr;
    }
  };
  match::Matcher filtered(*index), unfiltered(*index);
  testutil::TempDir dir;
  size_t events = 0, hits = 0, unindexed = 0, differ = 0;
  for (const auto& [relative, limit] : std::vector<std::pair<std::string, size_t>>{
           {"suricata/stratosphere-test6-malicious.eve.json.zst", 1500},
           {"zeek/stratosphere-slips-test9-mixed/files.log", 300},
           {"zeek/stratosphere-slips-test9-mixed/http.log", 300},
           {"zeek/stratosphere-slips-test9-mixed/conn.log", 300},
           {"zeek/wrccdc-2018/json/dns.json.zst", 300}}) {
    size_t n = 0;
    DecodeStats stats;
    ASSERT_TRUE(DecodeInputs({Materialise(dir, relative)}, relative.find("suricata") == 0 ? Format::kEve : Format::kZeek,
                             {}, [&](const match::Event& e) {
      if (++n > limit) return;
      Ids a, b;
      filtered.Match(e, a);
      NoFields all;
      all.inner = e.observed;
      match::Event copy = e;
      copy.observed = &all;
      unfiltered.Match(copy, b);
      ++events;
      hits += a.ids.size();
      unindexed += a.unindexed;
      if (a.ids != b.ids && ++differ <= 3) ADD_FAILURE() << relative << " line " << e.line;
    }, &stats).ok());
  }
  EXPECT_EQ(events, 2700u);
  EXPECT_GT(unindexed, 2700u);  // most records hit several planted patterns
  EXPECT_EQ(differ, 0u);
  EXPECT_GT(unfiltered.stats().evaluations, 20 * filtered.stats().evaluations);
  std::cout << hits << " hits, " << unindexed << " of evaluate-only patterns; evaluations " << filtered.stats().evaluations << " vs " << unfiltered.stats().evaluations << "\n";
}

}  // namespace
}  // namespace cordon::events
