// The node's own identity: a STIX identity object (name, sector, country) and
// an Ed25519 key pair. Kept in the data directory:
//   DATA/identity.json  the signed identity object (public; carries x_cordon_public_key)
//   DATA/identity.key   base64 secret key, mode 0600
#pragma once

#include <string>

#include "base/status.h"
#include "federation/signature.h"

namespace cordon::federation {

struct NodeIdentity {
  std::string id;           // identity--...
  std::string object_json;  // the signed STIX identity object
  KeyPair key;
};

// Creates the identity and key files; AlreadyExists if the node has one (an
// identity is never silently replaced: partners pinned its key).
Result<NodeIdentity> InitIdentity(const std::string& data_dir, const std::string& name, const std::string& sector,
                                  const std::string& country);
// NotFound (with a hint) if the node has no identity yet.
Result<NodeIdentity> LoadIdentity(const std::string& data_dir);

// The node's signed extension-definition for kSignatureExtension (what it
// publishes beside its identity so partners can interpret signatures).
Result<std::string> SignedExtensionDefinition(const NodeIdentity& identity);

}  // namespace cordon::federation
