#include "audit/audit_log.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "base/json_writer.h"

namespace cordon::audit {
namespace {

const std::string kZeroHash(64, '0');
constexpr std::string_view kHashKey = ",\"hash\":\"";

std::string Sha256Hex(std::string_view prefix) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(prefix.data()), prefix.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  return std::string(hex, crypto_hash_sha256_BYTES * 2);
}

// flock for the duration of a scope (other processes appending to the same log).
class FileLock {
 public:
  explicit FileLock(int fd) : fd_(fd) { ::flock(fd_, LOCK_EX); }
  ~FileLock() { ::flock(fd_, LOCK_UN); }

 private:
  int fd_;
};

Status WriteAll(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(std::string("audit log write failed: ") + strerror(errno));
    }
    s.remove_prefix(n);
  }
  return absl::OkStatus();
}

// Parses one line; `*prefix_len` is where ,"hash": starts.
Result<Entry> ParseLine(std::string_view line, size_t* prefix_len) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(line.data(), line.size()).get(e) || !e.is_object()) {
    return absl::DataLossError("not a JSON object");
  }
  Entry out;
  std::string_view s;
  int64_t seq = 0;
  if (e["seq"].get(seq)) return absl::DataLossError("no integer seq");
  out.seq = seq;
  if (e["time"].get(s)) return absl::DataLossError("no time");
  out.time = std::string(s);
  if (e["actor"].get(s)) return absl::DataLossError("no actor");
  out.actor = std::string(s);
  if (e["action"].get(s)) return absl::DataLossError("no action");
  out.action = std::string(s);
  simdjson::dom::array ids;
  if (e["ids"].get(ids)) return absl::DataLossError("no ids array");
  for (auto id : ids) {
    if (id.get(s)) return absl::DataLossError("ids must be strings");
    out.ids.emplace_back(s);
  }
  if (auto d = e["details"]; !d.error()) out.details = simdjson::to_string(d.value());
  if (e["prev"].get(s)) return absl::DataLossError("no prev");
  out.prev = std::string(s);
  if (e["hash"].get(s)) return absl::DataLossError("no hash");
  out.hash = std::string(s);
  size_t at = line.rfind(kHashKey);
  if (at == std::string_view::npos) return absl::DataLossError("no hash");
  *prefix_len = at;
  return out;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError("no audit log at '" + path + "'");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

std::string AuditLogPath(const std::string& data_dir) { return data_dir + "/audit.log"; }
std::string AuditHeadPath(const std::string& log_path) {
  std::string p = log_path;
  if (p.size() > 4 && p.compare(p.size() - 4, 4, ".log") == 0) p.resize(p.size() - 4);
  return p + ".head";
}

