// The node's durable state: API roots, collections, STIX objects (every
// version), status resources, users and API tokens.
//
// Backends (store/sqlite today) implement this interface; only cli/ names a
// backend. All methods are thread-safe: readers run concurrently and are never
// blocked by the single writer. A method that writes returns only after its
// transaction committed durably (acknowledged means durable), and either all
// of its effects are stored or none.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/functional/function_ref.h>

#include "base/status.h"
#include "base/time.h"
#include "stix/object.h"

namespace cordon::store {

struct ApiRoot {
  std::string name;  // URL path segment: served at /<name>/
  std::string title;
  std::string description;
  int64_t max_content_length = 0;  // bytes a POST body may have
};

struct Collection {
  std::string id;        // a UUID (TAXII requires it) chosen by the operator
  std::string api_root;  // ApiRoot::name
  std::string title;
  std::string description;
  std::string alias;  // optional
};

struct User {
  std::string name;
  std::string password_hash;  // libsodium crypto_pwhash_str output (Argon2id); "" = no password login
  std::vector<std::string> can_read;   // collection ids, or "*" for all
  std::vector<std::string> can_write;  // collection ids, or "*" for all
  bool CanRead(const std::string& collection) const;
  bool CanWrite(const std::string& collection) const;
};

// An API token; the token itself is never stored, only its hash.
struct Token {
  std::string token_hash;  // hex of crypto_generichash (BLAKE2b-256) of the token
  std::string user;        // the User it acts as
  std::string label;
};

// One validated object to store.
struct NewObject {
  std::string_view bytes;  // the JSON as it arrived (validated)
  stix::ObjectInfo info;
};

enum class PutOutcome {
  kAdded,      // a new (id, version) was stored
  kUnchanged,  // the same (id, version) was already stored with identical bytes
  kConflict,   // the same (id, version) exists with different bytes; nothing stored for it
};

struct PutResult {
  std::vector<PutOutcome> outcomes;  // one per input object, same order
  std::vector<Timestamp> date_added;  // per object: when that (id, version) was first stored
};

// match[version] of TAXII: any combination of first, last, all and timestamps.
struct VersionFilter {
  bool all = false;
  bool first = false;
  bool last = false;
  std::vector<Timestamp> versions;
  // No filter given => TAXII's default, "last".
  bool empty() const { return !all && !first && !last && versions.empty(); }
};

struct ObjectQuery {
  std::string collection;
  std::optional<Timestamp> added_after;  // strictly after
  std::vector<std::string> ids;          // match[id]: any of
  std::vector<std::string> types;        // match[type]: any of
  VersionFilter version;                 // match[version]
  std::vector<std::string> spec_versions;  // match[spec_version]: any of ("2.0", "2.1"); empty => all
  // Pagination: rows after this cursor (from a previous Page::next_cursor).
  int64_t after_cursor = 0;
  int limit = 0;  // > 0
  bool with_bytes = true;  // false for manifests: skip reading object bytes
  // false: rows carry only date_added and bytes (id, type, spec_version and
  // version left empty), for pages that serve the bytes alone: fewer columns
  // for SQLite to decode per row.
  bool with_identity = true;
};

struct StoredObject {
  std::string id;
  std::string type;
  std::string spec_version;  // "2.0" / "2.1"
  Timestamp version;         // modified/created (ObjectInfo::version())
  Timestamp date_added;
  std::string bytes;  // empty unless ObjectQuery::with_bytes
};

// One stored version as a query streams it: views into the store's current
// row, valid only during the visitor call that receives it.
struct ObjectRow {
  std::string_view id;
  std::string_view type;
  std::string_view spec_version;
  Timestamp version;
  Timestamp date_added;
  std::string_view bytes;  // empty unless ObjectQuery::with_bytes
};
using RowVisitor = absl::FunctionRef<void(const ObjectRow&)>;

// Where a page ended.
struct PageEnd {
  bool more = false;        // rows beyond this page match too
  int64_t next_cursor = 0;  // pass as after_cursor for the next page (0 when !more)
};

struct Page {
  std::vector<StoredObject> items;  // ordered by date_added, then insertion
  bool more = false;                // rows beyond this page match too
  int64_t next_cursor = 0;          // pass as after_cursor for the next page
};

// A status resource as TAXII 2.1 §4.3 defines it.
struct StatusDetail {
  std::string id;
  std::string version;  // as the object gave it (modified/created)
  std::string message;
};
struct StatusResource {
  std::string id;
  std::string api_root;
  std::string user;  // who made the request; only they may read it
  std::string status;  // "complete" or "pending"
  Timestamp request_timestamp;
  std::vector<StatusDetail> successes, failures, pendings;
  int64_t total_count() const { return successes.size() + failures.size() + pendings.size(); }
};

// A write transaction over several batches of objects for one collection:
// nothing is visible to readers, nor durable, before Commit(); destroying it
// uncommitted (or after a failed Put) rolls every batch back. It holds the
// store's single writer from Begin to its end (other writers wait), so use it
// from the thread that began it and keep it short-lived.
class BulkWrite {
 public:
  virtual ~BulkWrite() = default;
  // Outcomes per object, as PutObjects. After an error the transaction is
  // lost: later Put and Commit calls fail.
  virtual Result<PutResult> Put(const std::vector<NewObject>& objects) = 0;
  virtual Status Commit() = 0;
};

// While it lives, the reads its thread makes on the store that began it share
// one snapshot (one read transaction) instead of taking one each. See
// Store::BeginReadScope.
class ReadScope {
 public:
  virtual ~ReadScope() = default;
};

class Store {
 public:
  virtual ~Store() = default;

