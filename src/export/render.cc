// Render(): one writer per format. Each appends to one std::string (1M
// entries render in a few hundred milliseconds) and depends only on the set,
// so output is deterministic.
#include <algorithm>
#include <charconv>
#include <tuple>
#include <unordered_set>

#include "base/json_writer.h"
#include "base/uuid.h"
#include "export/export.h"

namespace cordon::exporter {
namespace {

using decide::Decision;
using decide::Policy;

const Decision& DecisionOf(const ExportSet& set, const Entry& e) { return *set.indicators[e.indicator].decision; }
const std::string& IndicatorId(const ExportSet& set, const Entry& e) { return set.indicators[e.indicator].id; }

// Free text in one-line formats: no tabs, newlines or the format's separator.
std::string OneLine(std::string_view s, char also = '\t') {
  std::string out(s);
  for (char& c : out) {
    if (c == '\t' || c == '\n' || c == '\r' || c == also) c = ' ';
  }
  return out;
}

// --- RPZ ---

// "1.2.3.4" -> "32.4.3.2.1"; "10.0.0.0/8" -> "8.0.0.0.10"; IPv6 in the
// reversed 16-bit-group form with "zz" for the longest run of zero groups
// (draft-vixie-dnsop-dns-rpz: 128.1.zz.db8.2001 for 2001:db8::1).
std::string RpzIpLabel(const Entry& e) {
  std::string_view v = e.value;
  int length = e.ipv6 ? 128 : 32;
  if (size_t slash = v.find('/'); slash != std::string_view::npos) {
    std::from_chars(v.data() + slash + 1, v.data() + v.size(), length);
    v = v.substr(0, slash);
  }
  std::string out = std::to_string(length);
  if (!e.ipv6) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (size_t i = 0; i <= v.size(); ++i) {
      if (i == v.size() || v[i] == '.') {
        parts.push_back(v.substr(start, i - start));
        start = i + 1;
      }
    }
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) (out += '.') += *it;
    return out;
  }
  // Expand to 8 groups, then compress the longest zero run (RFC 5952 rules).
  std::vector<std::string> groups;
  std::vector<std::string> head, tail;
  size_t dc = v.find("::");
  auto split = [](std::string_view s, std::vector<std::string>& into) {
    size_t start = 0;
    if (s.empty()) return;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (i == s.size() || s[i] == ':') {
        into.emplace_back(s.substr(start, i - start));
        start = i + 1;
      }
    }
  };
  if (dc == std::string_view::npos) {
    split(v, head);
  } else {
    split(v.substr(0, dc), head);
    split(v.substr(dc + 2), tail);
  }
  groups = head;
  for (size_t i = head.size() + tail.size(); i < 8; ++i) groups.push_back("0");
  groups.insert(groups.end(), tail.begin(), tail.end());
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != "0") {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && groups[j] == "0") ++j;
    if (j - i > best_len && j - i >= 2) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  for (int i = 7; i >= 0; --i) {
    if (best_start >= 0 && i >= best_start && i < best_start + best_len) {
      if (i == best_start) out += ".zz";
      continue;
    }
    (out += '.') += groups[i];
  }
  return out;
}

void AppendRpzAction(std::string& out, const Policy& p) {
  switch (p.kind) {
    case Policy::Kind::kNxdomain: out += "CNAME ."; break;
    case Policy::Kind::kNodata: out += "CNAME *."; break;
    case Policy::Kind::kCname: (out += "CNAME ") += p.cname, out += '.'; break;
  }
}

