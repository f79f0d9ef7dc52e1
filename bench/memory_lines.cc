// What a random cache line costs on this machine, by the size of the array it
// is read from: the floor under the matcher's lookups at 1M and 10M indicators
// (docs/BENCHMARKS.md, "A filter in front of the exact tables"). A lookup in a
// table of hundreds of MB reads at least one such line per key; the figure
// for many independent reads is the most a core can get from memory, however
// well the reads are prefetched.
//
// usage: memory_lines [MB...]   (default: 2 8 16 64 512)
// Per size, ns per line of thread CPU time for 20M random lines read (2M for
// the dependent loads)
//   independent: a loop of loads, no dependence between them (the core
//                overlaps as many misses as it can track);
//   batch 128:   the matcher's pattern: prefetch 128 lines, then read them;
//   dependent:   each address depends on the line read before (latency).
#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

namespace {

double ThreadCpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

void Measure(size_t mb) {
  const size_t bytes = mb << 20;
  void* mapped = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) {
    std::perror("mmap");
    std::exit(1);
  }
  auto* p = static_cast<volatile unsigned char*>(mapped);
  madvise(mapped, bytes, MADV_HUGEPAGE);  // as the matcher's tables (HugePageAllocator)
  std::memset(mapped, 1, bytes);
  const size_t lines = bytes / 64, n = 20000000;
  std::vector<uint32_t> line(n);
  uint64_t x = 88172645463325252ull;  // xorshift64
  for (uint32_t& l : line) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    l = uint32_t(x % lines);
  }
  uint64_t sum = 0;
  double t0 = ThreadCpuSeconds();
  for (size_t i = 0; i < n; ++i) sum += p[size_t(line[i]) * 64];
  const double independent = (ThreadCpuSeconds() - t0) * 1e9 / double(n);
  t0 = ThreadCpuSeconds();
  for (size_t b = 0; b + 128 <= n; b += 128) {
    for (size_t i = b; i < b + 128; ++i) __builtin_prefetch(const_cast<unsigned char*>(p) + size_t(line[i]) * 64);
    for (size_t i = b; i < b + 128; ++i) sum += p[size_t(line[i]) * 64];
  }
  const double batched = (ThreadCpuSeconds() - t0) * 1e9 / double(n);
  const size_t chain = n / 10;
  size_t j = 0;
  t0 = ThreadCpuSeconds();
  for (size_t i = 0; i < chain; ++i) {
    j = (line[i] + p[j * 64]) % lines;
    sum += j;
  }
  const double dependent = (ThreadCpuSeconds() - t0) * 1e9 / double(chain);
  std::printf("%6zu MB: independent %6.2f ns/line, batch 128 %6.2f, dependent %7.2f   (%llu)\n", mb, independent,
              batched, dependent, static_cast<unsigned long long>(sum & 1));
  munmap(mapped, bytes);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(size_t(std::strtoul(argv[i], nullptr, 10)));
  if (sizes.empty()) sizes = {2, 8, 16, 64, 512};
  for (size_t mb : sizes) {
    if (mb == 0 || mb > (size_t(1) << 16)) {
      std::fprintf(stderr, "usage: memory_lines [MB...] (1-65536 each)\n");
      return 2;
    }
    Measure(mb);
  }
  return 0;
}
