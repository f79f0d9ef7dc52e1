#include "testutil/testutil.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cordon::testutil {

std::filesystem::path SharedData(const std::string& relative) {
  const char* env = std::getenv("CORDON_SHARED_DATA");
  std::filesystem::path base = env && *env ? env : CORDON_SHARED_DATA_DEFAULT;
  return relative.empty() ? base : base / relative;
}

std::string ReadFile(const std::filesystem::path& path) {
  if (path.extension() == ".zst") {
    std::string cmd = "zstd -dc '" + path.string() + "'";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) { std::fprintf(stderr, "cannot run %s\n", cmd.c_str()); std::abort(); }
    std::string out;
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    if (pclose(p) != 0) { std::fprintf(stderr, "failed: %s\n", cmd.c_str()); std::abort(); }
    return out;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) { std::fprintf(stderr, "cannot read %s\n", path.c_str()); std::abort(); }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cordon-test-XXXXXX").string();
  char* p = mkdtemp(tmpl.data());
  if (!p) std::abort();
  path_ = p;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace cordon::testutil
