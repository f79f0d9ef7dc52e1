// decide block|monitor|allow|list|revoke, and export FORMAT: decisions and the
// enforcement exports that follow from them.
#include <malloc.h>

#include <csignal>
#include <iostream>
#include <unordered_set>

#include "base/strings.h"

#include "audit/audit_log.h"
#include "base/json_writer.h"
#include "cli/common.h"
#include "decide/decide.h"
#include "export/run.h"
#include "feeds/warninglist.h"

namespace cordon::cli {
namespace {

Result<std::unique_ptr<decide::DecisionStore>> OpenDecisions(const std::string& data) {
  if (!fs::exists(DbPath(data))) {
    return absl::NotFoundError("no cordon store in '" + data + "' (run: cordon init --data " + data + ")");
  }
  return decide::DecisionStore::Open((fs::path(data) / "decisions.db").string());
}

// Records a decision event in the node's audit trail (DATA/audit.log), beside
// the decision store's own history.
Status AuditDecision(const std::string& data, const std::string& actor, const std::string& event,
                     const decide::Decision& d) {
  auto log = audit::AuditLog::Open(audit::AuditLogPath(data), {.sync_interval_ms = 0});
  if (!log.ok()) return log.status();
  std::string details = "{\"decision\":" + std::to_string(d.id) + ",\"action\":";
  AppendJsonString(details, decide::ActionName(d.action));
  details += ",\"scope\":";
  AppendJsonString(details, decide::ScopeName(d.scope));
  details += ",\"policy\":";
  AppendJsonString(details, decide::FormatPolicy(d.policy));
  details += ",\"subdomains\":";
  details += d.subdomains ? "true" : "false";
  details += ",\"reason\":";
  AppendJsonString(details, event == "decision.revoke" ? d.revoke_reason : d.reason);
  if (d.expires) {
    details += ",\"expires\":";
    AppendJsonString(details, FormatTimestamp(*d.expires, 0));
  }
  details += "}";
  return (*log)->Append(actor, event, {d.target}, details);
}

struct DecideOptions {
  std::string data, indicator, source, collection, reason, author, expires, for_duration, policy = "nxdomain";
  bool subdomains = false, all = false;
  int64_t id = 0;
  std::string format, output, reload;
  bool watch = false;
  std::string xfr, zone = "rpz.local";
  std::vector<std::string> notify, xfr_allow;
};

void PrintDecision(Context& c, const decide::Decision& d, Timestamp now) {
  c.out << d.id << "  " << decide::ActionName(d.action) << "  " << decide::ScopeName(d.scope) << " " << d.target;
  if (d.action == decide::Action::kBlock) {
    c.out << "  policy " << decide::FormatPolicy(d.policy) << (d.subdomains ? " +subdomains" : "");
  }
  c.out << "  by " << d.author << " at " << FormatTimestamp(d.created, 0);
  if (d.expires) c.out << "  expires " << FormatTimestamp(*d.expires, 0);
  if (d.revoked) {
    c.out << "  REVOKED at " << FormatTimestamp(*d.revoked, 0) << " by " << d.revoked_by;
    if (!d.revoke_reason.empty()) c.out << " (" << d.revoke_reason << ")";
  } else if (!d.InForce(now)) {
    c.out << "  EXPIRED";
  }
  c.out << "  reason: " << d.reason << "\n";
}

int Decide(Context& c, decide::Action action, const DecideOptions& o) {
  decide::Decision d;
  d.action = action;
  int targets = !o.indicator.empty() + !o.source.empty() + !o.collection.empty();
  if (targets != 1) {
    return c.Fail(absl::InvalidArgumentError("give exactly one of --indicator, --source, --collection"));
  }
  if (!o.indicator.empty()) d.scope = decide::Scope::kIndicator, d.target = o.indicator;
  if (!o.source.empty()) d.scope = decide::Scope::kSource, d.target = o.source;
  if (!o.collection.empty()) d.scope = decide::Scope::kCollection, d.target = o.collection;
  d.reason = o.reason;
  d.author = o.author;
  if (!o.expires.empty()) {
    auto t = ParseTimestamp(o.expires);
    if (!t.ok()) return c.Fail(absl::InvalidArgumentError("--expires: " + std::string(t.status().message())));
    d.expires = *t;
  } else if (!o.for_duration.empty()) {
    auto dur = decide::ParseDuration(o.for_duration);
    if (!dur.ok()) return c.Fail(absl::InvalidArgumentError("--for: " + std::string(dur.status().message())));
    d.expires = Timestamp{Now().ns + *dur};
  }
  auto policy = decide::ParsePolicy(o.policy);
  if (!policy.ok()) return c.Fail(policy.status());
  d.policy = *policy;
  d.subdomains = o.subdomains;
  auto store = OpenDecisions(o.data);
  if (!store.ok()) return c.Fail(store.status());
  auto added = (*store)->Add(d);
  if (!added.ok()) return c.Fail(added.status());
  if (auto s = AuditDecision(o.data, added->author, "decision." + std::string(decide::ActionName(d.action)), *added);
      !s.ok()) {
    return c.Fail(absl::Status(s.code(), "decision " + std::to_string(added->id) +
                                             " stored, but not in the audit trail: " + std::string(s.message())));
  }
  c.out << "decision ";
  PrintDecision(c, *added, Now());
  return 0;
}

int List(Context& c, const DecideOptions& o) {
  auto store = OpenDecisions(o.data);
  if (!store.ok()) return c.Fail(store.status());
  Timestamp now = Now();
  auto all = (*store)->List();
  if (!all.ok()) return c.Fail(all.status());
  for (const auto& d : *all) {
    if (o.all || d.InForce(now)) PrintDecision(c, d, now);
  }
  return 0;
}

int Revoke(Context& c, const DecideOptions& o) {
  auto store = OpenDecisions(o.data);
  if (!store.ok()) return c.Fail(store.status());
  auto d = (*store)->Revoke(o.id, o.author, o.reason);
  if (!d.ok()) return c.Fail(d.status());
  if (auto s = AuditDecision(o.data, o.author, "decision.revoke", *d); !s.ok()) {
    return c.Fail(absl::Status(s.code(), "decision " + std::to_string(d->id) +
                                             " revoked, but not in the audit trail: " + std::string(s.message())));
  }
  c.out << "revoked ";
  PrintDecision(c, *d, Now());
  return 0;
}

std::atomic<bool> g_stop{false};
void OnStopSignal(int) { g_stop.store(true); }

int Export(Context& c, const DecideOptions& o) {
  auto format = exporter::ParseFormat(o.format);
  if (!format.ok()) return c.Fail(format.status());
  if (o.watch && o.output.empty()) return c.Fail(absl::InvalidArgumentError("--watch needs --output"));
  if (!o.xfr.empty() && (*format != exporter::Format::kRpz || !o.watch)) {
    return c.Fail(absl::InvalidArgumentError("--xfr serves an RPZ zone: give it with 'export rpz --watch'"));
  }
  auto st = OpenExisting(o.data);
  if (!st.ok()) return c.Fail(st.status());
  auto decisions = OpenDecisions(o.data);
  if (!decisions.ok()) return c.Fail(decisions.status());
  auto lists = feeds::WarningLists::Load(o.data);
  if (!lists.ok()) return c.Fail(lists.status());
  auto shared_lists = std::make_shared<feeds::WarningLists>(std::move(*lists));
  // Every proper ancestor of a listed host name: blocking the subtree of one
  // of these would block a known-good name below it.
  auto ancestors = std::make_shared<std::unordered_set<std::string>>();
  auto stored = feeds::ListStored(o.data);
  if (!stored.ok()) return c.Fail(stored.status());
  for (const auto& sl : *stored) {
    const auto& wl = sl.list;
    bool domains = wl.kinds & (1u << static_cast<int>(feeds::ValueKind::kDomain));
    if (!domains || (wl.type != feeds::ListType::kHostname && wl.type != feeds::ListType::kString)) continue;
    for (const auto& entry : wl.entries) {
      std::string name = ToLower(Trim(entry));
      while (!name.empty() && name.front() == '.') name.erase(0, 1);
      for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) {
        ancestors->insert(name.substr(dot + 1));
      }
    }
  }
  exporter::RunOptions ro;
  ro.format = *format;
  ro.output = o.output;
  ro.reload_command = o.reload;
  ro.rpz_zone = o.zone;
  if (!shared_lists->empty()) {
    ro.warning = [shared_lists, ancestors](exporter::Entry::Kind kind, std::string_view value,
                                           bool subtree) -> std::optional<std::string> {
      feeds::ValueKind k = feeds::ValueKind::kDomain;
      switch (kind) {
        case exporter::Entry::Kind::kDomain:
        case exporter::Entry::Kind::kDomainSuffix: k = feeds::ValueKind::kDomain; break;
        case exporter::Entry::Kind::kIp: k = feeds::ValueKind::kIp; break;
        case exporter::Entry::Kind::kCidr: k = feeds::ValueKind::kCidr; break;
        case exporter::Entry::Kind::kUrl: k = feeds::ValueKind::kUrl; break;
        case exporter::Entry::Kind::kEmail: k = feeds::ValueKind::kEmail; break;
        case exporter::Entry::Kind::kHash: k = feeds::ValueKind::kHash; break;
      }
      if (auto hit = shared_lists->Check(k, value)) return hit->list;
      if (subtree && ancestors->contains(std::string(value))) return std::string("a listed name below it");
      return std::nullopt;
    };
  }
  std::unique_ptr<dns::XfrServer> xfr;
  if (!o.xfr.empty()) {
    auto server = dns::XfrServer::Start({.origin = o.zone, .listen = o.xfr, .notify = o.notify, .allow = o.xfr_allow,
                                         .log = [&c](const std::string& line) { c.err << "cordon export: " << line << std::endl; }});
    if (!server.ok()) return c.Fail(server.status());
    xfr = std::move(*server);
    ro.xfr = xfr.get();
    c.err << "cordon export: serving zone " << o.zone << " by zone transfer on " << o.xfr << std::endl;
  }
  exporter::Exporter ex(**st, **decisions, ro);
  if (o.watch) {
    // Each export allocates and frees buffers of the zone's size (95 MB for 1M
    // entries). Left to mmap, every one comes back as fresh pages the kernel
    // must fault in and zero (a third of a re-export's time); kept in the heap,
    // the next export reuses them.
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    std::signal(SIGINT, OnStopSignal);
    std::signal(SIGTERM, OnStopSignal);
    c.err << "cordon export: watching " << o.data << " -> " << o.output << std::endl;
    auto s = ex.Watch(g_stop, c.err);
    return s.ok() ? 0 : c.Fail(s);
  }
  auto r = ex.ExportOnce(c.out);
  if (!r.ok()) return c.Fail(r.status());
  const auto& s = r->stats;
  c.err << o.format << " " << (o.output.empty() ? "(stdout)" : o.output) << ": " << r->entries << " entries from "
        << s.blocked << " blocked indicators (" << s.indicators << " examined; not reducible " << s.not_reducible
        << ", revoked/expired " << s.expired << ", warning-listed values " << s.warning_listed
        << ", allowed values " << s.allowed << "), serial " << r->serial << (r->written ? "" : " (unchanged)")
        << "\n";
  return 0;
}

}  // namespace

