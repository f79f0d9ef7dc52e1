// Runs a libFuzzer target (LLVMFuzzerTestOneInput) over files, for builds
// without libFuzzer: ctest replays each fuzzer's checked-in corpus
// (tests/fuzz/<fuzzer>/: seeds and every input that once crashed), so a fixed
// crash stays fixed in the ordinary GCC build and under the dev preset's
// sanitizers.
//
//   <fuzzer> FILE_OR_DIR...   (directories are walked recursively)
//
// Exit status 0 when every input ran; a crash aborts as it would under
// libFuzzer; 1 if an argument cannot be read or holds no input at all.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    if (fs::is_directory(argv[i], ec)) {
      for (const auto& e : fs::recursive_directory_iterator(argv[i]))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (fs::is_regular_file(argv[i], ec)) {
      files.emplace_back(argv[i]);
    } else {
      std::fprintf(stderr, "%s: no such file or directory\n", argv[i]);
      return 1;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "no inputs\n");
    return 1;
  }
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // A copy of exactly the input's size: reading past it is caught by ASan.
    std::vector<uint8_t> exact(bytes.begin(), bytes.end());
    LLVMFuzzerTestOneInput(exact.data(), exact.size());
  }
  std::printf("%zu inputs ran\n", files.size());
  return 0;
}
