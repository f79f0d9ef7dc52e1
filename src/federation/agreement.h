// Sharing agreements applied: the federation side of taxii::PeerPolicy.
//
// Rules for what a partner is served (Agreement::Visible):
//  - only types in allowed_types (if any), never types in personal_data.drop_types,
//    nor an object that cannot be served without a reference to such a type;
//  - TLP: the most restrictive TLP marking (object and granular markings) must
//    be at or below tlp_ceiling, and TLP:RED is never served whatever the
//    ceiling. An object WITHOUT a TLP marking counts as TLP:CLEAR (STIX: no
//    marking states no restriction; mark what must not leave);
//  - TLP:AMBER and AMBER+STRICT objects created by another partner are not
//    passed on: TLP 2.0 lets a recipient share them inside its organisation
//    (and, for AMBER, its clients), not with further partners.
// What is served (Agreement::AppendServed): the stored bytes, or, when the
// personal-data rules edit the object, the object without what they remove —
// and then without our signature too (it would no longer verify).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "audit/audit_log.h"
#include "federation/peers.h"
#include "taxii/peer_policy.h"

namespace cordon::federation {

// The most restrictive TLP among an object's object and granular markings
// (kNone if none is a TLP marking, or the bytes are not a JSON object).
Tlp ObjectTlp(std::string_view object_json);

class Agreement : public taxii::PeerView {
 public:
  // `other_partners`: the identity ids of the node's other peers, whose
  // AMBER objects this partner is not served.
  explicit Agreement(Peer peer, std::unordered_set<std::string> other_partners = {});
  bool MayRead(const std::string& collection) const override;
  bool MayWrite(const std::string& collection) const override;
  bool Visible(std::string_view type, std::string_view bytes) const override;
  void AppendServed(std::string_view bytes, std::string& out) const override;
  const Peer& peer() const { return peer_; }

 private:
  Peer peer_;
  std::unordered_set<std::string> allowed_types_, drop_types_, redact_, other_partners_;
  bool read_all_, write_all_;
};

// taxii::PeerPolicy over the peer store and the audit log. Agreements are
// re-read at most every kRefresh (changes by `cordon peer add` reach a
// running server within that time). Fails closed: while the peers cannot be
// read, every user is refused everything; a partner whose record does not
// parse is refused everything.
class FederationPolicy : public taxii::PeerPolicy {
 public:
  static constexpr std::chrono::milliseconds kRefresh{500};
  // `audit` may be null (nothing recorded).
  FederationPolicy(std::shared_ptr<PeerStore> peers, std::shared_ptr<audit::AuditLog> audit);

  std::shared_ptr<const taxii::PeerView> ViewFor(const store::User& user) override;
  ingest::ObjectCheck IngestCheck() override;
  Status Record(const taxii::PeerAccess& access) override;

 private:
  struct State;
  std::shared_ptr<const State> Current();

  std::shared_ptr<PeerStore> peers_;
  std::shared_ptr<audit::AuditLog> audit_;
  std::mutex mu_;
  std::shared_ptr<const State> state_;
  const void* state_source_ = nullptr;  // the snapshot state_ was built from (null: none)
  bool loaded_ = false;                 // state_ reflects a read of the peers (or its failure)
  std::chrono::steady_clock::time_point checked_{};
};

// The admission rule for partners requiring signatures, usable outside TAXII
// (sync, import): an object whose created_by_ref is the identity of a peer
// with require_signatures must verify with that peer's key.
// `signers`: identity id -> (peer name, public key).
Status CheckSignature(std::string_view object_json,
                      const std::unordered_map<std::string, std::pair<std::string, std::string>>& signers);

// The same rule as an ingest check for a set of peers (nullptr if none of
// them requires signatures): what the sync path passes to ingest::IngestObjects.
ingest::ObjectCheck SignatureCheckFor(const std::vector<Peer>& peers);

}  // namespace cordon::federation
