#include "export/run.h"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <ostream>
#include <thread>

namespace cordon::exporter {
namespace {

std::string Hex(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[i] = kDigits[v & 15];
  return s;
}

// A digest of every file of a render (content and suffix); equal renders give equal digests.
std::string Digest(const std::vector<OutputFile>& files) {
  uint64_t h = 1469598103934665603ull;
  for (const auto& f : files) {
    h = h * 31 + std::hash<std::string>{}(f.suffix);
    h = h * 31 + std::hash<std::string>{}(f.content);
  }
  return Hex(h);
}

void PutSerial(std::string& content, int64_t serial) {
  size_t pos = content.find(kSerialToken);
  if (pos != std::string::npos) content.replace(pos, kSerialToken.size(), std::to_string(serial));
}

// CORDON_EXPORT_TIMING=1 prints the time of each phase of an export to stderr (profiling).
class PhaseTimer {
 public:
  PhaseTimer() : on_(std::getenv("CORDON_EXPORT_TIMING") != nullptr), last_(std::chrono::steady_clock::now()) {}
  void Done(const char* phase) {
    if (!on_) return;
    auto now = std::chrono::steady_clock::now();
    std::cerr << "export phase " << phase << ": " << std::chrono::duration<double>(now - last_).count() << " s\n";
    last_ = now;
  }