void AddDecideCommands(Registrar& r) {
  auto o = std::make_shared<DecideOptions>();
  Context& c = r.c;
  auto& action = r.action;

  auto* decide = r.app.add_subcommand("decide", "record, list and revoke block/monitor/allow decisions");
  decide->require_subcommand(1);
  for (decide::Action a : {decide::Action::kBlock, decide::Action::kMonitor, decide::Action::kAllow}) {
    auto* cmd = decide->add_subcommand(std::string(decide::ActionName(a)),
                                       std::string(decide::ActionName(a)) + " an indicator, a source or a collection");
    AddDataOption(cmd, o->data);
    auto* ind = cmd->add_option("--indicator", o->indicator, "an indicator id");
    auto* src = cmd->add_option("--source", o->source, "a source: the identity id of created_by_ref");
    auto* col = cmd->add_option("--collection", o->collection, "a collection id");
    ind->excludes(src)->excludes(col);
    src->excludes(col);
    cmd->add_option("--reason", o->reason, "why")->required();
    cmd->add_option("--author", o->author, "who decides")->required();
    auto* exp = cmd->add_option("--expires", o->expires, "end of the decision (RFC 3339, e.g. 2026-12-01T00:00:00Z)");
    cmd->add_option("--for", o->for_duration, "duration of the decision (e.g. 30m, 12h, 7d)")->excludes(exp);
    cmd->add_option("--policy", o->policy, "DNS answer for blocked names: nxdomain, nodata, cname:NAME")
        ->capture_default_str();
    cmd->add_flag("--subdomains", o->subdomains, "block the whole subtree below blocked domains");
    cmd->callback([o, &c, &action, a] { action = [o, &c, a] { return Decide(c, a, *o); }; });
  }
  auto* list = decide->add_subcommand("list", "decisions in force (--all: the whole history)");
  AddDataOption(list, o->data);
  list->add_flag("--all", o->all, "include revoked and expired decisions");
  list->callback([o, &c, &action] { action = [o, &c] { return List(c, *o); }; });
  auto* revoke = decide->add_subcommand("revoke", "end a decision (kept in the history)");
  AddDataOption(revoke, o->data);
  revoke->add_option("ID", o->id, "decision id (from decide list)")->required();
  o->author = std::getenv("USER") ? std::getenv("USER") : "cli";
  revoke->add_option("--author", o->author, "who revokes")->capture_default_str();
  revoke->add_option("--reason", o->reason, "why");
  revoke->callback([o, &c, &action] { action = [o, &c] { return Revoke(c, *o); }; });

  auto* exp = r.app.add_subcommand("export", "render blocked indicators for enforcement points");
  exp->add_option("FORMAT", o->format, "rpz, suricata, zeek, nftables, csv, plain or stix")->required();
  AddDataOption(exp, o->data);
  exp->add_option("--output", o->output, "file to replace atomically (default: standard output)");
  exp->add_flag("--watch", o->watch, "keep the output current: re-export within a second of any change");
  exp->add_option("--reload", o->reload, "command run after each change of the output (sh -c)");
  exp->add_option("--xfr", o->xfr,
                  "rpz --watch: also serve the zone to secondaries by AXFR/IXFR on ADDRESS:PORT (UDP and TCP)");
  exp->add_option("--zone", o->zone, "rpz: the zone's name at the resolvers (names that would not fit under it are left out)")
      ->capture_default_str();
  exp->add_option("--notify", o->notify, "--xfr: send NOTIFY to this secondary (ADDRESS:PORT) after each change; repeatable");
  exp->add_option("--xfr-allow", o->xfr_allow,
                  "--xfr: a further address allowed to transfer the zone (loopback and --notify ones are); repeatable");
  exp->callback([o, &c, &action] { action = [o, &c] { return Export(c, *o); }; });
}

}  // namespace cordon::cli
