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

Result<Report> IngestObjects(store::Store& store, const std::string& collection,
                             const std::vector<std::string_view>& objects,
                             stix::DefaultVersion default_version, const ObjectCheck& check) {
  Report report;
  report.objects.resize(objects.size());
  std::vector<store::NewObject> valid;
  std::vector<size_t> valid_index;
  valid.reserve(objects.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    stix::Validated v = stix::ValidateObject(objects[i], default_version);
    ObjectReport& r = report.objects[i];
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
    valid_index.push_back(i);
    valid.push_back(store::NewObject{objects[i], std::move(v.info)});
  }
  if (!valid.empty()) {
    CORDON_ASSIGN_OR_RETURN(store::PutResult put, store.PutObjects(collection, valid));
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
  }
  for (const auto& r : report.objects) {
    switch (r.outcome) {
      case ObjectOutcome::kAdded: ++report.added; break;
      case ObjectOutcome::kUnchanged: ++report.unchanged; break;
      case ObjectOutcome::kRejected: ++report.rejected; break;
    }
  }
  return report;
}

Result<Report> IngestDocument(store::Store& store, const std::string& collection,
                              std::string_view json, const ObjectCheck& check) {
  CORDON_ASSIGN_OR_RETURN(stix::ObjectList list, stix::SplitObjects(json));
  auto default_version =
      list.spec_version == "2.0" ? stix::DefaultVersion::k20 : stix::DefaultVersion::kInfer;
  return IngestObjects(store, collection, list.objects, default_version, check);
}

}  // namespace cordon::ingest
