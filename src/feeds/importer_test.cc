#include "feeds/importer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "feeds/misp.h"
#include "feeds/parsers.h"
#include "base/json_writer.h"
#include "ingest/ingest.h"
#include "simdjson.h"
#include "store/sqlite/sqlite_store.h"
#include "testutil/testutil.h"

namespace cordon::feeds {
namespace {

using ::testing::HasSubstr;
using testutil::ReadFile;
using testutil::SharedData;

constexpr char kCol[] = "91a7b528-80eb-42ed-a74d-c6fbd5a26116";
constexpr int64_t kDay = int64_t{86400} * 1000000000;

class ImporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::OpenSqliteStore(dir_.path() / "cordon.db");
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    ASSERT_TRUE(store_->PutApiRoot({"cordon", "t", "d", 1 << 20}).ok());
    ASSERT_TRUE(store_->PutCollection({kCol, "cordon", "c", "", ""}).ok());
  }

  ImportReport Import(Parsed p, ImportOptions o, const WarningLists& w = WarningLists()) {
    auto r = ImportCandidates(*store_, kCol, std::move(p), o, w);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : ImportReport{};
  }

  // Every stored version of `id`, oldest first.
  std::vector<std::string> Versions(const std::string& id) {
    store::ObjectQuery q{.collection = kCol, .ids = {id}, .version = {.all = true}, .limit = 100};
    auto page = store_->QueryObjects(q);
    std::vector<std::string> out;
    for (auto& o : page->items) out.push_back(o.bytes);
    return out;
  }

