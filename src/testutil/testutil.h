// Test-only helpers: temporary directories and access to ../shared/data.
// Depends on base alone; linked into every module's test binary.
#pragma once

#include <filesystem>
#include <string>

namespace cordon::testutil {

// The shared real data folder (CORDON_SHARED_DATA, else ../shared/data next to
// the source tree). Paths below it are as in its README, e.g. "stix/...".
std::filesystem::path SharedData(const std::string& relative = "");

// Reads a file whole; a ".zst" file is decompressed (through the zstd tool).
// Aborts the test binary on failure: test input that is missing is a broken setup.
std::string ReadFile(const std::filesystem::path& path);

// A fresh directory removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace cordon::testutil
