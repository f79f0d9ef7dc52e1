// Running an export: once, or continuously with --watch.
#pragma once

#include <atomic>
#include <chrono>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include "decide/decide.h"
#include "dns/xfr_server.h"
#include "export/export.h"
#include "store/store.h"

namespace cordon::exporter {

struct RunOptions {
  Format format = Format::kRpz;
  // The file to replace; empty = write to the stream given to ExportOnce
  // (single-file formats only), with no serial kept.
  std::string output;
  std::string reload_command;  // run after each change of the output (empty: none)
  std::string rpz_zone = "rpz.local";  // RenderOptions::rpz_zone (and the zone served by `xfr`)
  WarningCheck warning;
  std::chrono::milliseconds poll{200};
  // RPZ only: every zone written is also published to this zone-transfer
  // server (which notifies the secondaries); not owned. Until it holds a zone,
  // an unchanged export is written (with a new serial) and published anyway.
  dns::XfrServer* xfr = nullptr;
};

struct RunResult {
  bool written = false;  // the output changed and was replaced (and reloaded)
  int64_t serial = 0;    // RPZ serial of the output now in place
  size_t entries = 0;
  ExportStats stats;
  std::optional<Timestamp> next_change;
};

class Exporter {
 public:
  // `store` and `decisions` must outlive the exporter.
  Exporter(store::Store& store, decide::DecisionStore& decisions, RunOptions options);

  // Collects, renders and, if the content differs from the last export to the
  // same output (digest kept in decisions.db), replaces the output atomically,
  // moves the serial (max(previous + 1, Unix time)) and runs the reload
  // command. A failing reload is an error; the new file stays in place and
  // the next export writes it again (serial + 1) and retries the reload.
  Result<RunResult> ExportOnce(std::ostream& stdout_stream);

  // Exports, then polls every options.poll: a new decision version, a
  // collection whose object count or newest date_added moved, or the
  // set's next_change passing trigger a new export. Logs one line per export
  // to `log`; a failed export (or reload) is logged and retried 5 s later.
  // Returns when `stop` becomes true.
  Status Watch(const std::atomic<bool>& stop, std::ostream& log);

 private:
  // What the poll compares; cheap to compute (a count and an index probe per collection).
  struct Fingerprint {
    int64_t decisions_version = 0;
    std::vector<std::pair<int64_t, Timestamp>> collections;  // (object count, newest date_added)
    bool operator==(const Fingerprint&) const = default;
  };
  Result<Fingerprint> Poll(const Fingerprint& previous);

  store::Store& store_;
  decide::DecisionStore& decisions_;
  RunOptions options_;
  // The store's indicators as of the last export; Watch clears it when a
  // collection's fingerprint moves, so decisions alone re-read nothing.
  IndicatorCache cache_;
  bool watching_ = false;  // a single export keeps no cache
};

}  // namespace cordon::exporter
