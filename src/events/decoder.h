// Log decoders: one text line of a sensor log in, one match::Event out.
//
// A decoder turns a record of Zeek (TSV with #-headers, or JSON lines), a
// Suricata EVE JSON record, or a plain line (one domain, IP or URL) into typed,
// normalised lookup keys (match/event.h) plus the record's time, and offers the
// record's STIX observed-data on demand for full pattern evaluation.
//
// Contract:
//  * Decode() never fails the stream: a line is an event, a line to skip
//    (header, comment, blank) or malformed (error() says why, without the file
//    and line, which the caller knows).
//  * The Event's key texts and observed builder point into the decoder's own
//    buffers and into `line`; they are valid until the next Decode() or
//    BeginSource(), and `line` must stay alive as long.
//  * JSON lines are parsed in place with simdjson: `line` must be readable for
//    kJsonPadding bytes past its end (LineReader guarantees it).
//  * After warm-up, decoding allocates nothing per record except when a URL is
//    built (HTTP records).
//  * Values that are present but cannot be normalised (a query "*", a host
//    with a space) give no key; they do not make the record malformed.
//  * One decoder per thread; decoders are cheap to create.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "match/event.h"

namespace cordon::events {

// Bytes past the end of a line a decoder may read (simdjson's SIMDJSON_PADDING).
inline constexpr size_t kJsonPadding = 64;

enum class Format { kZeek, kEve, kLines };

// "zeek", "eve", "lines" (InvalidArgument naming the choices otherwise).
Result<Format> ParseFormat(std::string_view name);

enum class LineKind { kEvent, kSkip, kMalformed };

class Decoder {
 public:
  static std::unique_ptr<Decoder> Create(Format format);
  virtual ~Decoder() = default;

  // Starts a new input. Forgets per-input state (a Zeek TSV header), so a
  // concatenation of files each with its own header decodes right.
  virtual void BeginSource(std::string_view source) = 0;

  // `line` without its '\n' (a trailing '\r' is tolerated). On kEvent, `*event`
  // is overwritten: keys, time, observed; source and line are the caller's.
  virtual LineKind Decode(std::string_view line, match::Event* event) = 0;

  // Why the last Decode() returned kMalformed.
  const std::string& error() const { return error_; }

 protected:
  LineKind Malformed(std::string_view why) {
    error_.assign(why);
    return LineKind::kMalformed;
  }
  std::string error_;
};

}  // namespace cordon::events