std::string RenderRpz(const ExportSet& set, std::string_view zone) {
  // A name's wire length is its text length + 2 (first label's length byte,
  // root); under the zone that is owner + 1 + zone + 2 bytes, at most 255.
  const size_t max_owner = zone.size() + 3 < 255 ? 255 - zone.size() - 3 : 0;
  std::string out;
  out.reserve(64 + set.entries.size() * 96);
  out += "; cordon RPZ export: blocked indicators (policy per decision). Names are relative to the zone.\n";
  out += "$TTL 60\n@ IN SOA localhost. hostmaster.localhost. ";
  out += kSerialToken;
  out += " 3600 600 86400 60\n@ IN NS localhost.\n";
  auto line = [&](std::string_view owner_prefix, std::string_view owner, const Entry& e) {
    if (owner_prefix.size() + owner.size() > max_owner) return;  // no such DNS name
    out += owner_prefix;
    out += owner;
    out += ' ';
    AppendRpzAction(out, DecisionOf(set, e).policy);
    out += " ; ";
    out += IndicatorId(set, e);
    out += " decision ";
    out += std::to_string(DecisionOf(set, e).id);
    out += '\n';
  };
  for (const Entry& e : set.entries) {
    switch (e.kind) {
      case Entry::Kind::kDomain:
        line("", e.value, e);
        if (DecisionOf(set, e).subdomains) line("*.", e.value, e);
        break;
      case Entry::Kind::kDomainSuffix: line("*.", e.value, e); break;
      case Entry::Kind::kIp:
      case Entry::Kind::kCidr: line(RpzIpLabel(e), ".rpz-ip", e); break;
      default: break;  // URLs, e-mail addresses and hashes are no DNS triggers
    }
  }
  return out;
}

// --- Suricata ---

// Stable rule ids: a hash of (rule kind, value) into [kSidBase, kSidBase +
// kSidRange), probing on collision; entries are handled in sorted order, so a
// value keeps its sid unless a colliding value sorts before it.
constexpr uint32_t kSidBase = 3'000'000'000u;  // above the ranges ET and Suricata's own rules use
constexpr uint32_t kSidRange = 1'000'000'000u;

uint64_t Fnv1a(std::string_view a, std::string_view b) {
  uint64_t h = 1469598103934665603ull;
  for (char c : a) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  h = (h ^ 0xff) * 1099511628211ull;
  for (char c : b) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return h;
}

class Sids {
 public:
  uint32_t Get(std::string_view kind, std::string_view value) {
    uint32_t sid = kSidBase + static_cast<uint32_t>(Fnv1a(kind, value) % kSidRange);
    while (!used_.insert(sid).second) sid = sid + 1 >= kSidBase + kSidRange ? kSidBase : sid + 1;
    return sid;
  }

 private:
  std::unordered_set<uint32_t> used_;
};

std::string RuleMsg(const ExportSet& set, const Entry& e, std::string_view what) {
  std::string msg = "cordon block " + std::string(what) + " " + e.value + " (" + IndicatorId(set, e) + ")";
  // Suricata msg: no double quotes or semicolons.
  for (char& c : msg) {
    if (c == '"' || c == ';' || c == '\\') c = ' ';
  }
  return msg;
}

