// The matcher's index: N indicators compiled into immutable lookup tables, and
// the Matcher that runs decoded log events (match/event.h) against it.
//
// Build reduces each indicator's pattern to atoms (match/atoms.h) and files
// them by key type: exact keys in compact open-addressing tables (domains,
// URLs, e-mail addresses, hashes, JA3, X.509), domain suffixes (a key matches
// if one of its parent domains is listed), IPv4/IPv6 blocks in one hash table
// per prefix length present, and LIKE / MATCHES in one Hyperscan database per
// key type. Indicators whose atoms only select candidates are confirmed with
// pattern::Evaluate on the event's observed data; those without any usable
// atom are evaluated against every event that offers observed data.
//
// Validity: an indicator matches an event only if valid_from <= event.time <
// valid_until (no valid_until: forever). Revoked indicators are left out.
//
// Threading: an Index is immutable and shared (std::shared_ptr<const Index>);
// any number of Matchers (one per thread) use it concurrently. IndexHolder
// publishes a new index atomically: each event is matched wholly against one
// index, old or new, and the old one is freed when its last Matcher moves on.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "match/atoms.h"
#include "match/event.h"
#include "match/tables.h"
#include "pattern/ast.h"
#include "stix/object.h"

namespace cordon::match {

struct IndicatorSpec {
  std::string id;       // "indicator--<uuid>"
  std::string pattern;  // STIX pattern text (pattern_type stix)
  pattern::Version version = pattern::Version::k21;
  Timestamp valid_from;                 // ns == 0 and no valid_from: from the epoch
  std::optional<Timestamp> valid_until;  // exclusive
  bool revoked = false;
  // The strictest TLP among its object_marking_refs: what is derived from a
  // hit (a sighting) is shared no wider than the indicator itself.
  stix::Tlp tlp = stix::Tlp::kNone;
};

struct BuildReport {
  size_t indicators = 0;      // specs given
  size_t compiled = 0;        // in the index with at least one atom
  size_t decided = 0;         //   of which an atom hit is a match
  size_t evaluated_only = 0;  // no usable atom: evaluated against every event whose observed data holds a field they need
  size_t never_match = 0;     // no decoded event can match them (AtomSet::never; listed in warnings)
  size_t revoked = 0;         // left out
  size_t atoms = 0;           // atoms filed (exact, suffix, cidr, regex)
  size_t atoms_by_kind[4] = {0, 0, 0, 0};  // indexed by AtomKind
  size_t regex_prefilter = 0;    // expressions Hyperscan could only prefilter (hits confirmed by evaluation)
  size_t regex_unsupported = 0;  // expressions Hyperscan cannot take (their indicators: evaluate-only)
  struct Rejected {
    std::string id;
    std::string reason;
  };
  std::vector<Rejected> rejected;  // invalid id, pattern or validity window
  std::vector<Rejected> warnings;  // compiled, but less efficiently (regex_unsupported) or never matching
  double seconds = 0;              // build time
  size_t memory_bytes = 0;         // Index::MemoryBytes()

  // One line: "N indicators: C compiled (D decided), E evaluate-only, V never match, R revoked, X rejected; ...".
  std::string Summary() const;
};

class Matcher;

class Index {
 public:
  // Compiles `specs`. Problems with single indicators are listed in the
  // report (rejected) and never fail the build; errors are reserved for
  // limits (more than 2^31 indicators, 4 GB of keys of one type) and
  // Hyperscan failures that are not about one expression.
  static Result<std::shared_ptr<const Index>> Build(std::vector<IndicatorSpec> specs);
  // An index that matches nothing.
  static std::shared_ptr<const Index> Empty();

  ~Index();
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  const BuildReport& report() const { return report_; }
  size_t size() const { return records_.size(); }  // indicators in the index
  // Heap bytes held by the tables (slots, key arenas, postings, indicator
  // records, Hyperscan databases, kept patterns).
  size_t MemoryBytes() const;
  // "indicator--<uuid>" of indicator number `i` (0 <= i < size()).
  std::string IndicatorId(uint32_t i) const;

