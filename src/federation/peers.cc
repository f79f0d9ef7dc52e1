#include "federation/peers.h"

#include <simdjson.h>

#include <algorithm>

#include "base/json_writer.h"
#include "base/strings.h"
#include "store/sqlite/db.h"

namespace cordon::federation {
namespace {

constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE peers(
  name TEXT PRIMARY KEY,
  identity_id TEXT NOT NULL,
  record TEXT NOT NULL  -- PeerToJson
);
CREATE INDEX peers_identity ON peers(identity_id);
)sql",
};

void AppendList(std::string& b, std::string_view key, const std::vector<std::string>& v) {
  b += ",\"";
  b += key;
  b += "\":[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) b += ',';
    AppendJsonString(b, v[i]);
  }
  b += ']';
}

void AppendPairs(std::string& b, std::string_view key, const std::vector<std::pair<std::string, std::string>>& v) {
  b += ",\"";
  b += key;
  b += "\":[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) b += ',';
    b += '[';
    AppendJsonString(b, v[i].first);
    b += ',';
    AppendJsonString(b, v[i].second);
    b += ']';
  }
  b += ']';
}

void AppendField(std::string& b, std::string_view key, std::string_view value) {
  b += ",\"";
  b += key;
  b += "\":";
  AppendJsonString(b, value);
}

std::string ToJson(const Peer& p, bool secrets) {
  std::string b = "{\"name\":";
  AppendJsonString(b, p.name);
  AppendField(b, "identity_id", p.identity_id);
  AppendField(b, "public_key", p.public_key);
  b += p.require_signatures ? ",\"require_signatures\":true" : ",\"require_signatures\":false";
  AppendList(b, "read_collections", p.read_collections);
  AppendList(b, "write_collections", p.write_collections);
  AppendList(b, "allowed_types", p.allowed_types);
  AppendField(b, "tlp_ceiling", TlpName(p.tlp_ceiling));
  b += ",\"personal_data\":{\"redact_free_text\":";
  b += p.personal_data.redact_free_text ? "true" : "false";
  AppendList(b, "drop_types", p.personal_data.drop_types);
  AppendList(b, "redact_properties", p.personal_data.redact_properties);
  b += '}';
  AppendField(b, "url", p.url);
  AppendField(b, "remote_user", p.remote_user);
  AppendField(b, "remote_password", secrets || p.remote_password.empty() ? p.remote_password : "***");
  AppendField(b, "ca_file", p.ca_file);
  AppendPairs(b, "pull", p.pull);
  AppendPairs(b, "push", p.push);
  b += '}';
  return b;
}

Status Bad(const std::string& what) { return absl::InvalidArgumentError("peer record: " + what); }