  static std::string Prop(const std::string& json, const char* key) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc = parser.parse(json);
    simdjson::dom::element v;
    if (doc[key].get(v)) return "";
    return simdjson::minify(v);
  }

  static Timestamp At(const char* t) { return *ParseTimestamp(t); }

  testutil::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(ImporterTest, RealNetsetIsIdempotent) {
  std::string text = ReadFile(SharedData("indicators/firehol/firehol_level1.netset"));
  ImportOptions o{.source = "FireHOL", .confidence = 70, .tlp = stix::Tlp::kClear, .now = At("2026-01-01T00:00:00Z")};
  ImportReport r = Import(ParseNetset(text), o);
  EXPECT_GT(r.added, 1000);
  EXPECT_EQ(r.rejected, 0);
  EXPECT_EQ(*store_->CountObjects(kCol), r.added + 1);  // + the source's identity
  o.now = At("2026-01-02T00:00:00Z");
  ImportReport again = Import(ParseNetset(text), o);
  EXPECT_EQ(again.added, 0);
  EXPECT_EQ(again.updated, 0);
  EXPECT_EQ(again.unchanged, r.added);
  EXPECT_EQ(*store_->CountObjects(kCol), r.added + 1);

  // What was stored reads back as the same indicators: a re-import of the
  // patterns read from the store is unchanged too.
  store::ObjectQuery q{.collection = kCol, .types = {"indicator"}, .limit = 100000};
  auto page = store_->QueryObjects(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(static_cast<int>(page->items.size()), r.added);
  std::string list;
  for (const auto& obj : page->items) {
    EXPECT_EQ(Prop(obj.bytes, "created_by_ref"), "\"" + SourceIdentityId("FireHOL") + "\"");
    EXPECT_EQ(Prop(obj.bytes, "object_marking_refs"), "[\"" + std::string(stix::TlpMarkingId(stix::Tlp::kClear)) + "\"]");
    list += Prop(obj.bytes, "name").substr(1);
    list.back() = '\n';
  }
  ImportReport round = Import(ParseNetset(list), o);
  EXPECT_EQ(round.unchanged, r.added);
  EXPECT_EQ(round.added + round.updated, 0);
}

TEST_F(ImporterTest, ChangedPropertiesMakeNewVersions) {
  ImportOptions o{.source = "cert", .confidence = 50, .now = At("2026-01-01T00:00:00Z")};
  ASSERT_EQ(Import(ParsePlain("evil.example\n"), o).added, 1);
  std::string id = IndicatorId(SourceIdentityId("cert"), "[domain-name:value = 'evil.example']");
  o.confidence = 90;
  o.now = At("2026-01-03T00:00:00Z");
  ImportReport r = Import(ParsePlain("evil.example\n"), o);
  EXPECT_EQ(r.updated, 1);
  auto v = Versions(id);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(Prop(v[1], "confidence"), "90");
  EXPECT_EQ(Prop(v[1], "created"), Prop(v[0], "created"));
  EXPECT_EQ(Prop(v[1], "valid_from"), Prop(v[0], "valid_from"));
  EXPECT_EQ(Prop(v[1], "modified"), "\"2026-01-03T00:00:00.000000Z\"");
  EXPECT_EQ(Prop(v[1], "valid_until"), "\"2026-02-02T00:00:00.000000Z\"");
  // Labels and TLP are properties too.
  o.labels = {"phishing"};
  o.now = At("2026-01-04T00:00:00Z");
  EXPECT_EQ(Import(ParsePlain("evil.example\n"), o).updated, 1);
  o.tlp = stix::Tlp::kAmber;
  o.now = At("2026-01-05T00:00:00Z");
  EXPECT_EQ(Import(ParsePlain("evil.example\n"), o).updated, 1);
  v = Versions(id);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(Prop(v[3], "labels"), "[\"phishing\"]");
  EXPECT_EQ(Prop(v[3], "object_marking_refs"), "[\"" + std::string(stix::TlpMarkingId(stix::Tlp::kAmber)) + "\"]");
  // Another source's indicator for the same value is another object.
  ImportOptions other{.source = "partner", .now = At("2026-01-05T00:00:00Z")};
  EXPECT_EQ(Import(ParsePlain("evil.example\n"), other).added, 1);
  EXPECT_EQ(Versions(id).size(), 4u);
}

TEST_F(ImporterTest, LifetimeIsRenewedOnlyInItsSecondHalf) {
  ImportOptions o{.source = "cert", .valid_for_ns = 30 * kDay, .now = At("2026-01-01T00:00:00Z")};
  ASSERT_EQ(Import(ParsePlain("192.0.2.1\n"), o).added, 1);
  std::string id = IndicatorId(SourceIdentityId("cert"), "[ipv4-addr:value = '192.0.2.1']");
  o.now = At("2026-01-14T00:00:00Z");  // 17 days left of 30: unchanged
  EXPECT_EQ(Import(ParsePlain("192.0.2.1\n"), o).unchanged, 1);
  EXPECT_EQ(Versions(id).size(), 1u);
  o.now = At("2026-01-20T00:00:00Z");  // 11 days left: renewed
  EXPECT_EQ(Import(ParsePlain("192.0.2.1\n"), o).updated, 1);
  auto v = Versions(id);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(Prop(v[1], "valid_until"), "\"2026-02-19T00:00:00.000000Z\"");
  EXPECT_EQ(Prop(v[1], "valid_from"), "\"2026-01-01T00:00:00.000000Z\"");
  o.now = At("2026-06-01T00:00:00Z");  // long expired, back in the feed: renewed
  EXPECT_EQ(Import(ParsePlain("192.0.2.1\n"), o).updated, 1);
}

TEST_F(ImporterTest, RevokedIndicatorsStayRevoked) {
  ImportOptions o{.source = "cert", .now = At("2026-01-01T00:00:00Z")};
  ASSERT_EQ(Import(ParsePlain("evil.example\n"), o).added, 1);
  std::string id = IndicatorId(SourceIdentityId("cert"), "[domain-name:value = 'evil.example']");
  // An analyst revokes it (a new version with revoked: true).
  std::string v1 = Versions(id)[0];
  std::string revoked = v1.substr(0, v1.size() - 1) + ",\"revoked\":true}";
  size_t m = revoked.find("\"modified\":\"2026-01-01");
  revoked.replace(m + 12, 10, "2026-01-02");
  std::vector<std::string_view> objs{revoked};
  ASSERT_EQ(ingest::IngestObjects(*store_, kCol, objs, stix::DefaultVersion::kInfer)->added, 1);
  o.confidence = 99;  // a changed property would make a new version...
  o.now = At("2026-01-03T00:00:00Z");
  ImportReport r = Import(ParsePlain("evil.example\n"), o);
  EXPECT_EQ(r.updated, 0);  // ...but not of a revoked indicator
  ASSERT_EQ(r.skips.size(), 1u);
  EXPECT_EQ(r.skips[0].reason, "revoked in the store");
  EXPECT_EQ(Versions(id).size(), 2u);
}

TEST_F(ImporterTest, WarningListHitsAreReportedAndImported) {
  auto rfc = ParseWarningList(ReadFile(SharedData("misp/warninglists/rfc1918.json")));
  auto dyn = ParseWarningList(ReadFile(SharedData("misp/warninglists/dynamic-dns.json")));
  WarningLists w = WarningLists::Build({*rfc, *dyn});
  ImportReport r = Import(ParsePlain("10.0.0.0/8\n192.0.2.1\nfoo.duckdns.org\nevil.example\n"),
                          {.source = "s", .now = At("2026-01-01T00:00:00Z")}, w);
  EXPECT_EQ(r.added, 4);
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_EQ(r.warnings[0].where, "line 1");
  EXPECT_EQ(r.warnings[0].hit.list, "List of RFC 1918 CIDR blocks");
  EXPECT_EQ(r.warnings[1].hit.entry, ".duckdns.org");
}

TEST_F(ImporterTest, DuplicatesAndRejectionsAreReported) {
  ImportReport r = Import(ParsePlain("evil.example\nEVIL.example.\nbad..example\n"),
                          {.source = "s", .now = At("2026-01-01T00:00:00Z")});
  EXPECT_EQ(r.added, 1);
  EXPECT_EQ(r.skipped, 1);
  EXPECT_EQ(r.skips[0].reason, "duplicate of line 1");
  EXPECT_EQ(r.rejected, 1);
  EXPECT_EQ(r.rejections[0].where, "line 3");
  auto bad = ImportCandidates(*store_, kCol, ParsePlain("x.example\n"), {.source = " "}, WarningLists());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("source"));
  EXPECT_EQ(*store_->CountObjects(kCol), 2);
}