  // Pins this thread's reads to one snapshot until the scope ends: they are
  // consistent with each other (a TAXII request sees its user, collection and
  // objects as of one moment), and a request's reads cost one transaction.
  // Writes are not affected, but reads in the scope do not see them: use it
  // around read-only work. Returns nullptr when the thread already holds a
  // scope (the outer one stays in force) or the backend has none.
  virtual std::unique_ptr<ReadScope> BeginReadScope() { return nullptr; }

  // --- API roots and collections ---
  virtual Status PutApiRoot(const ApiRoot& root) = 0;  // insert or replace
  virtual Result<std::vector<ApiRoot>> ListApiRoots() = 0;
  virtual Result<ApiRoot> GetApiRoot(const std::string& name) = 0;  // NotFound
  virtual Status PutCollection(const Collection& c) = 0;  // insert or replace; NotFound if api root missing
  virtual Result<std::vector<Collection>> ListCollections(const std::string& api_root) = 0;
  virtual Result<Collection> GetCollection(const std::string& api_root, const std::string& id) = 0;

  // --- objects ---
  // Opens a write transaction on `collection` that spans any number of Put
  // batches (a bulk import that lands whole or not at all).
  virtual Result<std::unique_ptr<BulkWrite>> BeginBulkWrite(const std::string& collection) = 0;
  // Stores all objects of one request in one transaction (one fsync): a
  // BulkWrite of one batch. date_added of new versions is strictly
  // increasing across all calls.
  Result<PutResult> PutObjects(const std::string& collection, const std::vector<NewObject>& objects);
  // Streams the page of versions `query` selects to `visit`, in page order
  // (date_added, then insertion), without copying them: a TAXII page goes
  // from the row straight into the response. `visit` must not call the store.
  virtual Result<PageEnd> ScanObjects(const ObjectQuery& query, RowVisitor visit) = 0;
  // The same page, copied out.
  Result<Page> QueryObjects(const ObjectQuery& query);
  // Deletes the versions of `id` selected by `version`/`spec_versions` (TAXII
  // DELETE object; an empty VersionFilter means all versions). Returns the
  // number of versions removed (0 => the caller answers 404).
  virtual Result<int64_t> DeleteObject(const std::string& collection, const std::string& id,
                                       const VersionFilter& version,
                                       const std::vector<std::string>& spec_versions) = 0;
  // Number of stored versions in a collection.
  virtual Result<int64_t> CountObjects(const std::string& collection) = 0;

  // --- status resources ---
  virtual Status PutStatus(const StatusResource& status) = 0;
  virtual Result<StatusResource> GetStatus(const std::string& id) = 0;  // NotFound

  // --- users and tokens ---
  virtual Status PutUser(const User& user) = 0;  // insert or replace
  virtual Result<User> GetUser(const std::string& name) = 0;  // NotFound
  virtual Result<std::vector<User>> ListUsers() = 0;
  virtual Status PutToken(const Token& token) = 0;
  virtual Result<Token> GetTokenByHash(const std::string& token_hash) = 0;  // NotFound
};

}  // namespace cordon::store