Result<std::vector<std::string>> Strings(simdjson::dom::element e, const char* key) {
  std::vector<std::string> out;
  auto arr = e[key].get_array();
  if (arr.error() == simdjson::NO_SUCH_FIELD) return out;
  if (arr.error()) return Bad(std::string(key) + " must be an array of strings");
  for (auto v : arr.value()) {
    std::string_view s;
    if (v.get(s)) return Bad(std::string(key) + " must be an array of strings");
    out.emplace_back(s);
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> Pairs(simdjson::dom::element e, const char* key) {
  std::vector<std::pair<std::string, std::string>> out;
  auto arr = e[key].get_array();
  if (arr.error() == simdjson::NO_SUCH_FIELD) return out;
  if (arr.error()) return Bad(std::string(key) + " must be an array of [from, to] pairs");
  for (auto v : arr.value()) {
    simdjson::dom::array pair;
    std::string_view a, b;
    if (v.get(pair) || pair.size() != 2 || pair.at(0).get(a) || pair.at(1).get(b)) {
      return Bad(std::string(key) + " must be an array of [from, to] pairs");
    }
    out.emplace_back(std::string(a), std::string(b));
  }
  return out;
}

Result<std::string> Str(simdjson::dom::element e, const char* key) {
  auto v = e[key];
  if (v.error() == simdjson::NO_SUCH_FIELD) return std::string();
  std::string_view s;
  if (v.get(s)) return Bad(std::string(key) + " must be a string");
  return std::string(s);
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

Result<Tlp> ParseTlp(std::string_view s) {
  std::string u = ToLower(Trim(s));
  if (u.rfind("tlp:", 0) == 0) u = u.substr(4);
  if (u == "clear" || u == "white") return Tlp::kClear;
  if (u == "green") return Tlp::kGreen;
  if (u == "amber") return Tlp::kAmber;
  if (u == "amber+strict") return Tlp::kAmberStrict;
  if (u == "red") return Tlp::kRed;
  return absl::InvalidArgumentError("unknown TLP level '" + std::string(s) +
                                    "' (CLEAR, GREEN, AMBER, AMBER+STRICT or RED)");
}

std::string_view TlpName(Tlp t) {
  switch (t) {
    case Tlp::kClear: return "CLEAR";
    case Tlp::kGreen: return "GREEN";
    case Tlp::kAmber: return "AMBER";
    case Tlp::kAmberStrict: return "AMBER+STRICT";
    case Tlp::kRed: return "RED";
    case Tlp::kNone: break;
  }
  return "NONE";
}

std::string PeerToJson(const Peer& p) { return ToJson(p, true); }
std::string PeerToDisplayJson(const Peer& p) { return ToJson(p, false); }

Result<Peer> ParsePeerJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json.data(), json.size()).get(e) || !e.is_object()) return Bad("not a JSON object");
  Peer p;
  CORDON_ASSIGN_OR_RETURN(p.name, Str(e, "name"));
  CORDON_ASSIGN_OR_RETURN(p.identity_id, Str(e, "identity_id"));
  CORDON_ASSIGN_OR_RETURN(p.public_key, Str(e, "public_key"));
  bool req = false;
  if (auto v = e["require_signatures"]; v.error() != simdjson::NO_SUCH_FIELD && v.get(req)) {
    return Bad("require_signatures must be a boolean");
  }
  p.require_signatures = req;
  CORDON_ASSIGN_OR_RETURN(p.read_collections, Strings(e, "read_collections"));
  CORDON_ASSIGN_OR_RETURN(p.write_collections, Strings(e, "write_collections"));
  CORDON_ASSIGN_OR_RETURN(p.allowed_types, Strings(e, "allowed_types"));
  CORDON_ASSIGN_OR_RETURN(std::string tlp, Str(e, "tlp_ceiling"));
  CORDON_ASSIGN_OR_RETURN(p.tlp_ceiling, ParseTlp(tlp.empty() ? "GREEN" : tlp));
  if (auto pd = e["personal_data"]; !pd.error()) {
    CORDON_ASSIGN_OR_RETURN(p.personal_data.drop_types, Strings(pd.value(), "drop_types"));
    CORDON_ASSIGN_OR_RETURN(p.personal_data.redact_properties, Strings(pd.value(), "redact_properties"));
    bool ft = false;
    if (auto v = pd["redact_free_text"]; v.error() != simdjson::NO_SUCH_FIELD && v.get(ft)) {
      return Bad("personal_data.redact_free_text must be a boolean");
    }
    p.personal_data.redact_free_text = ft;
  }
  CORDON_ASSIGN_OR_RETURN(p.url, Str(e, "url"));
  CORDON_ASSIGN_OR_RETURN(p.remote_user, Str(e, "remote_user"));
  CORDON_ASSIGN_OR_RETURN(p.remote_password, Str(e, "remote_password"));
  CORDON_ASSIGN_OR_RETURN(p.ca_file, Str(e, "ca_file"));
  CORDON_ASSIGN_OR_RETURN(p.pull, Pairs(e, "pull"));
  CORDON_ASSIGN_OR_RETURN(p.push, Pairs(e, "push"));
  return p;
}