 private:
  friend class Matcher;
  struct Impl;
  Index();
  // What a hit needs about its indicator, in one record (one cache miss).
  struct Record {
    std::array<uint8_t, 16> uuid;
    // Index into windows_, plus kNeedsEvaluation when an atom hit must be
    // confirmed (the pattern is then found in Impl::eval_slot). 20 bytes.
    uint32_t window;
  };
  static_assert(sizeof(Record) == 20);
  static constexpr uint32_t kNeedsEvaluation = 0x80000000u;
  std::vector<Record, internal::HugePageAllocator<Record>> records_;
  // Validity [from, until) in ns and TLP, deduplicated: few distinct ones,
  // so the TLP costs no byte per indicator.
  struct Window {
    int64_t from, until;
    stix::Tlp tlp;
  };
  std::vector<Window> windows_;
  std::unique_ptr<Impl> impl_;
  BuildReport report_;
};

// One indicator matched by one event.
struct Hit {
  uint32_t indicator = 0;         // number in the index
  const Key* key = nullptr;       // the event key that hit; nullptr for evaluate-only indicators
  AtomKind kind = AtomKind::kExact;
  bool evaluated = false;         // confirmed by pattern::Evaluate on the observed data
  stix::Tlp tlp = stix::Tlp::kNone;  // the indicator's (IndicatorSpec::tlp)

  // "indicator--<uuid>", valid during OnHit only. Written out on the first
  // call: a sink that counts, filters or aggregates by `indicator` pays
  // nothing for it (it was a third of a hit's instructions).
  std::string_view indicator_id() const;

 private:
  friend class Matcher;
  const std::array<uint8_t, 16>* uuid_ = nullptr;
  std::string* id_ = nullptr;  // the Matcher's buffer, empty until written
};

class HitSink {
 public:
  virtual ~HitSink() = default;
  virtual void OnHit(const Event& event, const Hit& hit) = 0;
};

// Publishes the current index; Swap is atomic with respect to Matchers.
class IndexHolder {
 public:
  explicit IndexHolder(std::shared_ptr<const Index> initial = Index::Empty());
  void Swap(std::shared_ptr<const Index> next);
  std::shared_ptr<const Index> Current() const { return current_.load(std::memory_order_acquire); }
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::shared_ptr<const Index>> current_;
  std::atomic<uint64_t> generation_{0};
};

// Runs events against an index. One per thread (it owns scratch space); it
// allocates nothing per event once warmed up, except when a candidate needs
// full evaluation (the observed data is then built).
class Matcher {
 public:
  // Follows `holder`: picks up a swapped index before the next event.
  explicit Matcher(const IndexHolder& holder);
  // Uses one fixed index.
  explicit Matcher(std::shared_ptr<const Index> index);
  ~Matcher();
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;

  // Reports each indicator matching `event` once (the first key that hit).
  // Returns the number of hits reported.
  size_t Match(const Event& event, HitSink& sink);

  // Match() on each event in turn, with the same hits in the same order, but
  // the index reads of all their keys overlapped: with millions of
  // indicators every lookup is a cache miss, and one key at a time the core
  // mostly waits. Batches of 16-64 events suit; the batch's events must stay
  // valid until it returns. The index is refreshed (IndexHolder) per batch.
  size_t MatchBatch(std::span<const Event> events, HitSink& sink);

  const Index& index() const { return *index_; }

  struct Stats {
    uint64_t events = 0;
    uint64_t hits = 0;
    uint64_t evaluations = 0;        // pattern::Evaluate calls
    uint64_t observed_errors = 0;    // observed data that failed to build or load
    uint64_t evaluation_errors = 0;  // Evaluate returned an error (counted as no match)
  };
  const Stats& stats() const { return stats_; }

 private:
  struct State;
  void Refresh();
  static int OnRegexMatch(unsigned int id, unsigned long long from, unsigned long long to, unsigned int flags,
                          void* ctx);
  void BeginEvent(const Event& event, HitSink& sink);
  void MatchSlowKey(const Key& key);
  void EvaluateOnly(uint64_t fields);
  void Consider(uint32_t target, const Key* key, AtomKind kind);
  void ConsiderTarget(uint32_t target, const Key* key, AtomKind kind);
  void ConsiderOne(uint32_t indicator, const Key* key, AtomKind kind);
  // Out of line: keys that several indicators share are few, and this loop,
  // inlined, made every hit save and restore registers for it.
  [[gnu::noinline]] void ConsiderPostings(uint32_t at, const Key* key, AtomKind kind);
  // Whether the current event's observed data matches `pattern` (false when
  // it has none or it fails to load; counted in stats_).
  [[gnu::noinline]] bool Evaluate(const pattern::Pattern& pattern);

  const IndexHolder* holder_ = nullptr;
  uint64_t generation_ = 0;
  std::shared_ptr<const Index> index_;
  std::unique_ptr<State> state_;
  Stats stats_;
};

}  // namespace cordon::match