AuditLog::AuditLog(std::string path, int fd, LogOptions options)
    : path_(std::move(path)), fd_(fd), options_(options) {
  if (options_.sync_interval_ms > 0) syncer_ = std::thread([this] { SyncLoop(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
  std::lock_guard lock(mu_);
  if (dirty_) SyncLocked().IgnoreError();
  ::close(fd_);
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path, LogOptions options) {
  if (sodium_init() < 0) return absl::InternalError("libsodium init failed");
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError("cannot open audit log '" + path + "': " + strerror(errno));
  std::unique_ptr<AuditLog> log(new AuditLog(path, fd, options));
  std::lock_guard lock(log->mu_);
  FileLock flock(fd);
  CORDON_RETURN_IF_ERROR(log->LoadTailLocked());
  return log;
}

// Reads the last complete line for (seq, hash). A partial last line (a write
// cut by a crash) is cut off: it was never durable.
Status AuditLog::LoadTailLocked() {
  struct stat st{};
  if (::fstat(fd_, &st) != 0) return absl::UnavailableError("cannot stat the audit log");
  const int64_t size = st.st_size;
  // Read backwards until the tail holds a complete last line (two '\n', or the file start).
  std::string tail;
  int64_t from = size;
  while (from > 0) {
    int64_t chunk = std::min<int64_t>(from, 1 << 16);
    from -= chunk;
    std::string buf(chunk, '\0');
    if (::pread(fd_, buf.data(), chunk, from) != chunk) return absl::UnavailableError("cannot read the audit log");
    tail.insert(0, buf);
    size_t last = tail.rfind('\n');
    if (last != std::string::npos && last > 0 && tail.rfind('\n', last - 1) != std::string::npos) break;
  }
  size_t last = tail.rfind('\n');
  int64_t keep = last == std::string::npos ? from : from + static_cast<int64_t>(last) + 1;
  if (keep != size) {
    if (::ftruncate(fd_, keep) != 0) return absl::UnavailableError("cannot cut a partial audit line");
    tail.resize(keep - from);
  }
  end_ = keep;
  if (keep == 0) {
    seq_ = 0;
    hash_ = kZeroHash;
    return absl::OkStatus();
  }
  size_t start = tail.size() >= 2 ? tail.rfind('\n', tail.size() - 2) : std::string::npos;
  start = start == std::string::npos ? 0 : start + 1;
  std::string_view line(tail.data() + start, tail.size() - 1 - start);
  size_t prefix = 0;
  auto e = ParseLine(line, &prefix);
  if (!e.ok()) return absl::DataLossError("audit log '" + path_ + "': last line: " + std::string(e.status().message()));
  seq_ = e->seq;
  hash_ = e->hash;
  return absl::OkStatus();
}

Status AuditLog::Append(std::string_view actor, std::string_view action, const std::vector<std::string>& ids,
                        std::string_view details) {
  if (!details.empty()) {
    simdjson::dom::parser parser;
    simdjson::dom::element e;
    if (parser.parse(details.data(), details.size()).get(e) || !e.is_object()) {
      return absl::InvalidArgumentError("audit details must be a JSON object");
    }
  }
  std::lock_guard lock(mu_);
  FileLock flock(fd_);
  struct stat st{};
  if (::fstat(fd_, &st) != 0) return absl::UnavailableError("cannot stat the audit log");
  if (st.st_size != end_) CORDON_RETURN_IF_ERROR(LoadTailLocked());  // another process appended
  std::string line = "{\"seq\":" + std::to_string(seq_ + 1) + ",\"time\":\"" + FormatTimestamp(Now(), 6) +
                     "\",\"actor\":";
  AppendJsonString(line, actor);
  line += ",\"action\":";
  AppendJsonString(line, action);
  line += ",\"ids\":[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) line += ',';
    AppendJsonString(line, ids[i]);
  }
  line += ']';
  if (!details.empty()) {
    line += ",\"details\":";
    line += details;
  }
  line += ",\"prev\":\"" + hash_ + "\"";
  std::string hash = Sha256Hex(line);
  line += kHashKey;
  line += hash;
  line += "\"}\n";
  Status w = WriteAll(fd_, line);
  if (!w.ok()) {
    end_ = -1;  // unknown: re-read the tail next time
    return w;
  }
  ++seq_;
  hash_ = std::move(hash);
  end_ = st.st_size + static_cast<int64_t>(line.size());
  dirty_ = true;
  if (options_.sync_interval_ms <= 0) return SyncLocked();
  return absl::OkStatus();
}

Status AuditLog::SyncLocked() {
  if (::fdatasync(fd_) != 0) return absl::UnavailableError("audit log fdatasync failed");
  dirty_ = false;
  // The anchor follows the durable log, never precedes it.
  std::string head = AuditHeadPath(path_);
  std::string tmp = head + ".tmp";
  std::string body = "{\"seq\":" + std::to_string(seq_) + ",\"hash\":\"" + hash_ + "\"}\n";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return absl::UnavailableError("cannot write '" + tmp + "'");
  Status w = WriteAll(fd, body);
  ::close(fd);
  if (!w.ok() || ::rename(tmp.c_str(), head.c_str()) != 0) return absl::UnavailableError("cannot write '" + head + "'");
  return absl::OkStatus();
}

Status AuditLog::Flush() {
  std::lock_guard lock(mu_);
  return SyncLocked();
}

void AuditLog::SyncLoop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(options_.sync_interval_ms));
    if (dirty_) SyncLocked().IgnoreError();  // retried at the next tick
  }
}

