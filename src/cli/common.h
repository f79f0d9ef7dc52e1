// Shared by the files that define `cordon` subcommands (one file per area).
// Each area registers its subcommands with Add*Commands(); a chosen
// subcommand's callback stores its work in `action`, run after parsing.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store.h"
#include "taxii/peer_policy.h"

namespace cordon::cli {

namespace fs = std::filesystem;

constexpr const char* kDefaultApiRoot = "cordon";

struct Context {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
  // Prints "cordon: error: MESSAGE" and returns exit status 2.
  int Fail(const Status& s);
};

struct Registrar {
  CLI::App& app;
  Context& c;
  std::function<int()>& action;
};

// The node's object store inside a data directory.
fs::path DbPath(const std::string& data);
// Opens the store of an initialised data directory (NotFound with a hint otherwise).
Result<std::unique_ptr<store::Store>> OpenExisting(const std::string& data,
                                                   const store::SqliteOptions& options = {});
// "a,b,,c" -> {"a","b","c"} (trimmed, empty parts skipped).
std::vector<std::string> SplitIds(const std::string& s);
// The whole of `path` ("-" = `in`).
Result<std::string> ReadAll(const std::string& path, std::istream& in);
// The required --data DIR option.
CLI::Option* AddDataOption(CLI::App* cmd, std::string& data);

// init, serve, collection, user, token
void AddNodeCommands(Registrar& r);
// import
void AddImportCommands(Registrar& r);
// warninglist add, list, remove
void AddWarninglistCommands(Registrar& r);
// decide block|monitor|allow|list|revoke, export FORMAT
void AddDecideCommands(Registrar& r);
// pattern validate, pattern match
void AddPatternCommands(Registrar& r);
// match
void AddMatchCommands(Registrar& r);
// peer add|list|show|remove, identity init|show, audit show|verify
void AddPeerCommands(Registrar& r);
// The sharing agreements of the node in `data` (DATA/federation.db, DATA/audit.log), for serve.
Result<std::shared_ptr<taxii::PeerPolicy>> OpenPeerPolicy(const std::string& data);

// sync
void AddSyncCommands(Registrar& r);
// A thread syncing with every peer (or only `only_peer`) each `interval`
// until destroyed (the destructor stops it after its current request and
// joins), for serve and `sync` without --once.
class BackgroundSync {
 public:
  virtual ~BackgroundSync() = default;
};
Result<std::unique_ptr<BackgroundSync>> StartBackgroundSync(const std::string& data, store::Store& store,
                                                            std::chrono::milliseconds interval, std::ostream& log,
                                                            const std::string& only_peer = "", int page_size = 1000);

}  // namespace cordon::cli
