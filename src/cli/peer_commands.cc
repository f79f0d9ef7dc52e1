// peer add|list|show|remove: sharing agreements with partner nodes.
#include <iostream>

#include "audit/audit_log.h"
#include "base/json_writer.h"
#include "base/strings.h"
#include "base/uuid.h"
#include "cli/common.h"
#include "federation/agreement.h"
#include "federation/identity.h"
#include "federation/peers.h"
#include "ingest/ingest.h"
#include "stix/bundle.h"
#include "taxii/auth.h"

namespace cordon::cli {
namespace {

Result<std::unique_ptr<federation::PeerStore>> OpenPeers(const std::string& data) {
  if (!fs::exists(DbPath(data))) {
    return absl::NotFoundError("no cordon store in '" + data + "' (run: cordon init --data " + data + ")");
  }
  return federation::PeerStore::Open(federation::FederationDbPath(data));
}

// "remote=local,remote2=local2" -> pairs.
Result<std::vector<std::pair<std::string, std::string>>> ParseMappings(const std::vector<std::string>& specs,
                                                                       const char* option) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& spec : specs) {
    for (const auto& item : SplitIds(spec)) {
      size_t eq = item.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
        return absl::InvalidArgumentError(std::string(option) + ": '" + item + "' must be FROM=TO collection ids");
      }
      out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    }
  }
  return out;
}

struct PeerOptions {
  std::string data, name, identity, public_key, read, write, types, tlp = "GREEN", drop_types, redact;
  std::string url, remote_user, remote_password_file, ca_file;
  std::vector<std::string> pull, push;
  bool require_signatures = false, redact_free_text = false, password_stdin = false;
};

int PeerAdd(Context& c, const PeerOptions& o) {
  federation::Peer p{.name = o.name,
                     .identity_id = o.identity,
                     .public_key = o.public_key,
                     .require_signatures = o.require_signatures,
                     .read_collections = SplitIds(o.read),
                     .write_collections = SplitIds(o.write),
                     .allowed_types = SplitIds(o.types),
                     .url = o.url,
                     .remote_user = o.remote_user,
                     .ca_file = o.ca_file};
  auto tlp = federation::ParseTlp(o.tlp);
  if (!tlp.ok()) return c.Fail(tlp.status());
  p.tlp_ceiling = *tlp;
  p.personal_data = {.drop_types = SplitIds(o.drop_types),
                     .redact_properties = SplitIds(o.redact),
                     .redact_free_text = o.redact_free_text};
  auto pull = ParseMappings(o.pull, "--pull");
  if (!pull.ok()) return c.Fail(pull.status());
  auto push = ParseMappings(o.push, "--push");
  if (!push.ok()) return c.Fail(push.status());
  p.pull = std::move(*pull);
  p.push = std::move(*push);
  if (!o.remote_password_file.empty()) {
    auto secret = ReadAll(o.remote_password_file, c.in);
    if (!secret.ok()) return c.Fail(secret.status());
    p.remote_password = std::string(Trim(*secret));
  }
  if (auto s = federation::ValidatePeer(p); !s.ok()) return c.Fail(s);

  std::string password;
  if (o.password_stdin) {
    std::getline(c.in, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty()) return c.Fail(absl::InvalidArgumentError("empty password on standard input"));
  }
  auto st = OpenExisting(o.data);
  if (!st.ok()) return c.Fail(st.status());
  // The store user the partner logs in as: permissions follow the agreement;
  // the password is kept unless a new one is given.
  store::User user{.name = p.name, .can_read = p.read_collections, .can_write = p.write_collections};
  if (auto existing = (*st)->GetUser(p.name); existing.ok()) {
    user.password_hash = existing->password_hash;
  } else if (!absl::IsNotFound(existing.status())) {
    return c.Fail(existing.status());
  }
  if (!password.empty()) {
    auto hash = taxii::HashPassword(password);
    if (!hash.ok()) return c.Fail(hash.status());
    user.password_hash = *hash;
  }
  auto peers = OpenPeers(o.data);
  if (!peers.ok()) return c.Fail(peers.status());
  if (auto s = (*peers)->Put(p); !s.ok()) return c.Fail(s);
  if (auto s = (*st)->PutUser(user); !s.ok()) return c.Fail(s);
  c.out << "peer " << p.name << " (read: " << (o.read.empty() ? "-" : o.read)
        << "; write: " << (o.write.empty() ? "-" : o.write) << "; TLP ceiling " << federation::TlpName(p.tlp_ceiling)
        << (user.password_hash.empty() ? "; no password yet: use --password-stdin or cordon token add" : "")
        << ")\n";
  return 0;
}

