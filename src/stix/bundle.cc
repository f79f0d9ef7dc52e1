// Splitting bundles / envelopes with simdjson On Demand.
//
// The parser needs padding after the text, so it runs over a padded copy;
// every raw value found is located by its offset in the copy and returned as
// the view at the same offset of the caller's buffer. Every value is walked
// (strings unescaped, numbers and literals parsed) so that malformed JSON is
// reported here rather than later, object by object.
#include "stix/bundle.h"

#include <simdjson.h>

#include <string>
#include <utility>

namespace cordon::stix {
namespace {

namespace od = simdjson::ondemand;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Fully reads `v` (and everything inside it), so that the parser both
// validates it and moves past it.
simdjson::error_code Walk(od::value v) {
  od::json_type t;
  if (auto e = v.type().get(t)) return e;
  switch (t) {
    case od::json_type::object: {
      od::object o;
      if (auto e = v.get_object().get(o)) return e;
      for (auto field : o) {
        od::field f;
        if (auto e = std::move(field).get(f)) return e;
        std::string_view key;
        if (auto e = f.unescaped_key().get(key)) return e;
        if (auto e = Walk(f.value())) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::array: {
      od::array a;
      if (auto e = v.get_array().get(a)) return e;
      for (auto element : a) {
        od::value x;
        if (auto e = element.get(x)) return e;
        if (auto e = Walk(x)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s);
    }
    case od::json_type::number: {
      od::number n;
      return v.get_number().get(n);
    }
    case od::json_type::boolean: {
      bool b;
      if (v.get_bool().get(b) == simdjson::SUCCESS) return simdjson::SUCCESS;
      return v.raw_json_token().starts_with("t") ? simdjson::T_ATOM_ERROR : simdjson::F_ATOM_ERROR;
    }
    case od::json_type::null: {
      bool is_null = false;
      if (v.is_null().get(is_null) != simdjson::SUCCESS || !is_null) return simdjson::N_ATOM_ERROR;
      return simdjson::SUCCESS;
    }
  }
  return simdjson::TAPE_ERROR;
}

class Splitter {
 public:
  explicit Splitter(std::string_view json) : json_(json), padded_(json.data(), json.size()) {}

  Result<ObjectList> Run();

 private:
  // "not JSON: <reason> (near byte N)"; the offset only when the parser can tell.
  Status NotJson(simdjson::error_code e) {
    std::string msg = std::string("not JSON: ") +
                      (e == simdjson::OUT_OF_BOUNDS || e == simdjson::INCOMPLETE_ARRAY_OR_OBJECT
                           ? "the document ends inside an object or array"
                           : simdjson::error_message(e));
    const char* at = nullptr;
    if (started_ && doc_.current_location().get(at) == simdjson::SUCCESS && at >= padded_.data() &&
        at <= padded_.data() + padded_.size()) {
      msg += " (near byte " + std::to_string(at - padded_.data()) + ")";
    }
    return absl::InvalidArgumentError(msg);
  }

  std::string_view json_;
  simdjson::padded_string padded_;
  od::document doc_;
  bool started_ = false;
};

Result<ObjectList> Splitter::Run() {
  thread_local od::parser parser;
  // A document whose top level opens an object must end by closing it; the
  // On Demand parser reports truncation and trailing text less clearly.
  size_t first = json_.find_first_not_of(" \t\r\n");
  size_t last = json_.find_last_not_of(" \t\r\n");
  if (first != std::string_view::npos && json_[first] == '{' && json_[last] != '}') {
    return absl::InvalidArgumentError(
        "not JSON: the top-level object is truncated or followed by other text (near byte " +
        std::to_string(last) + ")");
  }
  if (auto e = parser.iterate(padded_).get(doc_)) return NotJson(e);
  started_ = true;
  od::json_type top_type;
  if (auto e = doc_.type().get(top_type)) return NotJson(e);
  if (top_type != od::json_type::object) {
    return absl::InvalidArgumentError("the top level must be a JSON object with an \"objects\" array");
  }
  od::object top;
  if (auto e = doc_.get_object().get(top)) return NotJson(e);

  ObjectList out;
  const char* base = padded_.data();
  for (auto field : top) {
    od::field f;
    if (auto e = std::move(field).get(f)) return NotJson(e);
    std::string_view key;
    if (auto e = f.unescaped_key().get(key)) return NotJson(e);
    if (key == "type" || key == "spec_version") {
      od::json_type t;
      if (auto e = f.value().type().get(t)) return NotJson(e);
      if (t != od::json_type::string) {
        return absl::InvalidArgumentError("\"" + std::string(key) + "\" must be a string");
      }
      std::string_view s;
      if (auto e = f.value().get_string().get(s)) return NotJson(e);
      (key == "type" ? out.type : out.spec_version) = std::string(s);
      continue;
    }
    if (key != "objects") {
      if (auto e = Walk(f.value())) return NotJson(e);
      continue;
    }
    od::json_type t;
    if (auto e = f.value().type().get(t)) return NotJson(e);
    if (t != od::json_type::array) {
      return absl::InvalidArgumentError("\"objects\" must be an array");
    }
    out.objects.clear();  // a repeated "objects" key: the last one wins
    od::array objects;
    if (auto e = f.value().get_array().get(objects)) return NotJson(e);
    size_t index = 0;
    for (auto element : objects) {
      od::value v;
      if (auto e = element.get(v)) return NotJson(e);
      od::json_type et;
      if (auto e = v.type().get(et)) return NotJson(e);
      if (et != od::json_type::object) {
        return absl::InvalidArgumentError("\"objects\"[" + std::to_string(index) +
                                          "] must be a JSON object");
      }
      const char* start = v.raw_json_token().data();
      if (auto e = Walk(v)) return NotJson(e);
      // The parser now stands on the token after the object ("," or "]"):
      // the object ends at the last "}" before it.
      const char* next = nullptr;
      if (auto e = doc_.current_location().get(next)) return NotJson(e);
      const char* end = next;
      while (end > start && end[-1] != '}') {
        if (!IsSpace(end[-1]) && end[-1] != ',' && end[-1] != ']') break;
        --end;
      }
      if (end <= start || end[-1] != '}') {
        return absl::InternalError("cannot locate the end of \"objects\"[" + std::to_string(index) + "]");
      }
      size_t offset = static_cast<size_t>(start - base);
      out.objects.push_back(json_.substr(offset, static_cast<size_t>(end - start)));
      ++index;
    }
  }
  const char* trailing = nullptr;
  if (doc_.current_location().get(trailing) == simdjson::SUCCESS) {
    return absl::InvalidArgumentError("not JSON: trailing content after the top-level object");
  }
  return out;
}

}  // namespace

Result<ObjectList> SplitObjects(std::string_view json) { return Splitter(json).Run(); }

}  // namespace cordon::stix