std::vector<OutputFile> RenderSuricata(const ExportSet& set, const RenderOptions& opt) {
  std::vector<const Entry*> sorted;
  for (const Entry& e : set.entries) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) {
    return std::tie(a->kind, a->value) < std::tie(b->kind, b->value);
  });
  Sids sids;
  std::string rules = "# cordon Suricata export: blocked indicators. Needs Suricata >= 7 (ip.src/ip.dst datasets).\n";
  std::string v4, v6;
  static constexpr struct {
    const char* proto;
    const char* buffer;
    const char* what;
  } kDnsLike[] = {{"dns", "dns.query", "DNS query"}, {"tls", "tls.sni", "TLS SNI"}, {"http", "http.host", "HTTP host"}};
  for (const Entry* e : sorted) {
    switch (e->kind) {
      case Entry::Kind::kDomain:
      case Entry::Kind::kDomainSuffix: {
        bool subtree = e->kind == Entry::Kind::kDomainSuffix || DecisionOf(set, *e).subdomains;
        for (const auto& k : kDnsLike) {
          std::string match;
          if (e->kind == Entry::Kind::kDomainSuffix) {
            match = "dotprefix; content:\"." + e->value + "\"; nocase; endswith; bsize:>" +
                    std::to_string(e->value.size() + 1) + ";";
          } else if (subtree) {
            match = "dotprefix; content:\"." + e->value + "\"; nocase; endswith;";
          } else {
            match = "bsize:" + std::to_string(e->value.size()) + "; content:\"" + e->value + "\"; nocase;";
          }
          rules += "alert ";
          rules += k.proto;
          rules += " any any -> any any (msg:\"" + RuleMsg(set, *e, k.what) + "\"; " + k.buffer + "; " + match +
                   " metadata:cordon_indicator " + IndicatorId(set, *e) + "; sid:" +
                   std::to_string(sids.Get(k.buffer, (subtree ? "." : "") + e->value)) + "; rev:1;)\n";
        }
        break;
      }
      case Entry::Kind::kIp: ((e->ipv6 ? v6 : v4) += e->value) += '\n'; break;
      case Entry::Kind::kCidr:
        rules += "alert ip any any -> " + e->value + " any (msg:\"" + RuleMsg(set, *e, "network") +
                 "\"; metadata:cordon_indicator " + IndicatorId(set, *e) + "; sid:" +
                 std::to_string(sids.Get("cidr-dst", e->value)) + "; rev:1;)\n";
        rules += "alert ip " + e->value + " any -> any any (msg:\"" + RuleMsg(set, *e, "network") +
                 "\"; metadata:cordon_indicator " + IndicatorId(set, *e) + "; sid:" +
                 std::to_string(sids.Get("cidr-src", e->value)) + "; rev:1;)\n";
        break;
      default: break;
    }
  }
  // IP reputation through datasets (one rule per direction and family).
  for (const auto& [family, list] : {std::pair{"ipv4", &v4}, std::pair{"ipv6", &v6}}) {
    if (list->empty()) continue;
    std::string name = std::string("cordon-") + family;
    std::string file = opt.dataset_basename + "." + family + ".lst";
    for (const char* dir : {"ip.src", "ip.dst"}) {
      rules += std::string("alert ip any any -> any any (msg:\"cordon block ") + family + " " + dir + "\"; " + dir +
               "; dataset:isset," + name + ",type " + family + ",load " + file + "; sid:" +
               std::to_string(sids.Get(dir, name)) + "; rev:1;)\n";
    }
  }
  // Lists first: the rules never refer to a list not yet written.
  return {{".ipv4.lst", std::move(v4)}, {".ipv6.lst", std::move(v6)}, {"", std::move(rules)}};
}

// --- Zeek Intel ---

std::string RenderZeek(const ExportSet& set) {
  std::string out = "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n";
  for (const Entry& e : set.entries) {
    std::string_view type, value = e.value;
    switch (e.kind) {
      case Entry::Kind::kDomain: type = "Intel::DOMAIN"; break;
      case Entry::Kind::kDomainSuffix: continue;  // Intel has no subtree match
      case Entry::Kind::kIp: type = "Intel::ADDR"; break;
      case Entry::Kind::kCidr: type = "Intel::SUBNET"; break;
      case Entry::Kind::kUrl:
        type = "Intel::URL";  // Zeek's URLs carry no scheme
        if (size_t p = value.find("://"); p != std::string_view::npos) value.remove_prefix(p + 3);
        break;
      case Entry::Kind::kEmail: type = "Intel::EMAIL"; break;
      case Entry::Kind::kHash: type = "Intel::FILE_HASH"; break;
    }
    const auto& ind = set.indicators[e.indicator];
    const Decision& d = *ind.decision;
    out += value;
    out += '\t';
    out += type;
    out += "\tcordon";
    if (!ind.source.empty()) (out += ':') += ind.source;
    out += '\t';
    out += OneLine(ind.id + " block (decision " + std::to_string(d.id) + " by " + d.author + "): " + d.reason);
    out += "\t-\n";
  }
  return out;
}

// --- nftables ---

