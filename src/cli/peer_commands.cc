// peer add|list|show|remove: sharing agreements with partner nodes.
#include <iostream>

#include "base/strings.h"
#include "cli/common.h"
#include "federation/peers.h"
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
  auto list = (*peers)->List();
  if (!list.ok()) return c.Fail(list.status());
  for (const auto& p : *list) {
    c.out << p.name << "  " << (p.identity_id.empty() ? "-" : p.identity_id) << "  TLP<="
          << federation::TlpName(p.tlp_ceiling) << (p.require_signatures ? "  signed" : "")
          << (p.url.empty() ? "" : "  " + p.url) << "\n";
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
  if (auto s = (*peers)->Remove(name); !s.ok()) return c.Fail(s);
  // The partner's login loses every permission at once (the user is kept so
  // that its status resources and audit entries still name it).
  auto st = OpenExisting(data);
  if (!st.ok()) return c.Fail(st.status());
  if (auto user = (*st)->GetUser(name); user.ok()) {
    user->can_read.clear();
    user->can_write.clear();
    if (auto s = (*st)->PutUser(*user); !s.ok()) return c.Fail(s);
  }
  c.out << "peer " << name << " removed\n";
  return 0;
}

}  // namespace

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
}

}  // namespace cordon::cli
