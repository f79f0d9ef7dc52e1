// Validate-then-store of STIX content: the path by which objects from outside
// enter a collection (TAXII POST, `cordon import --format stix`, federation
// pulls). The feed importer builds its own indicators from a template and
// admits them with a narrower check (feeds/importer.cc, AdmitBuilt) into the
// same Batch shape.
//
// Every object is validated first; the valid ones are then written in ONE
// store transaction, so a request either stores all of its valid objects or,
// if the store fails, none. An invalid object is never written.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace cordon::ingest {

enum class ObjectOutcome { kAdded, kUnchanged, kRejected };

struct ObjectReport {
  std::string id;       // as given ("" if missing)
  std::string version;  // modified/created as given ("" if none)
  ObjectOutcome outcome;
  std::string reason;  // why rejected ("" otherwise)
};

struct Report {
  std::vector<ObjectReport> objects;  // in input order
  int added = 0, unchanged = 0, rejected = 0;
};

// An extra per-object admission rule run after validation (e.g. federation's
// "objects claiming to come from this partner must carry its signature"): a
// non-OK status rejects that object alone, its message becoming the reason.
using ObjectCheck = std::function<Status(std::string_view json, const stix::ObjectInfo& info)>;

// IngestObjects in two halves, for pipelines that validate one batch while
// the store writes the previous one (in a store::BulkWrite):
//   Batch b = Validate(objects, ...);   // any thread; store untouched
//   auto put = write.Put(b.valid);      // the writing thread
//   b.Record(*put);                     // outcomes and counts into b.report
struct Batch {
  Report report;                        // rejections known; the rest after Record
  std::vector<store::NewObject> valid;  // views into the objects given to Validate
  std::vector<size_t> valid_index;      // position of valid[k] in those objects
  void Record(const store::PutResult& put);
};
Batch Validate(const std::vector<std::string_view>& objects, stix::DefaultVersion default_version,
               const ObjectCheck& check = nullptr);

// Validates and stores every object of `objects` (raw JSON texts) in
// `collection`. `default_version` applies to objects without spec_version.
// Errors (store failures) mean nothing was stored.
Result<Report> IngestObjects(store::Store& store, const std::string& collection,
                             const std::vector<std::string_view>& objects,
                             stix::DefaultVersion default_version, const ObjectCheck& check = nullptr);

// Splits a STIX bundle or TAXII envelope and ingests its objects. A bundle
// whose top-level spec_version is "2.0" makes its objects 2.0.
// InvalidArgument when the document itself is malformed (nothing stored).
Result<Report> IngestDocument(store::Store& store, const std::string& collection,
                              std::string_view json, const ObjectCheck& check = nullptr);

}  // namespace cordon::ingest
