// sync: pull from and push to partner nodes (once, or in the background of serve).
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include "cli/common.h"
#include "federation/identity.h"
#include "federation/sync.h"

namespace cordon::cli {
namespace {

struct SyncCommandOptions {
  std::string data, peer;
  bool once = false, rejections = false;
  double interval = 10;
  int page_size = 1000, limit = 20;
};

// The last objects partners sent that sync refused (table sync_rejected).
int ShowRejections(Context& c, const SyncCommandOptions& o) {
  if (!fs::exists(DbPath(o.data))) return c.Fail(OpenExisting(o.data).status());
  auto rows = federation::ListRejections(o.data, o.peer, o.limit);
  if (!rows.ok()) return c.Fail(rows.status());
  for (const auto& r : *rows) c.out << federation::FormatRejection(r) << "\n";
  if (rows->empty()) c.err << "no rejected objects" << (o.peer.empty() ? "" : " from " + o.peer) << "\n";
  return 0;
}

// The node's identity, if it has one (without, nothing is pushed).
std::optional<federation::NodeIdentity> OurIdentity(const std::string& data) {
  auto id = federation::LoadIdentity(data);
  if (!id.ok()) return std::nullopt;
  return std::move(*id);
}

int SyncCommand(Context& c, const SyncCommandOptions& o) {
  if (o.rejections) return ShowRejections(c, o);
  auto st = OpenExisting(o.data);
  if (!st.ok()) return c.Fail(st.status());
  if (o.once) {
    federation::SyncOptions so;
    so.page_size = o.page_size;
    auto engine = federation::SyncEngine::Open(o.data, **st, OurIdentity(o.data), so);
    if (!engine.ok()) return c.Fail(engine.status());
    auto reports = (*engine)->SyncOnce(o.peer);
    if (!reports.ok()) return c.Fail(reports.status());
    bool failed = false;
    for (const auto& r : *reports) {
      c.out << federation::FormatSyncReport(r) << "\n";
      failed |= !r.errors.empty();
    }
    return failed ? 1 : 0;
  }
  // Until SIGINT/SIGTERM: the same loop serve runs in the background.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto bg = StartBackgroundSync(o.data, **st, std::chrono::milliseconds(static_cast<int64_t>(o.interval * 1000)),
                                c.err, o.peer, o.page_size);
  if (!bg.ok()) return c.Fail(bg.status());
  int sig = 0;
  sigwait(&signals, &sig);
  bg->reset();
  return 0;
}

class SyncThread : public BackgroundSync {
 public:
  SyncThread(std::unique_ptr<federation::SyncEngine> engine, std::chrono::milliseconds interval, std::ostream& log,
             std::string only_peer)
      : engine_(std::move(engine)), interval_(interval), log_(log), only_peer_(std::move(only_peer)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~SyncThread() override {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    engine_->RequestStop();
    cv_.notify_all();
    thread_.join();
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      auto reports = engine_->SyncOnce(only_peer_);
      if (!reports.ok()) {
        log_ << "sync: " << reports.status().message() << std::endl;
      } else {
        for (const auto& r : *reports) {
          if (!r.errors.empty() || r.pulled_added || r.pushed || r.pulled_rejected) {
            log_ << "sync: " << federation::FormatSyncReport(r) << std::endl;
          }
        }
      }
      lock.lock();
      cv_.wait_for(lock, interval_, [this] { return stop_; });
    }
  }

  std::unique_ptr<federation::SyncEngine> engine_;
  std::chrono::milliseconds interval_;
  std::ostream& log_;
  const std::string only_peer_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<BackgroundSync>> StartBackgroundSync(const std::string& data, store::Store& store,
                                                            std::chrono::milliseconds interval, std::ostream& log,
                                                            const std::string& only_peer, int page_size) {
  federation::SyncOptions so;
  so.page_size = page_size;
  CORDON_ASSIGN_OR_RETURN(auto engine, federation::SyncEngine::Open(data, store, OurIdentity(data), so));
  return std::unique_ptr<BackgroundSync>(new SyncThread(std::move(engine), interval, log, only_peer));
}

void AddSyncCommands(Registrar& r) {
  auto o = std::make_shared<SyncCommandOptions>();
  Context& c = r.c;
  auto& action = r.action;
  auto* sync = r.app.add_subcommand("sync", "pull from and push to partner nodes (see `peer add --url`)");
  AddDataOption(sync, o->data);
  auto* once = sync->add_flag("--once", o->once, "one round over the peers, then exit (status 1 if any sync failed)");
  sync->add_option("--peer", o->peer, "only this peer");
  sync->add_flag("--rejections", o->rejections,
                 "print the last objects partners sent that were refused (AT PEER COLLECTION ID VERSION: REASON), "
                 "newest first, and exit")
      ->excludes(once);
  sync->add_option("--limit", o->limit, "with --rejections: how many")->capture_default_str()->check(CLI::Range(1, 1000000));
  sync->add_option("--page-size", o->page_size, "objects per GET from a partner")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  sync->add_option("--interval", o->interval, "seconds between rounds without --once")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sync->callback([o, &c, &action] { action = [o, &c] { return SyncCommand(c, *o); }; });
}

}  // namespace cordon::cli
