// The audit trail: an append-only, hash-chained log of who did what (every
// partner read and write through TAXII, and decisions of other modules).
//
// Format: DATA/audit.log, one JSON object per line,
//   {"seq":N,"time":"RFC3339","actor":"...","action":"...","ids":[...],"details":{...},"prev":"<hex>","hash":"<hex>"}
// where hash = SHA-256 over the line's bytes up to (excluding) ,"hash": — which
// include "prev", the previous entry's hash (64 zeros for seq 1). Changing,
// removing, inserting or reordering any entry breaks the chain at that line.
// The tail is anchored in DATA/audit.head ({"seq":N,"hash":"..."}, rewritten
// after each fsync), so cutting entries off the end is detected too; for
// protection against someone able to rewrite both files, keep the head hash
// that `cordon audit verify` prints somewhere else (it can be checked with
// --expect-head).
//
// Why a file of JSON lines and not an SQLite table: appends are one write(2)
// with O_APPEND (no B-tree, no WAL), the format is readable and checkable with
// standard tools by an auditor without cordon, and an edit is a text edit that
// the chain exposes. Durability is batched: Append returns after write(2) (the
// entry survives a crash of the process); a background thread fdatasyncs every
// sync_interval (an OS crash can lose at most that window) — Flush() forces it.
//
// Several processes may append to the same log (flock serialises them; each
// re-reads the tail if another appended). Thread-safe.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace cordon::audit {

struct Entry {
  int64_t seq = 0;
  std::string time;  // RFC 3339, microseconds
  std::string actor;   // who: a peer / user name, or "cordon" for the node itself
  std::string action;  // what, e.g. "taxii.get.objects", "taxii.post.objects", "decision"
  std::vector<std::string> ids;  // the STIX ids concerned
  std::string details;  // a JSON object's text ("" if none), e.g. {"endpoint":"...","http_status":200}
  std::string prev, hash;
};

struct LogOptions {
  int sync_interval_ms = 200;  // 0: fdatasync in every Append
};

std::string AuditLogPath(const std::string& data_dir);   // DATA/audit.log
std::string AuditHeadPath(const std::string& log_path);  // <log>.head -> DATA/audit.head

class AuditLog {
 public:
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path, LogOptions options = {});
  ~AuditLog();  // syncs what is pending

  // Appends one entry. `details` must be a JSON object's text or empty
  // (InvalidArgument otherwise, nothing written).
  Status Append(std::string_view actor, std::string_view action, const std::vector<std::string>& ids,
                std::string_view details = {});
  // fdatasync now and update the head anchor.
  Status Flush();

 private:
  AuditLog(std::string path, int fd, LogOptions options);
  Status LoadTailLocked();
  Status SyncLocked();
  void SyncLoop();

  const std::string path_;
  const int fd_;
  const LogOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false, dirty_ = false;
  int64_t end_ = -1;  // file size after our last append (-1: unknown)
  int64_t seq_ = 0;
  std::string hash_;
  std::thread syncer_;
};

struct VerifyResult {
  int64_t entries = 0;
  std::string head_hash;  // hash of the last entry ("" if empty)
};

// Checks the whole chain (and the head anchor if present; and `expect_head`
// if given: the hash the last entry must have, or an earlier entry's hash if
// entries were appended since). DataLoss naming the first bad line and why.
Result<VerifyResult> Verify(const std::string& path, const std::string& expect_head = "");

struct ReadFilter {
  std::string actor;                 // "" = all
  std::optional<Timestamp> since;    // entries at or after
};
// The entries matching `filter`, in order (not verified: use Verify).
Result<std::vector<Entry>> Read(const std::string& path, const ReadFilter& filter = {});

}  // namespace cordon::audit