int PeerList(Context& c, const std::string& data) {
  auto peers = OpenPeers(data);
  if (!peers.ok()) return c.Fail(peers.status());
  auto snap = (*peers)->Snapshot();
  if (!snap.ok()) return c.Fail(snap.status());
  for (const auto& p : (*snap)->peers) {
    c.out << p.name << "  " << (p.identity_id.empty() ? "-" : p.identity_id) << "  TLP<="
          << federation::TlpName(p.tlp_ceiling) << (p.require_signatures ? "  signed" : "")
          << (p.url.empty() ? "" : "  " + p.url) << "\n";
  }
  for (const auto& u : (*snap)->unreadable) {
    c.out << u.name << "  " << (u.identity_id.empty() ? "-" : u.identity_id)
          << "  UNREADABLE (refused everything; `peer remove` it and add it again): " << u.why << "\n";
  }
  return 0;
}

int PeerShow(Context& c, const std::string& data, const std::string& name) {
  auto peers = OpenPeers(data);
  if (!peers.ok()) return c.Fail(peers.status());
  auto p = (*peers)->Get(name);
  if (!p.ok()) return c.Fail(p.status());
  c.out << federation::PeerToDisplayJson(*p) << "\n";
  return 0;
}

int PeerRemove(Context& c, const std::string& data, const std::string& name) {
  auto peers = OpenPeers(data);
  if (!peers.ok()) return c.Fail(peers.status());
  // Only whether it exists: a record this version cannot read must still be removable.
  auto exists = (*peers)->Exists(name);
  if (!exists.ok()) return c.Fail(exists.status());
  if (!*exists) return c.Fail(absl::NotFoundError("no peer '" + name + "'"));
  // First the partner's login loses every permission (the user is kept so
  // that its status resources and audit entries still name it), then the
  // agreement goes: the other order, interrupted between the two, would leave
  // a login with rights and no agreement to narrow them.
  auto st = OpenExisting(data);
  if (!st.ok()) return c.Fail(st.status());
  auto user = (*st)->GetUser(name);
  if (user.ok()) {
    user->can_read.clear();
    user->can_write.clear();
    if (auto s = (*st)->PutUser(*user); !s.ok()) return c.Fail(s);
  } else if (!absl::IsNotFound(user.status())) {
    return c.Fail(user.status());
  }
  if (auto s = (*peers)->Remove(name); !s.ok()) return c.Fail(s);
  c.out << "peer " << name << " removed\n";
  return 0;
}

int IdentityInit(Context& c, const std::string& data, const std::string& name, const std::string& sector,
                 const std::string& country, const std::string& collection) {
  auto st = OpenExisting(data);
  if (!st.ok()) return c.Fail(st.status());
  auto id = federation::InitIdentity(data, name, sector, country);
  if (!id.ok()) return c.Fail(id.status());
  if (!collection.empty()) {
    // Publish the identity and the signature extension-definition.
    auto def = federation::SignedExtensionDefinition(*id);
    if (!def.ok()) return c.Fail(def.status());
    auto report = ingest::IngestObjects(**st, collection, {id->object_json, *def}, stix::DefaultVersion::kInfer);
    if (!report.ok()) return c.Fail(report.status());
    for (const auto& o : report->objects) {
      if (o.outcome == ingest::ObjectOutcome::kRejected) {
        return c.Fail(absl::InvalidArgumentError("publishing " + o.id + ": " + o.reason));
      }
    }
  }
  c.out << id->id << "\npublic key " << id->key.public_key << "\n";
  return 0;
}

int IdentityShow(Context& c, const std::string& data, bool key_only) {
  auto id = federation::LoadIdentity(data);
  if (!id.ok()) return c.Fail(id.status());
  if (key_only) {
    c.out << id->key.public_key << "\n";
  } else {
    c.out << id->object_json << "\n";
  }
  return 0;
}

