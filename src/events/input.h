// Reading log inputs line by line and feeding them through a decoder.
//
// LineReader reads a file or stdin in large blocks and hands out lines as
// views into its buffer (no copy per line), each followed by at least
// kJsonPadding readable bytes. With `follow` it keeps reading a growing file
// and survives rotation: when the path names a new file (rename + create) the
// rest of the old file is read first, then the new one from its start; when
// the file shrinks (truncation) it restarts at offset 0. Both start line
// numbers again at 1 and bump generation(), so decoders forget the old header.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "events/decoder.h"
#include "match/event.h"

namespace cordon::events {

class LineReader {
 public:
  // `path` "-" reads standard input (follow then means: until EOF).
  static Result<std::unique_ptr<LineReader>> Open(const std::string& path, bool follow);
  ~LineReader();

  enum class Next { kLine, kIdle, kEnd };
  // kLine: `*line` (without '\n') valid until the next call. kIdle (follow
  // only): nothing new yet, call again later. kEnd: input finished.
  Result<Next> NextLine(std::string_view* line);

  const std::string& path() const { return path_; }
  uint64_t line_number() const { return line_no_; }  // of the last line returned
  uint64_t generation() const { return generation_; }  // bumped on rotation / truncation
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  LineReader(std::string path, int fd, bool follow);
  Result<size_t> Fill();          // reads more into the buffer; 0 at EOF
  Status CheckRotation(bool* switched);

  std::string path_;
  int fd_;
  bool follow_;
  std::vector<char> buf_;
  size_t begin_ = 0, end_ = 0;  // unconsumed bytes
  uint64_t line_no_ = 0, generation_ = 0, bytes_read_ = 0;
  off_t offset_ = 0;  // bytes of the current file read
  ino_t inode_ = 0;
  dev_t device_ = 0;
  bool eof_ = false;
};

struct DecodeStats {
  uint64_t lines = 0, events = 0, skipped = 0, malformed = 0, bytes = 0;
};

struct DecodeOptions {
  bool follow = false;
  int poll_ms = 200;
  // Malformed lines reported to `errors` ("FILE:LINE: why"); after this many only counted.
  int max_reported = 20;
  std::ostream* errors = nullptr;
  // Checked between lines when following; true ends the run.
  std::function<bool()> stop;
  // Called when every input is idle (follow), before sleeping.
  std::function<void()> on_idle;
};

// Reads `paths` in order (all at once, round-robin, when following), decodes
// each line and calls `on_event` for every decoded record. Malformed lines are
// counted and reported, never fatal. Errors: an input that cannot be opened
// or read.
Status DecodeInputs(const std::vector<std::string>& paths, Format format, const DecodeOptions& options,
                    const std::function<void(const match::Event&)>& on_event, DecodeStats* stats);

}  // namespace cordon::events