std::string RenderNftables(const ExportSet& set) {
  std::string v4, v6;
  for (const Entry& e : set.entries) {
    if (e.kind != Entry::Kind::kIp && e.kind != Entry::Kind::kCidr) continue;
    std::string& list = e.ipv6 ? v6 : v4;
    list += list.empty() ? "\n\t\t\t" : ",\n\t\t\t";
    list += e.value;
  }
  std::string out =
      "#!/usr/sbin/nft -f\n"
      "# cordon nftables export: blocked addresses and networks. Loading replaces the table inet cordon.\n"
      "table inet cordon\n"
      "delete table inet cordon\n"
      "table inet cordon {\n";
  for (const auto& [name, type, list] :
       {std::tuple{"block_ipv4", "ipv4_addr", &v4}, std::tuple{"block_ipv6", "ipv6_addr", &v6}}) {
    out += std::string("\tset ") + name + " {\n\t\ttype " + type + "\n\t\tflags interval\n\t\tauto-merge\n";
    if (!list->empty()) out += "\t\telements = {" + *list + "\n\t\t}\n";
    out += "\t}\n";
  }
  for (const auto& [chain, hook] : {std::pair{"forward", "forward"}, std::pair{"output", "output"}}) {
    out += std::string("\tchain ") + chain + " {\n\t\ttype filter hook " + hook +
           " priority filter; policy accept;\n"
           "\t\tip daddr @block_ipv4 drop\n\t\tip6 daddr @block_ipv6 drop\n"
           "\t\tip saddr @block_ipv4 drop\n\t\tip6 saddr @block_ipv6 drop\n\t}\n";
  }
  out += "}\n";
  return out;
}

// --- CSV and plain ---

void AppendCsvField(std::string& out, std::string_view v) {
  if (v.find_first_of(",\"\n\r") == std::string_view::npos) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string RenderCsv(const ExportSet& set) {
  std::string out = "type,value,policy,subdomains,indicator,source,collection,decision,author,reason,expires\n";
  for (const Entry& e : set.entries) {
    const auto& ind = set.indicators[e.indicator];
    const Decision& d = *ind.decision;
    std::string type = e.kind == Entry::Kind::kHash ? e.hash_algo : std::string(KindName(e.kind));
    for (std::string_view f : {std::string_view(type), std::string_view(e.value)}) {
      AppendCsvField(out, f);
      out += ',';
    }
    AppendCsvField(out, decide::FormatPolicy(d.policy));
    out += d.subdomains || e.kind == Entry::Kind::kDomainSuffix ? ",true," : ",false,";
    for (std::string_view f : {std::string_view(ind.id), std::string_view(ind.source), std::string_view(ind.collection)}) {
      AppendCsvField(out, f);
      out += ',';
    }
    out += std::to_string(d.id);
    out += ',';
    AppendCsvField(out, d.author);
    out += ',';
    AppendCsvField(out, d.reason);
    out += ',';
    if (d.expires) out += FormatTimestamp(*d.expires, 0);
    out += '\n';
  }
  return out;
}

std::string RenderPlain(const ExportSet& set) {
  std::string out;
  for (const Entry& e : set.entries) {
    if (e.kind == Entry::Kind::kDomainSuffix) out += "*.";
    out += e.value;
    out += '\n';
  }
  return out;
}

// --- STIX ---

// The exported indicators as stored, plus one note per block decision giving
// its context (action, scope, author, reason, policy, expiry) and referring to
// the indicators it made this export block.
std::string RenderStix(const ExportSet& set) {
  std::string objects;
  std::vector<std::vector<const std::string*>> by_decision(set.decisions.size());
  std::vector<bool> exported(set.indicators.size(), false);
  for (const Entry& e : set.entries) exported[e.indicator] = true;
  for (size_t i = 0; i < set.indicators.size(); ++i) {
    if (!exported[i]) continue;
    const auto& ind = set.indicators[i];
    if (!objects.empty()) objects += ',';
    objects += ind.bytes;
    size_t di = static_cast<size_t>(ind.decision - set.decisions.data());
    by_decision[di].push_back(&ind.id);
  }
  for (size_t di = 0; di < set.decisions.size(); ++di) {
    if (by_decision[di].empty()) continue;
    const Decision& d = set.decisions[di];
    std::string created = FormatTimestamp(Timestamp{d.created.ns - d.created.ns % 1'000'000}, 3);
    std::string content = std::string(decide::ActionName(d.action)) + " (" + std::string(decide::ScopeName(d.scope)) +
                          " " + d.target + ") by " + d.author + ": " + d.reason + "; policy " +
                          decide::FormatPolicy(d.policy) + (d.subdomains ? ", subdomains" : "") +
                          (d.expires ? "; expires " + FormatTimestamp(*d.expires, 0) : "");
    objects += ",{\"type\":\"note\",\"spec_version\":\"2.1\",\"id\":\"note--";
    objects += NewUuid5(kStixScoNamespace, "cordon-decision:" + std::to_string(d.id) + ":" + created);
    objects += "\",\"created\":\"" + created + "\",\"modified\":\"" + created + "\",\"abstract\":";
    AppendJsonString(objects, "cordon decision " + std::to_string(d.id) + ": " + std::string(decide::ActionName(d.action)));
    objects += ",\"content\":";
    AppendJsonString(objects, content);
    objects += ",\"authors\":[";
    AppendJsonString(objects, d.author);
    objects += "],\"object_refs\":[";
    for (size_t i = 0; i < by_decision[di].size(); ++i) {
      if (i) objects += ',';
      AppendJsonString(objects, *by_decision[di][i]);
    }
    objects += "]}";
  }
  std::string out = "{\"type\":\"bundle\",\"id\":\"bundle--";
  out += NewUuid5(kStixScoNamespace, "cordon-export:" + std::to_string(std::hash<std::string>{}(objects)));
  out += "\",\"objects\":[";
  out += objects;
  out += "]}\n";
  return out;
}

}  // namespace

