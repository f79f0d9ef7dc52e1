// Sharing agreements with partner nodes ("peers"), kept in DATA/federation.db.
//
// A peer is both a user of OUR TAXII server (inbound: what it may read and
// write, what it may see, how personal data is treated on the way out) and a
// remote TAXII server WE pull from and push to (outbound: url, credentials,
// collection mappings). The inbound part authenticates as the store user
// `name`; `cordon peer add` keeps that user's can_read/can_write in step.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "stix/object.h"

namespace cordon::sqlite {
class Connection;
}

namespace cordon::federation {

using stix::Tlp;

// "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED" (case-insensitive; "WHITE" = CLEAR).
Result<Tlp> ParseTlp(std::string_view s);
std::string_view TlpName(Tlp t);  // "NONE" for kNone

// Personal data rules applied to what a peer is served.
struct PersonalDataRules {
  std::vector<std::string> drop_types;         // objects of these types are never served (e.g. email-addr)
  std::vector<std::string> redact_properties;  // top-level properties removed from every served object
  bool redact_free_text = false;               // also remove the free-text properties (kFreeTextProperties)
  bool empty() const { return drop_types.empty() && redact_properties.empty() && !redact_free_text; }
};

// The STIX properties that carry free text written by people (and so often
// personal data). With redact_free_text, besides these: every custom (x_...)
// property, the descriptions inside external_references, and the name of an
// individual's identity (a required property: "[redacted]").
inline constexpr const char* kFreeTextProperties[] = {"description", "abstract", "content", "explanation",
                                                      "opinion_text", "contact_information", "authors",
                                                      "subject", "body"};

struct Peer {
  std::string name;                 // unique, e.g. "jpcert"; also the store user it logs in as
  std::string identity_id;          // the partner's STIX identity id (identity--...)
  std::string public_key;           // base64 Ed25519 public key ("" = none)
  bool require_signatures = false;  // objects claiming created_by_ref = identity_id must carry a valid signature
  // Inbound: what the partner may do at OUR node (it authenticates as the store user `name`).
  std::vector<std::string> read_collections, write_collections;  // our collection ids ("*" = all)
  std::vector<std::string> allowed_types;  // STIX types it may see (empty = all)
  Tlp tlp_ceiling = Tlp::kGreen;           // CLEAR, GREEN, AMBER, AMBER+STRICT (RED never leaves)
  PersonalDataRules personal_data;         // drop/redact types, properties, free text
  // Outbound: where WE pull from / push to the partner's node.
  std::string url;                           // https://host:port/taxii2/ ("" = no sync)
  std::string remote_user, remote_password;  // our credentials at the partner (or a bearer token)
  std::string ca_file;                       // PEM to trust for the partner's TLS (self-signed in tests)
  std::vector<std::pair<std::string, std::string>> pull;  // remote collection id -> our collection id
  std::vector<std::pair<std::string, std::string>> push;  // our collection id -> remote collection id
};

// The peer as one JSON object (all fields; remote_password included: the
// file lives in the node's private data directory). ParsePeerJson is its inverse.
std::string PeerToJson(const Peer& p);
Result<Peer> ParsePeerJson(std::string_view json);
// The same without secrets (remote_password shown as "***"), for `peer show`.
std::string PeerToDisplayJson(const Peer& p);

// Checks a peer's fields (name syntax, identity id, key length, TLP ceiling not RED,
// url scheme); InvalidArgument naming the field.
Status ValidatePeer(const Peer& p);

// The persistent set of peers. Thread-safe (one connection behind a mutex);
// reads see changes made by other processes (e.g. `cordon peer add` while
// `cordon serve` runs) at once.
class PeerStore {
 public:
  // Opens (creating) the federation database at `path` (DATA/federation.db).
  static Result<std::unique_ptr<PeerStore>> Open(const std::string& path);
  ~PeerStore();

  Status Put(const Peer& p);  // insert or replace (validated)
  Result<Peer> Get(const std::string& name);  // NotFound
  Result<std::vector<Peer>> List();  // by name
  Status Remove(const std::string& name);  // NotFound if absent
  // The peer whose identity_id is `identity_id` (NotFound if none).
  Result<Peer> FindByIdentity(const std::string& identity_id);
  // The peers as a cached snapshot, re-read only when the file changed
  // (PRAGMA data_version): cheap enough for every request. A record that does
  // not parse does not fail the snapshot: its name is listed in `unreadable`
  // (the policy then refuses that partner everything) and the others load.
  struct Unreadable {
    std::string name, identity_id, why;
  };
  struct PeerSnapshot {
    std::vector<Peer> peers;
    std::vector<Unreadable> unreadable;
  };
  Result<std::shared_ptr<const PeerSnapshot>> Snapshot();
  // Whether a record named `name` exists, readable or not (peer remove).
  Result<bool> Exists(const std::string& name);

  sqlite::Connection& connection() { return *db_; }  // for modules keeping tables beside (sync state)

 private:
  explicit PeerStore(std::unique_ptr<sqlite::Connection> db);
  Result<std::vector<Peer>> ListLocked();
  std::mutex mu_;
  std::unique_ptr<sqlite::Connection> db_;
  int64_t snapshot_version_ = -1;
  std::shared_ptr<const PeerSnapshot> snapshot_;
};

// DATA/federation.db
std::string FederationDbPath(const std::string& data_dir);

}  // namespace cordon::federation
