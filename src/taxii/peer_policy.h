// The hook by which sharing agreements reach the TAXII service without the
// service knowing where agreements are kept: federation implements PeerPolicy,
// the CLI hands it to the Service (ServiceOptions::peer_policy).
//
// For a user that is a partner, every endpoint applies its PeerView: only
// collections the agreement lets it read/write, only objects Visible() to it
// (filtered inside the query loop, so counts, `more`/`next` and the
// X-TAXII-Date-Added-* headers describe what is served), and the bytes served
// are AppendServed()'s (personal data removed). Every answered request of a
// partner is then reported to Record() (the audit trail). Users that are not
// partners cost one map lookup; without a policy, one pointer check.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/ingest.h"
#include "store/store.h"

namespace cordon::taxii {

// One answered request of a partner.
struct PeerAccess {
  std::string_view user;
  std::string_view method;    // GET, POST, DELETE
  std::string_view endpoint;  // discovery, api-root, status, collections, collection, manifest, objects,
                              // object, versions
  std::string_view path;      // the request target without the query
  int http_status = 0;
  std::vector<std::string> ids;  // object ids served, written or deleted
};

// One partner's agreement as the service applies it. Thread-safe, immutable.
class PeerView {
 public:
  virtual ~PeerView() = default;
  // Further limits on top of the user's own can_read/can_write.
  virtual bool MayRead(const std::string& collection) const = 0;
  virtual bool MayWrite(const std::string& collection) const = 0;
  // Whether a stored object (its type and bytes) may be served at all.
  virtual bool Visible(std::string_view type, std::string_view bytes) const = 0;
  // Appends what is served for a Visible object: its bytes, with the
  // agreement's personal-data rules applied.
  virtual void AppendServed(std::string_view bytes, std::string& out) const = 0;
};

class PeerPolicy {
 public:
  virtual ~PeerPolicy() = default;
  // The agreement of `user`, or nullptr if it is not a partner.
  virtual std::shared_ptr<const PeerView> ViewFor(const store::User& user) = 0;
  // An admission rule for objects POSTed by anyone (e.g. "objects created by
  // partner X must carry X's signature"); nullptr if there is none.
  virtual ingest::ObjectCheck IngestCheck() = 0;
  // Called once per answered request of a partner (after ViewFor returned a
  // view), before the answer leaves. An error withholds the answer: the
  // partner gets 503 instead (what cannot be audited is not served).
  virtual Status Record(const PeerAccess& access) = 0;
};

}  // namespace cordon::taxii
