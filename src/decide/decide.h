// Decisions: what the node does about an indicator, a source or a collection
// (block, monitor, allow), who decided, why, and until when.
//
// Decisions live in their own SQLite file (DATA/decisions.db), apart from the
// object store. Nothing is ever deleted: a revocation is recorded beside the
// decision it ends, so `decide list --all` is the full history.
//
// Resolution rule (the contract every enforcement export follows):
//  * A decision is in force at time T if it is not revoked and its expiry (if
//    any) is after T.
//  * For an indicator, the decisions in force on it are grouped by scope; the
//    most specific non-empty scope wins: the indicator itself, else its
//    source (created_by_ref), else the collection it is stored in.
//  * Within the winning scope, allow beats block, and block beats monitor
//    (an allow is a deliberate exception: when in doubt, do not break things);
//    among decisions of the same action, the newest (highest id) wins, so its
//    policy and --subdomains apply.
//  * Only an effective `block` reaches enforcement exports; exports further
//    drop values of indicators that are revoked or past valid_until, values on
//    a warning list, and values of any indicator whose effective decision is
//    `allow` (see export/).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace cordon::sqlite {
class Connection;
}

namespace cordon::decide {

enum class Action : uint8_t { kBlock, kMonitor, kAllow };
// Ordered from least to most specific.
enum class Scope : uint8_t { kCollection, kSource, kIndicator };

// How a DNS enforcement point answers a blocked name (RPZ policy).
struct Policy {
  enum class Kind : uint8_t { kNxdomain, kNodata, kCname };
  Kind kind = Kind::kNxdomain;
  std::string cname;  // kCname: the walled-garden name, without trailing dot
};

std::string_view ActionName(Action a);
std::string_view ScopeName(Scope s);
Result<Action> ParseAction(std::string_view text);
// "nxdomain", "nodata", "cname:walled.example" (the name is checked as a domain).
Result<Policy> ParsePolicy(std::string_view text);
std::string FormatPolicy(const Policy& p);
// "30s", "15m", "12h", "7d", "2w": a positive duration, in nanoseconds.
Result<int64_t> ParseDuration(std::string_view text);

struct Decision {
  int64_t id = 0;
  Action action = Action::kBlock;
  Scope scope = Scope::kIndicator;
  std::string target;  // indicator id, identity id, or collection id
  std::string reason;
  std::string author;
  Timestamp created;
  std::optional<Timestamp> expires;
  Policy policy;
  bool subdomains = false;  // block the whole subtree below a blocked domain
  std::optional<Timestamp> revoked;
  std::string revoked_by;
  std::string revoke_reason;

  bool InForce(Timestamp now) const { return !revoked && (!expires || now < *expires); }
};

// The decision store. One process-local connection; not thread-safe.
class DecisionStore {
 public:
  ~DecisionStore();
  // Opens (creating if needed) the decision database at `path`.
  static Result<std::unique_ptr<DecisionStore>> Open(const std::string& path);

  // Records `d` (id, created and revocation fields are assigned here) and
  // returns it as stored. Checks: target is a STIX id of the scope's type
  // (indicator--, identity--) or a UUID (collection), reason and author are
  // non-empty, an expiry lies in the future.
  Result<Decision> Add(Decision d);
  // Ends decision `id` (NotFound; FailedPrecondition if already revoked).
  Result<Decision> Revoke(int64_t id, const std::string& author, const std::string& reason);
  Result<Decision> Get(int64_t id);
  // All decisions, oldest first (revoked and expired ones included).
  Result<std::vector<Decision>> List();
  // Decisions in force at `now`, oldest first.
  Result<std::vector<Decision>> InForce(Timestamp now);
  // A number that grows with every Add/Revoke (cheap: one row read); exports
  // poll it to notice changes made by other processes.
  Result<int64_t> Version();

  // State kept per export output: the last serial handed out and the digest of
  // the content it was given for, so a serial only moves when content changes.
  struct SerialState {
    int64_t serial = 0;
    std::string digest;
  };
  Result<SerialState> GetSerial(const std::string& output);
  Status PutSerial(const std::string& output, const SerialState& state);

 private:
  explicit DecisionStore(std::unique_ptr<sqlite::Connection> c);
  std::unique_ptr<sqlite::Connection> db_;
};

// The effective decision for indicators, under the resolution rule above.
// Built once from the decisions in force; lookups are hash probes.
class Resolver {
 public:
  explicit Resolver(std::vector<Decision> in_force);
  // nullptr when no decision applies. `source` and `collection` may be empty.
  const Decision* Effective(std::string_view indicator, std::string_view source,
                            std::string_view collection) const;
  bool empty() const { return decisions_.empty(); }
  // Effective() points into this vector.
  const std::vector<Decision>& decisions() const { return decisions_; }
  bool AnyBlock() const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Winners = std::unordered_map<std::string, size_t, Hash, std::equal_to<>>;
  const Decision* Find(Scope scope, std::string_view target) const;
  std::vector<Decision> decisions_;
  // Per scope: target -> index into decisions_ of the winner for that target.
  Winners winners_[3];
};

}  // namespace cordon::decide
