#include "federation/signature.h"

#include <simdjson.h>
#include <sodium.h>

#include "base/json_writer.h"
#include "federation/jcs.h"

namespace cordon::federation {
namespace {

bool SodiumReady() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

}  // namespace

std::string Base64(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

Result<std::string> FromBase64(std::string_view b64) {
  std::string out(b64.size() * 3 / 4 + 3, '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), b64.data(), b64.size(), nullptr,
                        &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return absl::InvalidArgumentError("not valid base64");
  }
  out.resize(len);
  return out;
}

KeyPair GenerateKeyPair() {
  SodiumReady();
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_keypair(pk, sk);
  KeyPair k{Base64({reinterpret_cast<char*>(pk), sizeof pk}), std::string(reinterpret_cast<char*>(sk), sizeof sk)};
  sodium_memzero(sk, sizeof sk);
  return k;
}

Result<KeyPair> KeyPairFromSecret(std::string_view secret_b64) {
  SodiumReady();
  CORDON_ASSIGN_OR_RETURN(std::string sk, FromBase64(secret_b64));
  if (sk.size() != crypto_sign_SECRETKEYBYTES) {
    return absl::InvalidArgumentError("an Ed25519 secret key has 64 bytes, this one " + std::to_string(sk.size()));
  }
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  crypto_sign_ed25519_sk_to_pk(pk, reinterpret_cast<const unsigned char*>(sk.data()));
  return KeyPair{Base64({reinterpret_cast<char*>(pk), sizeof pk}), std::move(sk)};
}

Result<std::string> Sign(std::string_view object_json, const KeyPair& key, std::string_view signer_identity) {
  SodiumReady();
  if (key.secret_key.size() != crypto_sign_SECRETKEYBYTES) return absl::InvalidArgumentError("no secret key");
  CORDON_ASSIGN_OR_RETURN(std::string canonical, CanonicalizeWithout(object_json, kSignatureExtension, nullptr));
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(),
                       reinterpret_cast<const unsigned char*>(key.secret_key.data()));
  // Insert the extension into the canonical text and canonicalize again (the
  // extension lands in its sorted place; "extensions" may be new).
  std::string ext = "{\"extension_type\":\"property-extension\",\"algorithm\":\"Ed25519\","
                    "\"canonicalization\":\"RFC8785\",\"signer\":";
  AppendJsonString(ext, signer_identity);
  ext += ",\"signature\":\"" + Base64({reinterpret_cast<char*>(sig), sizeof sig}) + "\"}";
  std::string member = "\"" + std::string(kSignatureExtension) + "\":" + ext;
  // Rebuild the object with the extension member added, then canonicalize
  // again (the member lands in its sorted place; "extensions" may be new).
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(canonical).get(root)) return absl::InternalError("canonical form does not parse");
  std::string with = "{";
  bool had_extensions = false;
  for (auto [k, v] : root) {
    if (k == "extensions" && !v.is_object()) {
      return absl::InvalidArgumentError("\"extensions\" is not a JSON object: no place for the signature");
    }
    if (with.size() > 1) with += ',';
    AppendJsonString(with, k);
    with += ':';
    if (k == "extensions") {
      had_extensions = true;
      std::string inner = simdjson::to_string(v);
      inner.pop_back();  // '}'
      with += inner;
      if (inner.size() > 1) with += ',';
      with += member + "}";
    } else {
      with += simdjson::to_string(v);
    }
  }
  if (!had_extensions) {
    if (with.size() > 1) with += ',';
    with += "\"extensions\":{" + member + "}";
  }
  with += '}';
  return Canonicalize(with);
}

Status Verify(std::string_view object_json, std::string_view public_key_b64) {
  SodiumReady();
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(object_json.data(), object_json.size()).get(root) || !root.is_object()) {
    return absl::UnauthenticatedError("signature check: not a JSON object");
  }
  simdjson::dom::element ext;
  if (root["extensions"][kSignatureExtension].get(ext)) {
    return absl::UnauthenticatedError("no signature: the object lacks extensions['" +
                                      std::string(kSignatureExtension) + "']");
  }
  std::string_view alg, sig_b64;
  if (ext["algorithm"].get(alg) || alg != "Ed25519") {
    return absl::UnauthenticatedError("signature: algorithm must be \"Ed25519\"");
  }
  if (ext["signature"].get(sig_b64)) return absl::UnauthenticatedError("signature: no \"signature\" string");
  auto sig = FromBase64(sig_b64);
  if (!sig.ok() || sig->size() != crypto_sign_BYTES) {
    return absl::UnauthenticatedError("signature: \"signature\" is not a base64 Ed25519 signature (64 bytes)");
  }
  auto pk = FromBase64(public_key_b64);
  if (!pk.ok() || pk->size() != crypto_sign_PUBLICKEYBYTES) {
    return absl::InvalidArgumentError("the configured public key is not a base64 Ed25519 key");
  }
  auto canonical = CanonicalizeWithout(object_json, kSignatureExtension, nullptr);
  if (!canonical.ok()) return absl::UnauthenticatedError("signature check: " + std::string(canonical.status().message()));
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                  reinterpret_cast<const unsigned char*>(canonical->data()), canonical->size(),
                                  reinterpret_cast<const unsigned char*>(pk->data())) != 0) {
    return absl::UnauthenticatedError(
        "signature does not match the object (altered after signing, or signed by another key)");
  }
  return absl::OkStatus();
}

std::string SignatureExtensionDefinition(std::string_view identity_id, std::string_view created) {
  std::string b = "{\"type\":\"extension-definition\",\"spec_version\":\"2.1\",\"id\":";
  AppendJsonString(b, kSignatureExtension);
  b += ",\"created\":";
  AppendJsonString(b, created);
  b += ",\"modified\":";
  AppendJsonString(b, created);
  b += ",\"created_by_ref\":";
  AppendJsonString(b, identity_id);
  b += ",\"name\":\"cordon Ed25519 object signature\","
       "\"description\":\"A detached Ed25519 signature over the RFC 8785 (JCS) canonical form of the object "
       "without this extension (and without extensions if it was the only one). Verify with the public key of "
       "the identity named by the object's created_by_ref.\","
       "\"schema\":\"https://github.com/cordon-node/cordon/blob/main/docs/signature-extension.md\","
       "\"version\":\"1.0.0\",\"extension_types\":[\"property-extension\"]}";
  return b;
}

}  // namespace cordon::federation
