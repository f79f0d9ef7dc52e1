#include "ingest/ingest.h"

#include "stix/bundle.h"

namespace cordon::ingest {
namespace {

std::string VersionText(const stix::ObjectInfo& info) {
  if (info.modified) return FormatTimestamp(*info.modified);
  if (info.created) return FormatTimestamp(*info.created);
  return "";
}

std::string JoinProblems(const std::vector<stix::Problem>& problems) {
  std::string out;
  for (const auto& p : problems) {
    if (!out.empty()) out += "; ";
    out += p.property.empty() ? p.reason : p.property + ": " + p.reason;
  }
  return out;
}

}  // namespace

Batch Validate(const std::vector<std::string_view>& objects, stix::DefaultVersion default_version,
               const ObjectCheck& check) {
  Batch b;
  b.report.objects.resize(objects.size());
  b.valid.reserve(objects.size());
  b.valid_index.reserve(objects.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    stix::Validated v = stix::ValidateObject(objects[i], default_version);
    ObjectReport& r = b.report.objects[i];
    r.id = v.info.id;
    r.version = VersionText(v.info);
    if (!v.ok()) {
      r.outcome = ObjectOutcome::kRejected;
      r.reason = JoinProblems(v.problems);
      continue;
    }
    if (check) {
      if (Status st = check(objects[i], v.info); !st.ok()) {
        r.outcome = ObjectOutcome::kRejected;
        r.reason = std::string(st.message());
        continue;
      }
    }
    b.valid_index.push_back(i);
    b.valid.push_back(store::NewObject{objects[i], std::move(v.info)});
  }
  return b;
}

void Batch::Record(const store::PutResult& put) {
  for (size_t k = 0; k < valid.size(); ++k) {
    ObjectReport& r = report.objects[valid_index[k]];
    switch (put.outcomes[k]) {
      case store::PutOutcome::kAdded: r.outcome = ObjectOutcome::kAdded; break;
      case store::PutOutcome::kUnchanged: r.outcome = ObjectOutcome::kUnchanged; break;
      case store::PutOutcome::kConflict:
        r.outcome = ObjectOutcome::kRejected;
        r.reason = "a different object with the same id and version is already stored";
        break;
    }
  }
  report.added = report.unchanged = report.rejected = 0;
  for (const auto& r : report.objects) {
    switch (r.outcome) {
      case ObjectOutcome::kAdded: ++report.added; break;
      case ObjectOutcome::kUnchanged: ++report.unchanged; break;
      case ObjectOutcome::kRejected: ++report.rejected; break;
    }
  }
}

Result<Report> IngestObjects(store::Store& store, const std::string& collection,
                             const std::vector<std::string_view>& objects,
                             stix::DefaultVersion default_version, const ObjectCheck& check) {
  Batch b = Validate(objects, default_version, check);
  store::PutResult put;
  if (!b.valid.empty()) {
    CORDON_ASSIGN_OR_RETURN(put, store.PutObjects(collection, b.valid));
  }
  b.Record(put);
  return std::move(b.report);
}

Result<Report> IngestDocument(store::Store& store, const std::string& collection,
                              std::string_view json, const ObjectCheck& check) {
  CORDON_ASSIGN_OR_RETURN(stix::ObjectList list, stix::SplitObjects(json));
  auto default_version =
      list.spec_version == "2.0" ? stix::DefaultVersion::k20 : stix::DefaultVersion::kInfer;
  return IngestObjects(store, collection, list.objects, default_version, check);
}

}  // namespace cordon::ingest
