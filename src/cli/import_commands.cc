// import: STIX bundles, TAXII envelopes and JSON-lines files into a collection.
#include <iostream>

#include "base/strings.h"
#include "cli/common.h"
#include "ingest/ingest.h"
#include "stix/object.h"

namespace cordon::cli {
namespace {

constexpr size_t kImportBatch = 10000;  // objects per transaction for line-delimited imports

void PrintReport(Context& c, const std::string& file, const ingest::Report& r) {
  c.out << file << ": added " << r.added << ", unchanged " << r.unchanged << ", rejected " << r.rejected
        << "\n";
  for (size_t i = 0; i < r.objects.size(); ++i) {
    const auto& o = r.objects[i];
    if (o.outcome != ingest::ObjectOutcome::kRejected) continue;
    c.out << "  rejected object " << i << " " << (o.id.empty() ? "(no id)" : o.id) << ": " << o.reason << "\n";
  }
}

int Import(Context& c, const std::string& data, const std::string& collection, const std::string& api_root,
           const std::vector<std::string>& files) {
  auto st = OpenExisting(data);
  if (!st.ok()) return c.Fail(st.status());
  auto col = (*st)->GetCollection(api_root, collection);
  if (!col.ok()) return c.Fail(col.status());
  bool any_rejected = false;
  for (const auto& file : files) {
    auto text = ReadAll(file, c.in);
    if (!text.ok()) return c.Fail(text.status());
    Result<ingest::Report> report = ingest::Report{};
    if (file.ends_with(".jsonl")) {
      // One object per line, stored in batches (each batch one transaction).
      std::vector<std::string_view> lines;
      for (std::string_view line : Split(*text, '\n')) {
        if (!Trim(line).empty()) lines.push_back(line);
      }
      for (size_t start = 0; start < lines.size() && report.ok(); start += kImportBatch) {
        std::vector<std::string_view> batch(lines.begin() + start,
                                            lines.begin() + std::min(lines.size(), start + kImportBatch));
        auto part = ingest::IngestObjects(**st, collection, batch, stix::DefaultVersion::kInfer);
        if (!part.ok()) {
          report = part.status();
          break;
        }
        report->added += part->added;
        report->unchanged += part->unchanged;
        report->rejected += part->rejected;
        for (auto& o : part->objects) report->objects.push_back(std::move(o));
      }
    } else {
      report = ingest::IngestDocument(**st, collection, *text);
    }
    if (!report.ok()) {
      c.err << "cordon: error: " << file << ": " << report.status().message() << "\n";
      return 2;
    }
    PrintReport(c, file, *report);
    any_rejected |= report->rejected > 0;
  }
  return any_rejected ? 1 : 0;
}

}  // namespace

void AddImportCommands(Registrar& r) {
  struct Options {
    std::string data, api_root = kDefaultApiRoot, collection;
    std::vector<std::string> files;
  };
  auto o = std::make_shared<Options>();
  Context& c = r.c;
  auto& action = r.action;
  auto* import = r.app.add_subcommand(
      "import", "validate and store STIX bundles, TAXII envelopes or .jsonl files (one object per line)");
  AddDataOption(import, o->data);
  import->add_option("--collection", o->collection, "target collection id")->required();
  import->add_option("--api-root", o->api_root, "API root")->capture_default_str();
  import->add_option("files", o->files, "files to import ('-' = stdin)")->required();
  import->callback([o, &c, &action] {
    action = [o, &c] { return Import(c, o->data, o->collection, o->api_root, o->files); };
  });
}

}  // namespace cordon::cli
