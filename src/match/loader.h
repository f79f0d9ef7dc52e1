// Reads indicators from STIX JSON (bundle files, lists of objects) and from
// the node's store collections into IndicatorSpecs for Index::Build.
//
// Of several versions of one indicator id (within one source or across
// sources), the newest (modified, else created) wins; other objects are
// ignored. An indicator whose pattern_type is not "stix" is skipped and
// counted; one without valid_from, or with an unparsable timestamp, is listed
// as a problem and left out. STIX 2.0 objects (no spec_version) get 2.0
// pattern semantics.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/status.h"
#include "simdjson.h"
#include "match/index.h"
#include "store/store.h"

namespace cordon::match {

struct LoadReport {
  size_t objects = 0;        // objects read
  size_t indicators = 0;     // indicator versions read
  size_t superseded = 0;     // older versions dropped
  size_t not_stix = 0;       // pattern_type other than "stix"
  struct Problem {
    std::string source;  // file name or "collection <id>"
    std::string id;      // object id ("" if none)
    std::string reason;
  };
  std::vector<Problem> problems;
};

class IndicatorLoader {
 public:
  // A bundle / envelope ({"objects": [...]}), a JSON array of objects, or one
  // object. Error: the document is not JSON of one of these shapes.
  Status AddJson(std::string_view json, std::string_view source);
  // AddJson on a file's contents.
  Status AddFile(const std::string& path);
  // The latest version of every indicator in `collection` (paged reads).
  Status AddCollection(store::Store& store, const std::string& collection);

  // The newest version of each indicator read so far (the loader is left empty).
  std::vector<IndicatorSpec> Take();
  const LoadReport& report() const { return report_; }

 private:
  void AddObject(std::string_view json, std::string_view source);
  struct Entry {
    IndicatorSpec spec;
    int64_t version_ns = 0;
  };
  simdjson::dom::parser parser_;
  std::vector<Entry> entries_;
  absl::flat_hash_map<std::string, size_t> by_id_;
  LoadReport report_;
};

}  // namespace cordon::match
