#include "taxii/auth.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "store/sqlite/sqlite_store.h"
#include "testutil/testutil.h"

namespace cordon::taxii {
namespace {

std::string Basic(std::string_view user, std::string_view password) {
  std::string plain = std::string(user) + ":" + std::string(password);
  std::string b64(sodium_base64_ENCODED_LEN(plain.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  b64.resize(b64.size() - 1);  // the terminating NUL
  return "Basic " + b64;
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = store::OpenSqliteStore(dir_.path() / "cordon.db");
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
    auto hash = HashPassword("right");
    ASSERT_TRUE(hash.ok());
    ASSERT_TRUE(store_->PutUser({.name = "alice", .password_hash = *hash, .can_read = {"*"}}).ok());
    ASSERT_TRUE(store_->PutUser({.name = "bob", .password_hash = *hash, .can_read = {"*"}}).ok());
  }

  // Uses up `client`'s allowance of failed logins.
  void Exhaust(std::string_view client) {
    for (int i = 0; i < Authenticator::kFailedLoginBurst; ++i) {
      auto r = auth_->Authenticate(Basic(i % 2 ? "alice" : "nobody", "wrong"), client);
      ASSERT_TRUE(absl::IsUnauthenticated(r.status())) << r.status();
      EXPECT_EQ(r.status().message(), "wrong user name or password");  // unknown user: same answer
    }
  }

  testutil::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(AuthenticatorTest, FailedBasicLoginsAreThrottledPerAddressAndPerIpv6Slash64) {
  auth_ = std::make_unique<Authenticator>(*store_);
  ASSERT_TRUE(auth_->Authenticate(Basic("alice", "right"), "192.0.2.1").ok());
  Exhaust("2001:db8:1:2::1");
  // The next attempt from the same /64 is refused before checking, even with
  // the right password (bob's: not verified before, so not in the cache).
  auto r = auth_->Authenticate(Basic("bob", "right"), "2001:db8:1:2:ffff::9");
  EXPECT_TRUE(absl::IsResourceExhausted(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("too many failed logins"), std::string_view::npos);
  // Another /64 and an IPv4 client keep their own allowance.
  EXPECT_TRUE(auth_->Authenticate(Basic("bob", "right"), "2001:db8:1:3::1").ok());
  auto other = auth_->Authenticate(Basic("alice", "wrong"), "198.51.100.7");
  EXPECT_TRUE(absl::IsUnauthenticated(other.status())) << other.status();
  // A credential verified before stays valid (cached), even from the throttled /64.
  EXPECT_TRUE(auth_->Authenticate(Basic("alice", "right"), "2001:db8:1:2::1").ok());
}

}  // namespace
}  // namespace cordon::taxii