std::string_view KindName(Entry::Kind k) {
  switch (k) {
    case Entry::Kind::kDomain: return "domain";
    case Entry::Kind::kDomainSuffix: return "domain-suffix";
    case Entry::Kind::kIp: return "ip";
    case Entry::Kind::kCidr: return "cidr";
    case Entry::Kind::kUrl: return "url";
    case Entry::Kind::kEmail: return "email";
    case Entry::Kind::kHash: return "hash";
  }
  return "?";
}

Result<Format> ParseFormat(std::string_view name) {
  for (Format f : {Format::kRpz, Format::kSuricata, Format::kZeek, Format::kNftables, Format::kCsv, Format::kPlain,
                   Format::kStix}) {
    if (FormatName(f) == name) return f;
  }
  return absl::InvalidArgumentError("unknown export format '" + std::string(name) +
                                    "' (rpz, suricata, zeek, nftables, csv, plain, stix)");
}

std::string_view FormatName(Format f) {
  switch (f) {
    case Format::kRpz: return "rpz";
    case Format::kSuricata: return "suricata";
    case Format::kZeek: return "zeek";
    case Format::kNftables: return "nftables";
    case Format::kCsv: return "csv";
    case Format::kPlain: return "plain";
    case Format::kStix: return "stix";
  }
  return "?";
}

std::vector<OutputFile> Render(Format format, const ExportSet& set, const RenderOptions& options) {
  switch (format) {
    case Format::kRpz: return {{"", RenderRpz(set, options.rpz_zone)}};
    case Format::kSuricata: return RenderSuricata(set, options);
    case Format::kZeek: return {{"", RenderZeek(set)}};
    case Format::kNftables: return {{"", RenderNftables(set)}};
    case Format::kCsv: return {{"", RenderCsv(set)}};
    case Format::kPlain: return {{"", RenderPlain(set)}};
    case Format::kStix: return {{"", RenderStix(set)}};
  }
  return {};
}

}  // namespace cordon::exporter