// Signs every object of a bundle/envelope with the node's key; prints a bundle.
int IdentitySign(Context& c, const std::string& data, const std::string& path) {
  auto id = federation::LoadIdentity(data);
  if (!id.ok()) return c.Fail(id.status());
  auto text = ReadAll(path, c.in);
  if (!text.ok()) return c.Fail(text.status());
  auto list = stix::SplitObjects(*text);
  if (!list.ok()) return c.Fail(list.status());
  std::string out = "{\"type\":\"bundle\",\"id\":\"bundle--" + NewUuid4() + "\",\"objects\":[";
  for (size_t i = 0; i < list->objects.size(); ++i) {
    auto signed_json = federation::Sign(list->objects[i], id->key, id->id);
    if (!signed_json.ok()) {
      return c.Fail(absl::InvalidArgumentError("object " + std::to_string(i) + ": " +
                                               std::string(signed_json.status().message())));
    }
    if (i) out += ',';
    out += *signed_json;
  }
  c.out << out << "]}\n";
  return 0;
}

int AuditShow(Context& c, const std::string& data, const std::string& peer, const std::string& since) {
  audit::ReadFilter filter{.actor = peer};
  if (!since.empty()) {
    auto t = ParseTimestamp(since);
    if (!t.ok()) return c.Fail(absl::InvalidArgumentError("--since: " + std::string(t.status().message())));
    filter.since = *t;
  }
  auto entries = audit::Read(audit::AuditLogPath(data), filter);
  if (!entries.ok()) return c.Fail(entries.status());
  for (const auto& e : *entries) {
    c.out << e.seq << "  " << e.time << "  " << e.actor << "  " << e.action;
    if (!e.details.empty()) c.out << "  " << e.details;
    if (!e.ids.empty()) {
      c.out << "  ids:";
      for (const auto& id : e.ids) c.out << " " << id;
    }
    c.out << "\n";
  }
  return 0;
}

int AuditVerify(Context& c, const std::string& data, const std::string& expect_head) {
  auto r = audit::Verify(audit::AuditLogPath(data), expect_head);
  if (!r.ok()) {
    c.err << "cordon: audit log FAILED verification: " << r.status().message() << "\n";
    return 1;
  }
  c.out << "audit log OK: " << r->entries << " entries, head " << (r->head_hash.empty() ? "-" : r->head_hash)
        << "\n";
  return 0;
}

}  // namespace

Result<std::shared_ptr<taxii::PeerPolicy>> OpenPeerPolicy(const std::string& data) {
  CORDON_ASSIGN_OR_RETURN(std::unique_ptr<federation::PeerStore> peers,
                          federation::PeerStore::Open(federation::FederationDbPath(data)));
  CORDON_ASSIGN_OR_RETURN(std::unique_ptr<audit::AuditLog> log, audit::AuditLog::Open(audit::AuditLogPath(data)));
  return std::shared_ptr<taxii::PeerPolicy>(
      std::make_shared<federation::FederationPolicy>(std::move(peers), std::move(log)));
}

