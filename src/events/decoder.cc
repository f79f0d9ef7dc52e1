#include "events/decoder.h"

namespace cordon::events {

std::unique_ptr<Decoder> NewZeekDecoder();  // zeek.cc
std::unique_ptr<Decoder> NewEveDecoder();   // eve.cc
std::unique_ptr<Decoder> NewLinesDecoder();  // lines.cc

Result<Format> ParseFormat(std::string_view name) {
  if (name == "zeek") return Format::kZeek;
  if (name == "eve") return Format::kEve;
  if (name == "lines") return Format::kLines;
  return absl::InvalidArgumentError("unknown log format '" + std::string(name) + "' (zeek, eve or lines)");
}

std::unique_ptr<Decoder> Decoder::Create(Format format) {
  switch (format) {
    case Format::kZeek: return NewZeekDecoder();
    case Format::kEve: return NewEveDecoder();
    case Format::kLines: return NewLinesDecoder();
  }
  return nullptr;
}

}  // namespace cordon::events
