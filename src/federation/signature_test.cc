#include "federation/signature.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "federation/identity.h"
#include "federation/jcs.h"
#include "stix/object.h"

namespace cordon::federation {
namespace {

constexpr const char* kIndicator =
    R"({"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",)"
    R"("created":"2026-01-02T03:04:05.000Z","modified":"2026-01-02T03:04:05.000Z",)"
    R"("created_by_ref":"identity--0f0bf6c3-4a1b-4c8e-9f5e-0a2b4c6d8e10","name":"bad domain",)"
    R"("pattern":"[domain-name:value = 'evil.example']","pattern_type":"stix","valid_from":"2026-01-02T03:04:05Z"})";

TEST(Signature, SignVerifyAndTamper) {
  KeyPair k = GenerateKeyPair();
  auto signed_json = Sign(kIndicator, k, "identity--0f0bf6c3-4a1b-4c8e-9f5e-0a2b4c6d8e10");
  ASSERT_TRUE(signed_json.ok()) << signed_json.status();
  EXPECT_NE(signed_json->find(kSignatureExtension), std::string::npos);
  EXPECT_TRUE(Verify(*signed_json, k.public_key).ok());
  // Still a valid STIX object (the extension is a property-extension).
  EXPECT_TRUE(stix::ValidateObject(*signed_json).ok());
  // Member order and whitespace do not matter: the signature covers the canonical form.
  std::string reordered = *signed_json;
  reordered.insert(1, " ");
  EXPECT_TRUE(Verify(reordered, k.public_key).ok());

  std::string tampered = *signed_json;
  tampered.replace(tampered.find("evil.example"), 12, "evil.exampla");
  Status st = Verify(tampered, k.public_key);
  EXPECT_TRUE(absl::IsUnauthenticated(st));
  EXPECT_NE(st.message().find("does not match"), std::string_view::npos) << st;

  EXPECT_NE(Verify(*signed_json, GenerateKeyPair().public_key).message().find("does not match"),
            std::string_view::npos);
  Status missing = Verify(kIndicator, k.public_key);
  EXPECT_NE(missing.message().find("no signature"), std::string_view::npos) << missing;
  std::string garbled = *signed_json;
  size_t sig = garbled.find("\"signature\":\"") + 13;
  garbled.replace(sig, 4, "!!!!");
  EXPECT_NE(Verify(garbled, k.public_key).message().find("not a base64"), std::string_view::npos);
}

TEST(Signature, KeepsOtherExtensionsAndResigns) {
  KeyPair k = GenerateKeyPair();
  std::string obj = std::string(kIndicator);
  obj.pop_back();
  obj += R"(,"extensions":{"extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e":{"extension_type":"property-extension","rank":5}}})";
  auto s1 = Sign(obj, k, "identity--x");
  ASSERT_TRUE(s1.ok());
  EXPECT_NE(s1->find("\"rank\":5"), std::string::npos);
  EXPECT_TRUE(Verify(*s1, k.public_key).ok());
  KeyPair k2 = GenerateKeyPair();
  auto s2 = Sign(*s1, k2, "identity--y");  // replaces the previous signature
  ASSERT_TRUE(s2.ok());
  EXPECT_TRUE(Verify(*s2, k2.public_key).ok());
  EXPECT_FALSE(Verify(*s2, k.public_key).ok());
  EXPECT_EQ(s2->find("identity--x\""), std::string::npos);
}

// Found by signature_fuzz: with "extensions" a string, Sign added a second
// "extensions" member, and the result did not verify.
TEST(Signature, RefusesWhatItCannotSignUnambiguously) {
  KeyPair k = GenerateKeyPair();
  std::string obj = std::string(kIndicator);
  obj.pop_back();
  auto st = Sign(obj + R"(,"extensions":"indicator"})", k, "identity--x");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("\"extensions\" is not a JSON object"), std::string_view::npos) << st.status();
  st = Sign(obj + R"(,"name":"other name"})", k, "identity--x");  // "name" twice
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("\"name\" appears twice"), std::string_view::npos) << st.status();

  // A partner's object with a repeated member does not verify, whatever its signature.
  auto good = Sign(kIndicator, k, "identity--x");
  ASSERT_TRUE(good.ok());
  std::string repeated = *good;
  repeated.insert(1, R"("pattern":"[domain-name:value = 'benign.example']",)");
  Status v = Verify(repeated, k.public_key);
  EXPECT_TRUE(absl::IsUnauthenticated(v)) << v;
  EXPECT_NE(v.message().find("appears twice"), std::string_view::npos) << v;
}

TEST(Signature, KeyPairFromSecretRoundTrip) {
  KeyPair k = GenerateKeyPair();
  auto back = KeyPairFromSecret(Base64(k.secret_key));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->public_key, k.public_key);
  EXPECT_EQ(k.public_key.size(), 44u);
  EXPECT_FALSE(KeyPairFromSecret("AAAA").ok());
}

TEST(Identity, InitLoadAndExtensionDefinition) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("cordon_identity_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto id = InitIdentity(dir.string(), "CERT-XX", "government", "FR");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ((fs::status(dir / "identity.key").permissions() & fs::perms::all), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_TRUE(absl::IsAlreadyExists(InitIdentity(dir.string(), "again", "", "FR").status()));
  auto loaded = LoadIdentity(dir.string());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->id, id->id);
  EXPECT_EQ(loaded->key.public_key, id->key.public_key);
  auto v = stix::ValidateObject(loaded->object_json);
  EXPECT_TRUE(v.ok()) << (v.problems.empty() ? "" : v.problems[0].ToString());
  EXPECT_NE(loaded->object_json.find("\"x_cordon_country\":\"FR\""), std::string::npos);
  auto def = SignedExtensionDefinition(*loaded);
  ASSERT_TRUE(def.ok());
  auto dv = stix::ValidateObject(*def);
  EXPECT_TRUE(dv.ok()) << (dv.problems.empty() ? "" : dv.problems[0].ToString());
  EXPECT_TRUE(Verify(*def, loaded->key.public_key).ok());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cordon::federation