void AddPeerCommands(Registrar& r) {
  auto o = std::make_shared<PeerOptions>();
  Context& c = r.c;
  auto& action = r.action;
  auto* peer = r.app.add_subcommand("peer", "manage partner nodes and their sharing agreements");
  peer->require_subcommand(1);

  auto* add = peer->add_subcommand("add", "add (or replace) a peer and its store user");
  AddDataOption(add, o->data);
  add->add_option("name", o->name, "peer name (also the user it logs in as)")->required();
  add->add_option("--identity", o->identity, "the partner's STIX identity id (identity--...)");
  add->add_option("--public-key", o->public_key, "the partner's base64 Ed25519 public key");
  add->add_flag("--require-signatures", o->require_signatures,
                "reject objects created_by the partner's identity without a valid signature");
  add->add_option("--read", o->read, "our collections it may read: ids separated by commas, or '*'");
  add->add_option("--write", o->write, "our collections it may write: ids separated by commas, or '*'");
  add->add_option("--types", o->types, "STIX types it may see, separated by commas (default: all)");
  add->add_option("--tlp", o->tlp, "TLP ceiling: CLEAR, GREEN, AMBER or AMBER+STRICT")->capture_default_str();
  add->add_option("--drop-types", o->drop_types, "personal data: types never served (e.g. email-addr,user-account)");
  add->add_option("--redact", o->redact, "personal data: top-level properties removed from served objects");
  add->add_flag("--redact-free-text", o->redact_free_text,
                "personal data: remove free-text properties (description, content, ...)");
  add->add_option("--url", o->url, "the partner's TAXII discovery URL (https://host:port/taxii2/)");
  add->add_option("--remote-user", o->remote_user, "our user name at the partner");
  add->add_option("--remote-password-file", o->remote_password_file, "file holding our password/token at the partner");
  add->add_option("--ca-file", o->ca_file, "PEM CA to trust for the partner's TLS");
  add->add_option("--pull", o->pull, "REMOTE_COLLECTION=OUR_COLLECTION to pull (repeatable)");
  add->add_option("--push", o->push, "OUR_COLLECTION=REMOTE_COLLECTION to push (repeatable)");
  add->add_flag("--password-stdin", o->password_stdin,
                "read the partner's login password from the first line of stdin");
  add->callback([o, &c, &action] { action = [o, &c] { return PeerAdd(c, *o); }; });

  auto* list = peer->add_subcommand("list", "list peers");
  AddDataOption(list, o->data);
  list->callback([o, &c, &action] { action = [o, &c] { return PeerList(c, o->data); }; });

  auto* show = peer->add_subcommand("show", "print a peer's agreement as JSON (secrets hidden)");
  AddDataOption(show, o->data);
  show->add_option("name", o->name, "peer name")->required();
  show->callback([o, &c, &action] { action = [o, &c] { return PeerShow(c, o->data, o->name); }; });

  auto* remove = peer->add_subcommand("remove", "remove a peer (its login loses all permissions)");
  AddDataOption(remove, o->data);
  remove->add_option("name", o->name, "peer name")->required();
  remove->callback([o, &c, &action] { action = [o, &c] { return PeerRemove(c, o->data, o->name); }; });

  struct IdOptions {
    std::string data, name, sector, country, collection, file = "-", peer, since, expect_head;
    bool key_only = false;
  };
  auto io = std::make_shared<IdOptions>();
  auto* identity = r.app.add_subcommand("identity", "the node's STIX identity and signing key");
  identity->require_subcommand(1);
  auto* id_init = identity->add_subcommand("init", "create the node's identity and Ed25519 key pair");
  AddDataOption(id_init, io->data);
  id_init->add_option("--name", io->name, "organisation name")->required();
  id_init->add_option("--sector", io->sector, "industry sector (STIX vocabulary, e.g. government)");
  id_init->add_option("--country", io->country, "ISO 3166-1 alpha-2 country code")->required();
  id_init->add_option("--collection", io->collection,
                      "also publish the identity and the signature extension-definition in this collection");
  id_init->callback([io, &c, &action] {
    action = [io, &c] { return IdentityInit(c, io->data, io->name, io->sector, io->country, io->collection); };
  });
  auto* id_show = identity->add_subcommand("show", "print the node's identity object (or its public key)");
  AddDataOption(id_show, io->data);
  id_show->add_flag("--public-key", io->key_only, "print only the base64 public key");
  id_show->callback([io, &c, &action] { action = [io, &c] { return IdentityShow(c, io->data, io->key_only); }; });
  auto* id_sign = identity->add_subcommand("sign", "sign every object of a bundle/envelope; print a bundle");
  AddDataOption(id_sign, io->data);
  id_sign->add_option("file", io->file, "bundle or envelope ('-' = stdin)")->capture_default_str();
  id_sign->callback([io, &c, &action] { action = [io, &c] { return IdentitySign(c, io->data, io->file); }; });

  auto* audit_cmd = r.app.add_subcommand("audit", "the audit trail of partner reads and writes");
  audit_cmd->require_subcommand(1);
  auto* a_show = audit_cmd->add_subcommand("show", "print audit entries");
  AddDataOption(a_show, io->data);
  a_show->add_option("--peer", io->peer, "only this actor");
  a_show->add_option("--since", io->since, "only entries at or after this RFC 3339 time");
  a_show->callback([io, &c, &action] { action = [io, &c] { return AuditShow(c, io->data, io->peer, io->since); }; });
  auto* a_verify = audit_cmd->add_subcommand(
      "verify", "check the hash chain (exit 1 on any altered, removed, reordered or cut-off entry)");
  AddDataOption(a_verify, io->data);
  a_verify->add_option("--expect-head", io->expect_head, "a head hash printed earlier, kept elsewhere");
  a_verify->callback([io, &c, &action] { action = [io, &c] { return AuditVerify(c, io->data, io->expect_head); }; });
}

}  // namespace cordon::cli
