// Signed provenance: a detached Ed25519 signature (libsodium) over the RFC 8785
// canonical form of a STIX object, carried in the object itself as a STIX 2.1
// property extension (§7.3) declared by the extension-definition kSignatureExtension:
//
//   "extensions": {"extension-definition--1ade2b29-...": {
//       "extension_type": "property-extension", "algorithm": "Ed25519",
//       "canonicalization": "RFC8785", "signer": "identity--...", "signature": "<base64>"}}
//
// The signature covers the object WITHOUT that extension member (and without
// "extensions" if it was the only one), so it survives being carried inside.
// The signer is bound by the covered `created_by_ref` (whose key a partner has
// in its peer record), not by the uncovered "signer" hint.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace cordon::federation {

inline constexpr std::string_view kSignatureExtension = "extension-definition--1ade2b29-5fa9-4475-a83b-39492cfd87c0";

struct KeyPair {
  std::string public_key;  // base64 (standard, padded) of the 32-byte Ed25519 public key
  std::string secret_key;  // raw 64-byte libsodium secret key (seed + public key)
};

KeyPair GenerateKeyPair();
// The key pair from a base64 secret key (64 bytes), as kept in the key file.
Result<KeyPair> KeyPairFromSecret(std::string_view secret_b64);
std::string Base64(std::string_view bytes);
Result<std::string> FromBase64(std::string_view b64);

// `object_json` (a STIX object) signed by `key` for `signer_identity`: its
// canonical form with the signature extension added (replacing any previous
// signature). InvalidArgument if `object_json` is not a JSON object.
Result<std::string> Sign(std::string_view object_json, const KeyPair& key, std::string_view signer_identity);

// OK if `object_json` carries a signature by `public_key_b64` over its
// canonical form; otherwise Unauthenticated with the reason (missing
// extension, malformed signature, or "does not match": altered or another key).
Status Verify(std::string_view object_json, std::string_view public_key_b64);

// The extension-definition object declaring kSignatureExtension, created by
// `identity_id` at `created` (RFC 3339), unsigned.
std::string SignatureExtensionDefinition(std::string_view identity_id, std::string_view created);

}  // namespace cordon::federation