TEST_F(ImporterTest, ManySlicesReportInInputOrder) {
  // More lines than one write slice; written in id order, reported in line order.
  auto rfc = ParseWarningList(ReadFile(SharedData("misp/warninglists/rfc1918.json")));
  WarningLists w = WarningLists::Build({*rfc});
  constexpr int kLines = 20000;
  std::string text;
  std::vector<int> private_lines = {100, 9000, 19999}, duplicate_lines = {50, 12000, 17000};
  for (int line = 1; line <= kLines; ++line) {
    if (std::find(private_lines.begin(), private_lines.end(), line) != private_lines.end()) {
      text += "10.1." + std::to_string(line / 256) + "." + std::to_string(line % 256) + "\n";
    } else if (std::find(duplicate_lines.begin(), duplicate_lines.end(), line) != duplicate_lines.end()) {
      text += "host7.example\n";  // line 7's value again
    } else {
      text += "host" + std::to_string(line) + ".example\n";
    }
  }
  ImportOptions o{.source = "bulk", .now = At("2026-01-01T00:00:00Z")};
  ImportReport r = Import(ParsePlain(text), o, w);
  EXPECT_EQ(r.added, kLines - 3);
  ASSERT_EQ(r.warnings.size(), 3u);
  for (size_t k = 0; k < 3; ++k) EXPECT_EQ(r.warnings[k].where, "line " + std::to_string(private_lines[k]));
  ASSERT_EQ(r.skips.size(), 3u);
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(r.skips[k].where, "line " + std::to_string(duplicate_lines[k]));
    EXPECT_EQ(r.skips[k].reason, "duplicate of line 7");
  }
  EXPECT_EQ(*store_->CountObjects(kCol), kLines - 3 + 1);  // and the source's identity
  // Every line's indicator is there, under its deterministic id.
  for (int line : {1, 7, 8192, 8193, 16384, 19998}) {
    std::string id = IndicatorId(r.identity_id, "[domain-name:value = 'host" + std::to_string(line) + ".example']");
    EXPECT_EQ(Versions(id).size(), 1u) << line;
  }
  ImportReport again = Import(ParsePlain(text), o, w);
  EXPECT_EQ(again.added, 0);
  EXPECT_EQ(again.unchanged, kLines - 3);
  EXPECT_EQ(*store_->CountObjects(kCol), kLines - 3 + 1);
}

TEST_F(ImporterTest, RealMispEventRoundTrip) {
  std::string text = ReadFile(SharedData("misp/events/pymisp/long_event.json"));
  auto p = ParseMispEvents(text, {});
  ASSERT_TRUE(p.ok());
  ImportOptions o{.source = "CIRCL", .tlp = stix::Tlp::kGreen, .now = At("2026-01-01T00:00:00Z")};
  ImportReport r = Import(std::move(*p), o);
  EXPECT_GT(r.added, 50);
  EXPECT_GT(r.skipped, 0);  // to_ids false
  // Every written indicator is valid STIX with the event's tlp:white outranked by --tlp green.
  store::ObjectQuery q{.collection = kCol, .types = {"indicator"}, .limit = 10000};
  auto page = store_->QueryObjects(q);
  for (const auto& obj : page->items) {
    EXPECT_TRUE(stix::ValidateObject(obj.bytes).ok());
    EXPECT_EQ(Prop(obj.bytes, "object_marking_refs"), "[\"" + std::string(stix::TlpMarkingId(stix::Tlp::kGreen)) + "\"]");
  }
  o.now = At("2026-01-02T00:00:00Z");
  ImportReport again = Import(*ParseMispEvents(text, {}), o);
  EXPECT_EQ(again.unchanged, r.added);
  EXPECT_EQ(again.added + again.updated, 0);
}

