#include "cli/common.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "base/strings.h"
#include "store/sqlite/sqlite_store.h"

namespace cordon::cli {

int Context::Fail(const Status& s) {
  err << "cordon: error: " << s.message() << "\n";
  return 2;
}

fs::path DbPath(const std::string& data) { return fs::path(data) / "cordon.db"; }

Result<std::unique_ptr<store::Store>> OpenExisting(const std::string& data, const store::SqliteOptions& options) {
  if (!fs::exists(DbPath(data))) {
    return absl::NotFoundError("no cordon store in '" + data + "' (run: cordon init --data " + data + ")");
  }
  return store::OpenSqliteStore(DbPath(data), options);
}

std::vector<std::string> SplitIds(const std::string& s) {
  std::vector<std::string> out;
  for (std::string_view p : Split(s, ',', EmptyParts::kSkip)) out.emplace_back(Trim(p));
  return out;
}

Result<std::string> ReadAll(const std::string& path, std::istream& in) {
  std::ostringstream ss;
  if (path == "-") {
    ss << in.rdbuf();
  } else {
    std::ifstream f(path, std::ios::binary);
    if (!f) return absl::NotFoundError("cannot read '" + path + "'");
    ss << f.rdbuf();
  }
  return ss.str();
}

CLI::Option* AddDataOption(CLI::App* cmd, std::string& data) {
  return cmd->add_option("--data", data, "the node's data directory")->required();
}

}  // namespace cordon::cli
