#include "decide/decide.h"

#include <charconv>

#include "base/strings.h"
#include "base/uuid.h"
#include "normalize/normalize.h"
#include "store/sqlite/db.h"

namespace cordon::decide {
namespace {

using sqlite::BindText;
using sqlite::ColumnText;
using sqlite::Done;
using sqlite::Step;

constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE decisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  action TEXT NOT NULL,
  scope TEXT NOT NULL,
  target TEXT NOT NULL,
  reason TEXT NOT NULL,
  author TEXT NOT NULL,
  created_ns INTEGER NOT NULL,
  expires_ns INTEGER,
  policy TEXT NOT NULL,
  subdomains INTEGER NOT NULL,
  revoked_ns INTEGER,
  revoked_by TEXT NOT NULL DEFAULT '',
  revoke_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX decisions_target ON decisions(target);
-- Every change (decision or revocation) appends one row: the history, and
-- max(seq) is the version exports poll.
CREATE TABLE history (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ns INTEGER NOT NULL,
  decision INTEGER NOT NULL REFERENCES decisions(id),
  event TEXT NOT NULL,
  author TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE TABLE export_serials (
  output TEXT PRIMARY KEY,
  serial INTEGER NOT NULL,
  digest TEXT NOT NULL
);
)sql",
};

constexpr const char* kColumns =
    "SELECT id,action,scope,target,reason,author,created_ns,expires_ns,policy,subdomains,revoked_ns,revoked_by,"
    "revoke_reason FROM decisions";

Result<Scope> ParseScope(std::string_view s) {
  if (s == "indicator") return Scope::kIndicator;
  if (s == "source") return Scope::kSource;
  if (s == "collection") return Scope::kCollection;
  return absl::InternalError("decisions.db: unknown scope '" + std::string(s) + "'");
}

Result<Decision> ReadRow(sqlite3_stmt* s) {
  Decision d;
  d.id = sqlite3_column_int64(s, 0);
  CORDON_ASSIGN_OR_RETURN(d.action, ParseAction(ColumnText(s, 1)));
  CORDON_ASSIGN_OR_RETURN(d.scope, ParseScope(ColumnText(s, 2)));
  d.target = ColumnText(s, 3);
  d.reason = ColumnText(s, 4);
  d.author = ColumnText(s, 5);
  d.created = Timestamp{sqlite3_column_int64(s, 6), 0};
  if (sqlite3_column_type(s, 7) != SQLITE_NULL) d.expires = Timestamp{sqlite3_column_int64(s, 7), 0};
  CORDON_ASSIGN_OR_RETURN(d.policy, ParsePolicy(ColumnText(s, 8)));
  d.subdomains = sqlite3_column_int(s, 9) != 0;
  if (sqlite3_column_type(s, 10) != SQLITE_NULL) d.revoked = Timestamp{sqlite3_column_int64(s, 10), 0};
  d.revoked_by = ColumnText(s, 11);
  d.revoke_reason = ColumnText(s, 12);
  return d;
}

Status CheckTarget(Scope scope, const std::string& target) {
  auto check_stix_id = [&](std::string_view type) -> Status {
    std::string prefix = std::string(type) + "--";
    if (!target.starts_with(prefix) || !IsUuid(std::string_view(target).substr(prefix.size()))) {
      return absl::InvalidArgumentError("'" + target + "' is not a STIX " + std::string(type) + " id (" + prefix +
                                        "<uuid>)");
    }
    return absl::OkStatus();
  };
  switch (scope) {
    case Scope::kIndicator: return check_stix_id("indicator");
    case Scope::kSource: return check_stix_id("identity");
    case Scope::kCollection:
      if (!IsUuid(target)) return absl::InvalidArgumentError("'" + target + "' is not a collection id (a UUID)");
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kBlock: return "block";
    case Action::kMonitor: return "monitor";
    case Action::kAllow: return "allow";
  }
  return "?";
}

std::string_view ScopeName(Scope s) {
  switch (s) {
    case Scope::kIndicator: return "indicator";
    case Scope::kSource: return "source";
    case Scope::kCollection: return "collection";
  }
  return "?";
}

Result<Action> ParseAction(std::string_view text) {
  if (text == "block") return Action::kBlock;
  if (text == "monitor") return Action::kMonitor;
  if (text == "allow") return Action::kAllow;
  return absl::InvalidArgumentError("unknown decision '" + std::string(text) + "' (block, monitor or allow)");
}

Result<Policy> ParsePolicy(std::string_view text) {
  if (text == "nxdomain") return Policy{};
  if (text == "nodata") return Policy{Policy::Kind::kNodata, ""};
  if (text.starts_with("cname:")) {
    auto name = normalize::Domain(text.substr(6));
    if (!name.ok()) {
      return absl::InvalidArgumentError("policy '" + std::string(text) + "': bad walled-garden name: " +
                                        std::string(name.status().message()));
    }
    return Policy{Policy::Kind::kCname, *name};
  }
  return absl::InvalidArgumentError("unknown policy '" + std::string(text) +
                                    "' (nxdomain, nodata or cname:NAME)");
}

std::string FormatPolicy(const Policy& p) {
  switch (p.kind) {
    case Policy::Kind::kNxdomain: return "nxdomain";
    case Policy::Kind::kNodata: return "nodata";
    case Policy::Kind::kCname: return "cname:" + p.cname;
  }
  return "?";
}

Result<int64_t> ParseDuration(std::string_view text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  int64_t unit = 0;
  std::string_view suffix(end, text.data() + text.size() - end);
  if (suffix == "s") unit = 1;
  else if (suffix == "m") unit = 60;
  else if (suffix == "h") unit = 3600;
  else if (suffix == "d") unit = 86400;
  else if (suffix == "w") unit = 7 * 86400;
  if (ec != std::errc() || end == text.data() || unit == 0 || n <= 0 || n > 100LL * 365 * 86400 / unit) {
    return absl::InvalidArgumentError("bad duration '" + std::string(text) +
                                      "' (a positive number followed by s, m, h, d or w, e.g. 7d)");
  }
  return n * unit * 1'000'000'000LL;
}

DecisionStore::DecisionStore(std::unique_ptr<sqlite::Connection> c) : db_(std::move(c)) {}
DecisionStore::~DecisionStore() = default;

Result<std::unique_ptr<DecisionStore>> DecisionStore::Open(const std::string& path) {
  CORDON_ASSIGN_OR_RETURN(auto c, sqlite::Connection::Open(path, {.cache_kib = 2048, .writer = true}));
  CORDON_RETURN_IF_ERROR(sqlite::Migrate(*c, kMigrations, "the decision store"));
  return std::unique_ptr<DecisionStore>(new DecisionStore(std::move(c)));
}

Result<Decision> DecisionStore::Add(Decision d) {
  CORDON_RETURN_IF_ERROR(CheckTarget(d.scope, d.target));
  if (Trim(d.reason).empty()) return absl::InvalidArgumentError("a decision needs a reason (--reason)");
  if (Trim(d.author).empty()) return absl::InvalidArgumentError("a decision needs an author (--author)");
  d.created = Now();
  if (d.expires && *d.expires <= d.created) {
    return absl::InvalidArgumentError("expiry " + FormatTimestamp(*d.expires) + " is not in the future");
  }
  d.revoked.reset();
  d.revoked_by.clear();
  d.revoke_reason.clear();
  Status st = db_->InTransaction([&]() -> Status {
    CORDON_ASSIGN_OR_RETURN(
        auto* s, db_->Prepare("INSERT INTO decisions(action,scope,target,reason,author,created_ns,expires_ns,policy,"
                              "subdomains) VALUES(?,?,?,?,?,?,?,?,?)"));
    BindText(s, 1, ActionName(d.action));
    BindText(s, 2, ScopeName(d.scope));
    BindText(s, 3, d.target);
    BindText(s, 4, d.reason);
    BindText(s, 5, d.author);
    sqlite3_bind_int64(s, 6, d.created.ns);
    if (d.expires) sqlite3_bind_int64(s, 7, d.expires->ns);
    else sqlite3_bind_null(s, 7);
    BindText(s, 8, FormatPolicy(d.policy));
    sqlite3_bind_int(s, 9, d.subdomains ? 1 : 0);
    CORDON_RETURN_IF_ERROR(Done(*db_, s, "insert decision"));
    d.id = sqlite3_last_insert_rowid(db_->db());
    CORDON_ASSIGN_OR_RETURN(
        auto* h, db_->Prepare("INSERT INTO history(at_ns,decision,event,author,reason) VALUES(?,?,?,?,?)"));
    sqlite3_bind_int64(h, 1, d.created.ns);
    sqlite3_bind_int64(h, 2, d.id);
    BindText(h, 3, ActionName(d.action));
    BindText(h, 4, d.author);
    BindText(h, 5, d.reason);
    return Done(*db_, h, "record decision history");
  });
  if (!st.ok()) return st;
  return d;
}

Result<Decision> DecisionStore::Get(int64_t id) {
  CORDON_ASSIGN_OR_RETURN(auto* s, db_->Prepare(std::string(kColumns) + " WHERE id=?"));
  sqlite3_bind_int64(s, 1, id);
  CORDON_ASSIGN_OR_RETURN(bool row, Step(*db_, s, "read decision"));
  if (!row) return absl::NotFoundError("no decision " + std::to_string(id));
  auto d = ReadRow(s);
  sqlite3_reset(s);
  return d;
}

Result<Decision> DecisionStore::Revoke(int64_t id, const std::string& author, const std::string& reason) {
  if (Trim(author).empty()) return absl::InvalidArgumentError("a revocation needs an author (--author)");
  Decision d;
  Status st = db_->InTransaction([&]() -> Status {
    CORDON_ASSIGN_OR_RETURN(d, Get(id));
    if (d.revoked) {
      return absl::FailedPreconditionError("decision " + std::to_string(id) + " was already revoked at " +
                                           FormatTimestamp(*d.revoked) + " by " + d.revoked_by);
    }
    d.revoked = Now();
    d.revoked_by = author;
    d.revoke_reason = reason;
    CORDON_ASSIGN_OR_RETURN(
        auto* s, db_->Prepare("UPDATE decisions SET revoked_ns=?, revoked_by=?, revoke_reason=? WHERE id=?"));
    sqlite3_bind_int64(s, 1, d.revoked->ns);
    BindText(s, 2, author);
    BindText(s, 3, reason);
    sqlite3_bind_int64(s, 4, id);
    CORDON_RETURN_IF_ERROR(Done(*db_, s, "revoke decision"));
    CORDON_ASSIGN_OR_RETURN(
        auto* h, db_->Prepare("INSERT INTO history(at_ns,decision,event,author,reason) VALUES(?,?,?,?,?)"));
    sqlite3_bind_int64(h, 1, d.revoked->ns);
    sqlite3_bind_int64(h, 2, id);
    BindText(h, 3, "revoke");
    BindText(h, 4, author);
    BindText(h, 5, reason);
    return Done(*db_, h, "record revocation history");
  });
  if (!st.ok()) return st;
  return d;
}

Result<std::vector<Decision>> DecisionStore::List() {
  CORDON_ASSIGN_OR_RETURN(auto* s, db_->Prepare(std::string(kColumns) + " ORDER BY id"));
  std::vector<Decision> out;
  while (true) {
    CORDON_ASSIGN_OR_RETURN(bool row, Step(*db_, s, "list decisions"));
    if (!row) break;
    auto d = ReadRow(s);
    if (!d.ok()) {
      sqlite3_reset(s);
      return d.status();
    }
    out.push_back(std::move(*d));
  }
  return out;
}

Result<std::vector<Decision>> DecisionStore::InForce(Timestamp now) {
  CORDON_ASSIGN_OR_RETURN(auto all, List());
  std::erase_if(all, [&](const Decision& d) { return !d.InForce(now); });
  return all;
}

Result<int64_t> DecisionStore::Version() {
  CORDON_ASSIGN_OR_RETURN(auto* s, db_->Prepare("SELECT coalesce(max(seq),0) FROM history"));
  CORDON_ASSIGN_OR_RETURN(bool row, Step(*db_, s, "read decision version"));
  int64_t v = row ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_reset(s);
  return v;
}

Result<DecisionStore::SerialState> DecisionStore::GetSerial(const std::string& output) {
  CORDON_ASSIGN_OR_RETURN(auto* s, db_->Prepare("SELECT serial, digest FROM export_serials WHERE output=?"));
  BindText(s, 1, output);
  CORDON_ASSIGN_OR_RETURN(bool row, Step(*db_, s, "read export serial"));
  SerialState st;
  if (row) {
    st.serial = sqlite3_column_int64(s, 0);
    st.digest = ColumnText(s, 1);
  }
  sqlite3_reset(s);
  return st;
}

Status DecisionStore::PutSerial(const std::string& output, const SerialState& state) {
  CORDON_ASSIGN_OR_RETURN(auto* s,
                          db_->Prepare("INSERT OR REPLACE INTO export_serials(output,serial,digest) VALUES(?,?,?)"));
  BindText(s, 1, output);
  sqlite3_bind_int64(s, 2, state.serial);
  BindText(s, 3, state.digest);
  return Done(*db_, s, "store export serial");
}

// --- resolution ---

namespace {
// Precedence inside one scope: allow > block > monitor; then the newest.
int Rank(Action a) {
  switch (a) {
    case Action::kAllow: return 3;
    case Action::kBlock: return 2;
    case Action::kMonitor: return 1;
  }
  return 0;
}
}  // namespace

Resolver::Resolver(std::vector<Decision> in_force) : decisions_(std::move(in_force)) {
  for (size_t i = 0; i < decisions_.size(); ++i) {
    const Decision& d = decisions_[i];
    auto& winners = winners_[static_cast<int>(d.scope)];
    auto [it, inserted] = winners.try_emplace(d.target, i);
    if (inserted) continue;
    const Decision& cur = decisions_[it->second];
    if (Rank(d.action) > Rank(cur.action) || (Rank(d.action) == Rank(cur.action) && d.id > cur.id)) {
      it->second = i;
    }
  }
}

const Decision* Resolver::Find(Scope scope, std::string_view target) const {
  if (target.empty()) return nullptr;
  const auto& winners = winners_[static_cast<int>(scope)];
  if (winners.empty()) return nullptr;
  auto it = winners.find(target);
  return it == winners.end() ? nullptr : &decisions_[it->second];
}

const Decision* Resolver::Effective(std::string_view indicator, std::string_view source,
                                    std::string_view collection) const {
  if (const Decision* d = Find(Scope::kIndicator, indicator)) return d;
  if (const Decision* d = Find(Scope::kSource, source)) return d;
  return Find(Scope::kCollection, collection);
}

bool Resolver::AnyBlock() const {
  for (const auto& d : decisions_) {
    if (d.action == Action::kBlock) return true;
  }
  return false;
}

}  // namespace cordon::decide