TEST_F(ImporterTest, EveryMappedMispTypeGivesAValidIndicator) {
  // One attribute per mapped type; the importer validates the pattern of every
  // object it writes, so a bad mapping would be a rejection.
  const std::vector<std::pair<std::string, std::string>> attrs = {
      {"ip-src", "198.51.100.1"}, {"ip-dst", "2001:db8::5"}, {"ip-dst", "198.51.100.0/24"},
      {"ip-src|port", "198.51.100.2|22"}, {"ip-dst|port", "2001:db8::6|443"}, {"domain", "evil.example"},
      {"hostname", "c2.evil.example"}, {"domain|ip", "www.evil.example|198.51.100.3"},
      {"url", "http://evil.example/a?b=c"}, {"uri", "https://evil.example/x"}, {"link", "https://ref.example/"},
      {"md5", std::string(32, 'a')}, {"sha1", std::string(40, 'b')}, {"sha256", std::string(64, 'c')},
      {"sha512", std::string(128, 'd')}, {"filename|md5", "a.exe|" + std::string(32, 'e')},
      {"filename|sha1", "b.dll|" + std::string(40, 'f')}, {"filename|sha256", "c d.exe|" + std::string(64, '1')},
      {"email-src", "a@evil.example"}, {"email-dst", "b@evil.example"}, {"email", "c@evil.example"},
      {"ja3-fingerprint-md5", std::string(32, '2')}, {"filename", "it's.exe"}, {"mutex", "Global\\x"},
      {"regkey", "HKLM\\Software\\Evil"}, {"user-agent", "Evil/1.0"}, {"ssdeep", "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C"},
      {"tlsh", "T1" + std::string(70, 'A')}, {"sha3-256", std::string(64, '3')}, {"email-subject", "Invoice"},
      {"mac-address", "00:11:22:33:44:55"}, {"AS", "AS64500"}, {"x509-fingerprint-sha1", std::string(40, '4')}};
  std::string event = R"({"Event":{"uuid":"e","Attribute":[)";
  for (size_t i = 0; i < attrs.size(); ++i) {
    if (i) event += ',';
    event += R"({"uuid":"a)" + std::to_string(i) + R"(","to_ids":true,"type":)";
    AppendJsonString(event, attrs[i].first);
    event += ",\"value\":";
    AppendJsonString(event, attrs[i].second);
    event += '}';
  }
  event += "]}}";
  auto p = ParseMispEvents(event, {});
  ASSERT_TRUE(p.ok()) << p.status();
  for (const auto& r : p->rejected) ADD_FAILURE() << r.where << " " << r.value << ": " << r.reason;
  ImportReport r = Import(std::move(*p), {.source = "types", .now = At("2026-01-01T00:00:00Z")});
  for (const auto& x : r.rejections) ADD_FAILURE() << x.where << " " << x.value << ": " << x.reason;
  EXPECT_EQ(r.added, static_cast<int>(attrs.size()));
}