Status ValidatePeer(const Peer& p) {
  if (p.name.empty() || p.name.size() > 64 ||
      !std::all_of(p.name.begin(), p.name.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
               ch == '_' || ch == '.';
      })) {
    return absl::InvalidArgumentError("peer name '" + p.name +
                                      "': 1-64 characters of letters, digits, '-', '_' or '.'");
  }
  if (!p.identity_id.empty() && p.identity_id.rfind("identity--", 0) != 0) {
    return absl::InvalidArgumentError("identity_id '" + p.identity_id + "' must be an identity id (identity--UUID)");
  }
  if (p.require_signatures && (p.public_key.empty() || p.identity_id.empty())) {
    return absl::InvalidArgumentError("require_signatures needs both identity_id and public_key");
  }
  if (!p.public_key.empty() && p.public_key.size() != 44) {
    return absl::InvalidArgumentError("public_key must be a base64 Ed25519 key (44 characters), got " +
                                      std::to_string(p.public_key.size()) + " characters");
  }
  if (p.tlp_ceiling == Tlp::kRed || p.tlp_ceiling == Tlp::kNone) {
    return absl::InvalidArgumentError("tlp_ceiling must be CLEAR, GREEN, AMBER or AMBER+STRICT (TLP:RED never leaves the node)");
  }
  if (!p.url.empty() && p.url.rfind("https://", 0) != 0 && p.url.rfind("http://", 0) != 0) {
    return absl::InvalidArgumentError("url '" + p.url + "' must start with https:// (or http://)");
  }
  if (Contains(p.allowed_types, "")) return absl::InvalidArgumentError("allowed_types has an empty type");
  return absl::OkStatus();
}

std::string FederationDbPath(const std::string& data_dir) { return data_dir + "/federation.db"; }

PeerStore::PeerStore(std::unique_ptr<sqlite::Connection> db) : db_(std::move(db)) {}
PeerStore::~PeerStore() = default;

Result<std::unique_ptr<PeerStore>> PeerStore::Open(const std::string& path) {
  CORDON_ASSIGN_OR_RETURN(auto db, sqlite::Connection::Open(path, {.cache_kib = 1024, .writer = true}));
  CORDON_RETURN_IF_ERROR(sqlite::Migrate(*db, kMigrations, "the federation state"));
  return std::unique_ptr<PeerStore>(new PeerStore(std::move(db)));
}

Status PeerStore::Put(const Peer& p) {
  CORDON_RETURN_IF_ERROR(ValidatePeer(p));
  std::lock_guard lock(mu_);
  CORDON_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                          db_->Prepare("INSERT OR REPLACE INTO peers(name, identity_id, record) VALUES(?,?,?)"));
  sqlite::BindText(s, 1, p.name);
  sqlite::BindText(s, 2, p.identity_id);
  sqlite::BindText(s, 3, PeerToJson(p));
  snapshot_version_ = -1;
  return sqlite::Done(*db_, s, "storing a peer");
}

Result<Peer> PeerStore::Get(const std::string& name) {
  std::lock_guard lock(mu_);
  CORDON_ASSIGN_OR_RETURN(sqlite3_stmt * s, db_->Prepare("SELECT record FROM peers WHERE name = ?"));
  sqlite::BindText(s, 1, name);
  CORDON_ASSIGN_OR_RETURN(bool row, sqlite::Step(*db_, s, "reading a peer"));
  if (!row) {
    sqlite3_reset(s);
    return absl::NotFoundError("no peer '" + name + "'");
  }
  std::string record = sqlite::ColumnText(s, 0);
  sqlite3_reset(s);
  return ParsePeerJson(record);
}

