#include "events/input.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ostream>
#include <thread>

namespace cordon::events {
namespace {

constexpr size_t kBlock = 1 << 20;

Status Errno(const std::string& what, const std::string& path) {
  return absl::UnavailableError(what + " '" + path + "': " + std::strerror(errno));
}

}  // namespace

Result<std::unique_ptr<LineReader>> LineReader::Open(const std::string& path, bool follow) {
  int fd = path == "-" ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  auto r = std::unique_ptr<LineReader>(new LineReader(path, fd, follow && path != "-"));
  struct stat st{};
  if (::fstat(fd, &st) == 0) {
    r->inode_ = st.st_ino;
    r->device_ = st.st_dev;
  }
  return r;
}

LineReader::LineReader(std::string path, int fd, bool follow)
    : path_(std::move(path)), fd_(fd), follow_(follow), buf_(kBlock + kJsonPadding) {}

LineReader::~LineReader() {
  if (fd_ > 0) ::close(fd_);
}

Result<size_t> LineReader::Fill() {
  if (begin_ > 0) {  // keep the partial line, move it to the front
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() - kJsonPadding - end_ < kBlock / 2) buf_.resize(buf_.size() * 2);  // long line
  while (true) {
    ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - kJsonPadding - end_);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot read", path_);
    end_ += static_cast<size_t>(n);
    offset_ += n;
    bytes_read_ += static_cast<uint64_t>(n);
    std::memset(buf_.data() + end_, 0, kJsonPadding);
    return static_cast<size_t>(n);
  }
}

Status LineReader::CheckRotation(bool* switched) {
  *switched = false;
  struct stat by_path{}, by_fd{};
  if (::fstat(fd_, &by_fd) == 0 && by_fd.st_size < offset_) {  // truncated in place
    if (::lseek(fd_, 0, SEEK_SET) < 0) return Errno("cannot rewind", path_);
    offset_ = 0;
    begin_ = end_ = 0;
    line_no_ = 0;
    ++generation_;
    *switched = true;
    return absl::OkStatus();
  }
  if (::stat(path_.c_str(), &by_path) != 0) return absl::OkStatus();  // moved away, new one not there yet
  if (by_path.st_ino == inode_ && by_path.st_dev == device_) return absl::OkStatus();
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::OkStatus();  // try again on the next poll
  ::close(fd_);
  fd_ = fd;
  struct stat st{};
  ::fstat(fd_, &st);
  inode_ = st.st_ino;
  device_ = st.st_dev;
  offset_ = 0;
  begin_ = end_ = 0;
  line_no_ = 0;
  ++generation_;
  *switched = true;
  return absl::OkStatus();
}

Result<LineReader::Next> LineReader::NextLine(std::string_view* line) {
  while (true) {
    if (begin_ < end_) {
      const char* start = buf_.data() + begin_;
      const void* nl = std::memchr(start, '\n', end_ - begin_);
      if (nl) {
        size_t len = static_cast<const char*>(nl) - start;
        *line = std::string_view(start, len);
        begin_ += len + 1;
        ++line_no_;
        return Next::kLine;
      }
    }
    CORDON_ASSIGN_OR_RETURN(size_t n, Fill());
    if (n > 0) continue;
    // End of the current data.
    if (!follow_) {
      if (begin_ < end_) {  // last line without '\n'
        *line = std::string_view(buf_.data() + begin_, end_ - begin_);
        begin_ = end_;
        ++line_no_;
        return Next::kLine;
      }
      return Next::kEnd;
    }
    // Following: the old file is drained; a partial line there is complete
    // only if the file was rotated away.
    struct stat by_path{};
    bool replaced = ::stat(path_.c_str(), &by_path) == 0 &&
                    (by_path.st_ino != inode_ || by_path.st_dev != device_);
    if (replaced && begin_ < end_) {
      *line = std::string_view(buf_.data() + begin_, end_ - begin_);
      begin_ = end_;
      ++line_no_;
      return Next::kLine;
    }
    bool switched = false;
    CORDON_RETURN_IF_ERROR(CheckRotation(&switched));
    if (switched) continue;
    return Next::kIdle;
  }
}

Status DecodeInputs(const std::vector<std::string>& paths, Format format, const DecodeOptions& options,
                    const std::function<void(const match::Event&)>& on_event, DecodeStats* stats) {
  // One decoder per input: header state (Zeek #fields) belongs to its file.
  struct Input {
    std::unique_ptr<LineReader> reader;
    std::unique_ptr<Decoder> decoder;
    uint64_t generation = UINT64_MAX;
    bool ended = false;
  };
  std::vector<Input> inputs;
  for (const auto& p : paths) {
    CORDON_ASSIGN_OR_RETURN(auto r, LineReader::Open(p, options.follow));
    inputs.push_back({std::move(r), Decoder::Create(format)});
  }
  match::Event event;
  int reported = 0;
  enum class Pumped { kEnded, kIdle, kMore };
  // Decodes up to `budget` lines of one input.
  auto pump = [&](Input& in, uint64_t budget) -> Result<Pumped> {
    LineReader& r = *in.reader;
    for (uint64_t i = 0; i < budget; ++i) {
      if (options.stop && (i & 1023) == 0 && options.stop()) return Pumped::kEnded;
      std::string_view line;
      CORDON_ASSIGN_OR_RETURN(LineReader::Next next, r.NextLine(&line));
      if (next == LineReader::Next::kEnd) return Pumped::kEnded;
      if (next == LineReader::Next::kIdle) return Pumped::kIdle;
      if (r.generation() != in.generation) {
        in.decoder->BeginSource(r.path());
        in.generation = r.generation();
      }
      ++stats->lines;
      stats->bytes += line.size() + 1;
      switch (in.decoder->Decode(line, &event)) {
        case LineKind::kEvent:
          ++stats->events;
          event.source = r.path();
          event.line = r.line_number();
          on_event(event);
          break;
        case LineKind::kSkip: ++stats->skipped; break;
        case LineKind::kMalformed:
          ++stats->malformed;
          if (options.errors && reported < options.max_reported) {
            *options.errors << r.path() << ":" << r.line_number() << ": malformed record: "
                            << in.decoder->error() << "\n";
            if (++reported == options.max_reported) {
              *options.errors << "(further malformed records are counted, not shown)\n";
            }
          }
          break;
      }
    }
    return Pumped::kMore;
  };

  if (!options.follow) {
    for (Input& in : inputs) {
      CORDON_ASSIGN_OR_RETURN(Pumped p, pump(in, UINT64_MAX));
      (void)p;
      if (options.stop && options.stop()) break;
    }
    return absl::OkStatus();
  }
  // Following: round-robin in batches so that one busy input cannot starve
  // the others; sleep when all are idle.
  while (true) {
    bool all_idle = true, all_ended = true;
    for (Input& in : inputs) {
      if (in.ended) continue;
      CORDON_ASSIGN_OR_RETURN(Pumped p, pump(in, 4096));
      in.ended = p == Pumped::kEnded;
      all_ended = all_ended && in.ended;
      all_idle = all_idle && p != Pumped::kMore;
    }
    if (all_ended || (options.stop && options.stop())) return absl::OkStatus();
    if (all_idle) {
      if (options.on_idle) options.on_idle();
      std::this_thread::sleep_for(std::chrono::milliseconds(options.poll_ms));
    }
  }
}

}  // namespace cordon::events