// The importer admits the indicators it builds without parsing them back
// (AdmitBuilt): what it tells the store about each one must be exactly what
// validation reads from its bytes. Checked on every stored row's columns, for
// new versions and updates, across MISP (tags, TLP, comments), CSV (labels,
// descriptions, first_seen) and plain lists, with confidence and TLP options,
// and the sources' identities.
TEST_F(ImporterTest, BuiltObjectsAreWhatValidationReads) {
  auto misp = ParseMispEvents(ReadFile(SharedData("misp/events/pymisp/long_event.json")), {});
  ASSERT_TRUE(misp.ok());
  Import(std::move(*misp), {.source = "CIRCL", .confidence = 70, .now = At("2026-01-01T00:00:00Z")});
  const std::string csv = "value,type,first_seen,labels,description\n"
                          "evil.example,domain,2025-12-01T10:00:00Z,phishing;bank,\"a \"\"quoted\"\" note\"\n"
                          "198.51.100.7,ip,,c2,\n"
                          "https://evil.example/x?y=1,url,2025-12-02T00:00:00.5Z,,é ü\n";
  auto rows = ParseCsv(csv, {.columns = "value=value,type=type,first_seen=first_seen,labels=labels,"
                                        "description=description"});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ImportOptions o{.source = "csv", .tlp = stix::Tlp::kAmber, .now = At("2026-01-01T00:00:00.123456789Z")};
  Import(*rows, o);
  Import(ParsePlain("a.example\n203.0.113.0/24\n" + std::string(64, 'c') + "\n"), {.source = "plain"});
  // Updates: a new lifetime half-way through the old one rewrites every CSV indicator.
  o.now = At("2026-01-20T00:00:00Z");
  o.labels = {"renewed"};
  ImportReport again = Import(*rows, o);
  EXPECT_EQ(again.updated, 3);

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "cordon.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT id,type,spec_version,version_ns,version_digits,revoked,confidence,tlp,"
                                   "marking_refs,bytes FROM objects", -1, &q, nullptr),
            SQLITE_OK);
  int checked = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    auto text = [&](int col) { return std::string(reinterpret_cast<const char*>(sqlite3_column_text(q, col))); };
    const std::string bytes(static_cast<const char*>(sqlite3_column_blob(q, 9)), sqlite3_column_bytes(q, 9));
    stix::Validated v = stix::ValidateObject(bytes);
    ASSERT_TRUE(v.ok()) << bytes;
    SCOPED_TRACE(v.info.id);
    EXPECT_EQ(text(0), v.info.id);
    EXPECT_EQ(text(1), v.info.type);
    EXPECT_EQ(text(2), "2.1");
    EXPECT_EQ(sqlite3_column_int64(q, 3), v.info.version().ns);
    EXPECT_EQ(sqlite3_column_int(q, 4), v.info.version().frac_digits);
    EXPECT_EQ(sqlite3_column_int(q, 5), v.info.revoked ? 1 : 0);
    if (v.info.confidence) EXPECT_EQ(sqlite3_column_int(q, 6), *v.info.confidence);
    else EXPECT_EQ(sqlite3_column_type(q, 6), SQLITE_NULL);
    EXPECT_EQ(sqlite3_column_int(q, 7), static_cast<int>(v.info.tlp));
    std::string refs = "[";
    for (const std::string& r : v.info.object_marking_refs) refs += (refs.size() > 1 ? ",\"" : "\"") + r + "\"";
    EXPECT_EQ(text(8), refs + "]");
    ++checked;
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  EXPECT_GT(checked, 60);
}

// What building can get wrong is caught before the store: a pattern that
// does not parse and text that is not UTF-8 are rejections with reasons.
TEST_F(ImporterTest, BuiltObjectsWithABadPatternOrBytesAreRejected) {
  Parsed p = ParsePlain("ok.example\n");
  Candidate bad_pattern = p.items[0];
  bad_pattern.where = "line 2";
  bad_pattern.pattern = "[domain-name:value = 'x'";
  Candidate bad_bytes = p.items[0];
  bad_bytes.where = "line 3";
  bad_bytes.value = "latin1.example";
  bad_bytes.pattern = "[domain-name:value = 'latin1.example']";
  bad_bytes.description = "caf\xe9";
  p.items.push_back(bad_pattern);
  p.items.push_back(bad_bytes);
  ImportReport r = Import(std::move(p), {.source = "s"});
  EXPECT_EQ(r.added, 1);
  ASSERT_EQ(r.rejected, 2);
  EXPECT_EQ(r.rejections[0].where, "line 2");
  EXPECT_THAT(r.rejections[0].reason, HasSubstr("pattern: invalid STIX pattern"));
  EXPECT_EQ(r.rejections[1].where, "line 3");
  EXPECT_THAT(r.rejections[1].reason, HasSubstr("not valid UTF-8"));
  EXPECT_EQ(*store_->CountObjects(kCol), 2);  // the identity and ok.example
}

TEST(ImportOptionsTest, DurationsAndTlp) {
  EXPECT_EQ(*ParseDuration("30d"), 30 * kDay);
  EXPECT_EQ(*ParseDuration("12h"), kDay / 2);
  EXPECT_EQ(*ParseDuration("7"), 7 * kDay);
  EXPECT_FALSE(ParseDuration("0d").ok());
  EXPECT_FALSE(ParseDuration("-3d").ok());
  EXPECT_FALSE(ParseDuration("3y").ok());
  EXPECT_EQ(*ParseTlp("TLP:AMBER+STRICT"), stix::Tlp::kAmberStrict);
  EXPECT_EQ(*ParseTlp("white"), stix::Tlp::kClear);
  EXPECT_FALSE(ParseTlp("purple").ok());
}

}  // namespace
}  // namespace cordon::feeds
