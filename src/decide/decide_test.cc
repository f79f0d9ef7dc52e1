#include "decide/decide.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "testutil/testutil.h"

namespace cordon::decide {
namespace {

constexpr const char* kInd = "indicator--11111111-1111-4111-8111-111111111111";
constexpr const char* kSrc = "identity--22222222-2222-4222-8222-222222222222";
constexpr const char* kCol = "33333333-3333-4333-8333-333333333333";

Decision Make(Action a, Scope s, std::string target) {
  Decision d;
  d.action = a;
  d.scope = s;
  d.target = std::move(target);
  d.reason = "test";
  d.author = "analyst";
  return d;
}

class DecideTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = DecisionStore::Open((dir_.path() / "decisions.db").string());
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }
  testutil::TempDir dir_;
  std::unique_ptr<DecisionStore> store_;
};

TEST_F(DecideTest, AddListRevokeKeepsHistory) {
  auto v0 = store_->Version();
  ASSERT_TRUE(v0.ok());
  auto d = Make(Action::kBlock, Scope::kIndicator, kInd);
  d.policy = *ParsePolicy("cname:Walled.Example.");
  d.subdomains = true;
  auto added = store_->Add(d);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_GT(added->id, 0);
  EXPECT_GT(*store_->Version(), *v0);
  auto revoked = store_->Revoke(added->id, "lead", "false positive");
  ASSERT_TRUE(revoked.ok()) << revoked.status();
  EXPECT_EQ(store_->Revoke(added->id, "lead", "again").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->Revoke(999, "lead", "x").status().code(), absl::StatusCode::kNotFound);
  auto all = store_->List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  const Decision& got = (*all)[0];
  EXPECT_EQ(got.policy.kind, Policy::Kind::kCname);
  EXPECT_EQ(got.policy.cname, "walled.example");
  EXPECT_TRUE(got.subdomains);
  ASSERT_TRUE(got.revoked.has_value());
  EXPECT_EQ(got.revoked_by, "lead");
  EXPECT_EQ(got.revoke_reason, "false positive");
  EXPECT_TRUE(store_->InForce(Now())->empty());
}

TEST_F(DecideTest, RejectsBadInput) {
  EXPECT_FALSE(store_->Add(Make(Action::kBlock, Scope::kIndicator, "identity--x")).ok());
  EXPECT_FALSE(store_->Add(Make(Action::kBlock, Scope::kSource, kInd)).ok());
  EXPECT_FALSE(store_->Add(Make(Action::kBlock, Scope::kCollection, "not-a-uuid")).ok());
  auto no_reason = Make(Action::kBlock, Scope::kIndicator, kInd);
  no_reason.reason = " ";
  EXPECT_FALSE(store_->Add(no_reason).ok());
  auto past = Make(Action::kBlock, Scope::kIndicator, kInd);
  past.expires = Timestamp{Now().ns - 1'000'000'000};
  EXPECT_FALSE(store_->Add(past).ok());
  EXPECT_TRUE(store_->List()->empty());
  EXPECT_FALSE(ParsePolicy("cname:bad..name").ok());
  EXPECT_FALSE(ParsePolicy("drop").ok());
  EXPECT_FALSE(ParseDuration("7").ok());
  EXPECT_FALSE(ParseDuration("-1d").ok());
  EXPECT_EQ(*ParseDuration("7d"), 7 * 86400 * 1'000'000'000LL);
}

TEST_F(DecideTest, ExpiredDecisionIsNotInForce) {
  auto d = Make(Action::kBlock, Scope::kIndicator, kInd);
  d.expires = Timestamp{Now().ns + 3'600'000'000'000LL};
  ASSERT_TRUE(store_->Add(d).ok());
  EXPECT_EQ(store_->InForce(Now())->size(), 1u);
  EXPECT_TRUE(store_->InForce(Timestamp{Now().ns + 7'200'000'000'000LL})->empty());
}

TEST_F(DecideTest, SerialStateRoundTrips) {
  EXPECT_EQ(store_->GetSerial("out.rpz")->serial, 0);
  ASSERT_TRUE(store_->PutSerial("out.rpz", {42, "abc"}).ok());
  EXPECT_EQ(store_->GetSerial("out.rpz")->serial, 42);
  EXPECT_EQ(store_->GetSerial("out.rpz")->digest, "abc");
}

TEST(ResolverTest, MostSpecificScopeWinsAndAllowBeatsBlockAtSameLevel) {
  std::vector<Decision> ds;
  auto add = [&](Action a, Scope s, std::string t) {
    Decision d = Make(a, s, std::move(t));
    d.id = static_cast<int64_t>(ds.size()) + 1;
    ds.push_back(d);
  };
  add(Action::kBlock, Scope::kCollection, kCol);    // 1
  add(Action::kMonitor, Scope::kSource, kSrc);      // 2
  add(Action::kBlock, Scope::kIndicator, kInd);     // 3
  add(Action::kAllow, Scope::kIndicator, kInd);     // 4
  add(Action::kBlock, Scope::kIndicator, kInd);     // 5: allow still wins at the same level
  Resolver r(ds);
  EXPECT_EQ(r.Effective(kInd, kSrc, kCol)->id, 4);
  EXPECT_EQ(r.Effective("indicator--other", kSrc, kCol)->id, 2);  // source beats collection
  EXPECT_EQ(r.Effective("indicator--other", "", kCol)->id, 1);
  EXPECT_EQ(r.Effective("indicator--other", "", "other"), nullptr);
  EXPECT_TRUE(r.AnyBlock());

  // Among blocks at one level, the newest gives the policy.
  std::vector<Decision> two;
  two.push_back(Make(Action::kBlock, Scope::kSource, kSrc));
  two.back().id = 1;
  two.push_back(Make(Action::kBlock, Scope::kSource, kSrc));
  two.back().id = 2;
  two.back().policy = Policy{Policy::Kind::kNodata, ""};
  Resolver r2(two);
  EXPECT_EQ(r2.Effective(kInd, kSrc, "")->policy.kind, Policy::Kind::kNodata);
}

}  // namespace
}  // namespace cordon::decide