Result<bool> PeerStore::Exists(const std::string& name) {
  std::lock_guard lock(mu_);
  CORDON_ASSIGN_OR_RETURN(sqlite3_stmt * s, db_->Prepare("SELECT 1 FROM peers WHERE name = ?"));
  sqlite::BindText(s, 1, name);
  CORDON_ASSIGN_OR_RETURN(bool row, sqlite::Step(*db_, s, "reading a peer"));
  sqlite3_reset(s);
  return row;
}

Result<Peer> PeerStore::FindByIdentity(const std::string& identity_id) {
  std::lock_guard lock(mu_);
  CORDON_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                          db_->Prepare("SELECT record FROM peers WHERE identity_id = ? ORDER BY name LIMIT 1"));
  sqlite::BindText(s, 1, identity_id);
  CORDON_ASSIGN_OR_RETURN(bool row, sqlite::Step(*db_, s, "reading a peer"));
  if (!row) {
    sqlite3_reset(s);
    return absl::NotFoundError("no peer with identity '" + identity_id + "'");
  }
  std::string record = sqlite::ColumnText(s, 0);
  sqlite3_reset(s);
  return ParsePeerJson(record);
}

Result<std::vector<Peer>> PeerStore::ListLocked() {
  CORDON_ASSIGN_OR_RETURN(sqlite3_stmt * s, db_->Prepare("SELECT record FROM peers ORDER BY name"));
  std::vector<Peer> out;
  while (true) {
    CORDON_ASSIGN_OR_RETURN(bool row, sqlite::Step(*db_, s, "listing peers"));
    if (!row) {
      sqlite3_reset(s);
      break;
    }
    auto p = ParsePeerJson(sqlite::ColumnText(s, 0));
    if (!p.ok()) {
      sqlite3_reset(s);
      return p.status();
    }
    out.push_back(std::move(*p));
  }
  return out;
}

Result<std::vector<Peer>> PeerStore::List() {
  std::lock_guard lock(mu_);
  return ListLocked();
}

Status PeerStore::Remove(const std::string& name) {
  std::lock_guard lock(mu_);
  CORDON_ASSIGN_OR_RETURN(sqlite3_stmt * s, db_->Prepare("DELETE FROM peers WHERE name = ?"));
  sqlite::BindText(s, 1, name);
  CORDON_RETURN_IF_ERROR(sqlite::Done(*db_, s, "removing a peer"));
  snapshot_version_ = -1;
  if (sqlite3_changes(db_->db()) == 0) return absl::NotFoundError("no peer '" + name + "'");
  return absl::OkStatus();
}

Result<std::shared_ptr<const PeerStore::PeerSnapshot>> PeerStore::Snapshot() {
  std::lock_guard lock(mu_);
  CORDON_ASSIGN_OR_RETURN(sqlite3_stmt * s, db_->Prepare("PRAGMA data_version"));
  CORDON_ASSIGN_OR_RETURN(bool row, sqlite::Step(*db_, s, "checking the federation state"));
  int64_t version = row ? sqlite3_column_int64(s, 0) : 0;
  sqlite3_reset(s);
  if (!snapshot_ || version != snapshot_version_) {
    auto snap = std::make_shared<PeerSnapshot>();
    CORDON_ASSIGN_OR_RETURN(sqlite3_stmt * q,
                            db_->Prepare("SELECT name, identity_id, record FROM peers ORDER BY name"));
    while (true) {
      CORDON_ASSIGN_OR_RETURN(bool more, sqlite::Step(*db_, q, "listing peers"));
      if (!more) break;
      std::string name = sqlite::ColumnText(q, 0);
      auto p = ParsePeerJson(sqlite::ColumnText(q, 2));
      if (p.ok() && p->name == name) {
        snap->peers.push_back(std::move(*p));
      } else {
        snap->unreadable.push_back(
            {name, sqlite::ColumnText(q, 1), p.ok() ? "the record names another peer" : std::string(p.status().message())});
      }
    }
    sqlite3_reset(q);
    snapshot_ = std::move(snap);
    snapshot_version_ = version;
  }
  return snapshot_;
}

}  // namespace cordon::federation