 private:
  bool on_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace

Exporter::Exporter(store::Store& store, decide::DecisionStore& decisions, RunOptions options)
    : store_(store), decisions_(decisions), options_(std::move(options)) {}

Result<RunResult> Exporter::ExportOnce(std::ostream& stdout_stream) {
  PhaseTimer timer;
  const bool cached = cache_.filled;
  Timestamp now = Now();
  CORDON_ASSIGN_OR_RETURN(auto in_force, decisions_.InForce(now));
  CORDON_ASSIGN_OR_RETURN(ExportSet set, Collect(store_, std::move(in_force), options_.warning, now,
                                                   /*keep_bytes=*/options_.format == Format::kStix,
                                                   watching_ ? &cache_ : nullptr));
  timer.Done(cached ? "collect (cached indicators)" : "collect");
  RunResult result;
  result.entries = set.entries.size();
  result.stats = set.stats;
  result.next_change = set.next_change;

  std::filesystem::path out_path;
  RenderOptions render;
  render.rpz_zone = options_.rpz_zone;
  if (!options_.output.empty()) {
    out_path = std::filesystem::absolute(options_.output);
    render.dataset_basename = out_path.filename().string();
  }
  std::vector<OutputFile> files = Render(options_.format, set, render);
  if (options_.output.empty()) {
    if (files.size() != 1) {
      return absl::InvalidArgumentError("format " + std::string(FormatName(options_.format)) +
                                        " writes several files: give --output");
    }
    // Without an output file there is no history: the serial is the time.
    result.serial = now.ns / 1'000'000'000;
    PutSerial(files[0].content, result.serial);
    stdout_stream << files[0].content;
    stdout_stream.flush();
    result.written = true;
    return result;
  }

  timer.Done("render");
  std::string digest = Digest(files);
  const std::string key = std::string(FormatName(options_.format)) + ":" + out_path.string();
  CORDON_ASSIGN_OR_RETURN(auto state, decisions_.GetSerial(key));
  bool unchanged = state.serial > 0 && state.digest == digest && !(options_.xfr && !options_.xfr->has_zone());
  for (const auto& f : files) unchanged = unchanged && std::filesystem::exists(out_path.string() + f.suffix);
  if (unchanged) {
    result.serial = state.serial;
    return result;
  }
  // Never backwards: the serial only grows, and tracks the clock when it can.
  int64_t serial = std::max(state.serial + 1, now.ns / 1'000'000'000);
  // A zone served but never written (its write failed) is overtaken too.
  if (options_.xfr) serial = std::max<int64_t>(serial, int64_t{options_.xfr->serial()} + 1);
  for (auto& f : files) PutSerial(f.content, serial);
  if (options_.xfr) {
    // Secondaries first: they get the change by IXFR without waiting for the
    // file's write and fsync.
    CORDON_ASSIGN_OR_RETURN(dns::Zone zone, dns::ParseZoneText(files[0].content));
    timer.Done("digest + zone parse");
    CORDON_RETURN_IF_ERROR(options_.xfr->Publish(std::move(zone)));
    timer.Done("publish");
  }
  for (const auto& f : files) {
    CORDON_RETURN_IF_ERROR(WriteFileAtomically(out_path.string() + f.suffix, f.content));
  }
  timer.Done("write");
  Status reload = options_.reload_command.empty() ? absl::OkStatus() : RunCommand(options_.reload_command);
  // After a failed reload the digest is forgotten (the serial kept): the next
  // export writes again with a higher serial and retries the reload.
  CORDON_RETURN_IF_ERROR(decisions_.PutSerial(key, {serial, reload.ok() ? digest : std::string()}));
  if (!reload.ok()) return reload;
  result.serial = serial;
  result.written = true;
  return result;
}

Result<Exporter::Fingerprint> Exporter::Poll(const Fingerprint& previous) {
  Fingerprint fp;
  CORDON_ASSIGN_OR_RETURN(fp.decisions_version, decisions_.Version());
  CORDON_ASSIGN_OR_RETURN(auto roots, store_.ListApiRoots());
  for (const auto& root : roots) {
    CORDON_ASSIGN_OR_RETURN(auto collections, store_.ListCollections(root.name));
    for (const auto& col : collections) {
      size_t i = fp.collections.size();
      CORDON_ASSIGN_OR_RETURN(int64_t count, store_.CountObjects(col.id));
      Timestamp newest = i < previous.collections.size() ? previous.collections[i].second : Timestamp{};
      // Only objects added since the last poll are read (ids only).
      store::ObjectQuery q;
      q.collection = col.id;
      q.added_after = newest;
      q.version.all = true;
      q.limit = 1000;
      q.with_bytes = false;
      while (true) {
        CORDON_ASSIGN_OR_RETURN(auto page, store_.QueryObjects(q));
        if (!page.items.empty()) newest = std::max(newest, page.items.back().date_added);
        if (!page.more) break;
        q.after_cursor = page.next_cursor;
      }
      fp.collections.emplace_back(count, newest);
    }
  }
  return fp;
}

Status Exporter::Watch(const std::atomic<bool>& stop, std::ostream& log) {
  watching_ = true;
  Fingerprint last;
  bool pending = true;  // export at start
  std::optional<Timestamp> next_change;
  constexpr int64_t kRetrySeconds = 5;  // after a failed export or reload
  Timestamp retry_at{};
  while (!stop.load()) {
    auto fp = Poll(last);
    if (!fp.ok()) {
      log << "cordon export: poll failed: " << fp.status().message() << std::endl;
    } else {
      pending |= !(*fp == last);
      if (fp->collections != last.collections) cache_.Clear();
      last = std::move(*fp);
    }
    if (next_change && Now() >= *next_change) pending = true;
    if (pending && Now() >= retry_at) {
      auto r = ExportOnce(log);
      if (!r.ok()) {
        log << "cordon export: " << r.status().message() << " (retrying in " << kRetrySeconds << " s)" << std::endl;
        next_change.reset();
        retry_at = Timestamp{Now().ns + kRetrySeconds * 1'000'000'000LL};
      } else {
        pending = false;
        next_change = r->next_change;
        if (r->written) {
          log << "cordon export: " << FormatName(options_.format) << " " << options_.output << ": " << r->entries
              << " entries, serial " << r->serial << std::endl;
        }
      }
    }
    for (auto waited = std::chrono::milliseconds(0); waited < options_.poll && !stop.load();
         waited += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return absl::OkStatus();
}

}  // namespace cordon::exporter