Result<VerifyResult> Verify(const std::string& path, const std::string& expect_head) {
  if (sodium_init() < 0) return absl::InternalError("libsodium init failed");
  CORDON_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  VerifyResult r;
  std::string prev = kZeroHash;
  bool expected_seen = expect_head.empty();
  std::vector<std::string> hashes;  // by seq - 1
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < text.size()) {
    ++line_no;
    size_t nl = text.find('\n', pos);
    std::string where = "audit log line " + std::to_string(line_no) + ": ";
    if (nl == std::string::npos) return absl::DataLossError(where + "incomplete line at the end of the file");
    std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    size_t prefix = 0;
    auto e = ParseLine(line, &prefix);
    if (!e.ok()) return absl::DataLossError(where + std::string(e.status().message()));
    if (e->seq != line_no) {
      return absl::DataLossError(where + "seq " + std::to_string(e->seq) + " where " + std::to_string(line_no) +
                                 " was expected (entries removed, inserted or reordered)");
    }
    if (Sha256Hex(line.substr(0, prefix)) != e->hash) {
      return absl::DataLossError(where + "the entry's hash does not match its content (entry altered)");
    }
    if (e->prev != prev) {
      return absl::DataLossError(where + "prev does not match the hash of the entry before (entries removed, "
                                         "inserted or reordered)");
    }
    prev = e->hash;
    if (e->hash == expect_head) expected_seen = true;
    hashes.push_back(e->hash);
  }
  r.entries = static_cast<int64_t>(hashes.size());
  r.head_hash = hashes.empty() ? "" : hashes.back();
  if (auto head = ReadFile(AuditHeadPath(path)); head.ok() && !head->empty()) {
    simdjson::dom::parser parser;
    simdjson::dom::element e;
    int64_t seq = 0;
    std::string_view hash;
    if (parser.parse(*head).get(e) || e["seq"].get(seq) || e["hash"].get(hash)) {
      return absl::DataLossError(AuditHeadPath(path) + ": not a head anchor");
    }
    if (seq > r.entries) {
      return absl::DataLossError("the log ends at entry " + std::to_string(r.entries) + " but the head anchor (" +
                                 AuditHeadPath(path) + ") records entry " + std::to_string(seq) +
                                 " (entries cut off the end)");
    }
    if (seq > 0 && hashes[seq - 1] != hash) {
      return absl::DataLossError("entry " + std::to_string(seq) + " does not have the hash the head anchor records");
    }
  }
  if (!expected_seen) {
    return absl::DataLossError("no entry has the expected head hash " + expect_head +
                               " (the log was rewritten or cut)");
  }
  return r;
}

Result<std::vector<Entry>> Read(const std::string& path, const ReadFilter& filter) {
  CORDON_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  std::vector<Entry> out;
  std::string since = filter.since ? FormatTimestamp(*filter.since, 6) : "";
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < text.size()) {
    ++line_no;
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    size_t prefix = 0;
    auto e = ParseLine(line, &prefix);
    if (!e.ok()) return absl::DataLossError("audit log line " + std::to_string(line_no) + ": " +
                                            std::string(e.status().message()));
    if (!filter.actor.empty() && e->actor != filter.actor) continue;
    if (!since.empty() && e->time < since) continue;  // same fixed format: text order is time order
    out.push_back(std::move(*e));
  }
  return out;
}

}  // namespace cordon::audit
