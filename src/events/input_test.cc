// LineReader and DecodeInputs: block boundaries, long lines, last line without
// newline, and --follow across appends, rotation (rename + new file) and
// truncation, with every line seen exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "events/input.h"
#include "testutil/testutil.h"

namespace cordon::events {
namespace {

namespace fs = std::filesystem;

TEST(LineReader, LinesAcrossBlocksLongLinesAndNoFinalNewline) {
  testutil::TempDir dir;
  fs::path p = dir.path() / "big.txt";
  std::string long_line(3 << 20, 'x');  // longer than one read block
  {
    std::ofstream out(p);
    for (int i = 0; i < 200000; ++i) out << "line" << i << ".example\n";
    out << long_line << "\n" << "last.example";
  }
  auto r = LineReader::Open(p.string(), false);
  ASSERT_TRUE(r.ok());
  std::string_view line;
  uint64_t n = 0;
  bool saw_long = false;
  std::string last;
  while (true) {
    auto next = (*r)->NextLine(&line);
    ASSERT_TRUE(next.ok());
    if (*next == LineReader::Next::kEnd) break;
    if (n < 200000) {
      ASSERT_EQ(line, "line" + std::to_string(n) + ".example");
    }
    if (line.size() == long_line.size()) saw_long = true;
    last = line;
    ++n;
    // The padding a JSON parser may read past the line is readable.
    volatile char c = line.data()[line.size() + kJsonPadding - 1];
    (void)c;
  }
  EXPECT_EQ(n, 200002u);
  EXPECT_TRUE(saw_long);
  EXPECT_EQ(last, "last.example");
  EXPECT_EQ((*r)->line_number(), 200002u);
}

TEST(LineReader, MissingFileIsAnError) {
  auto r = LineReader::Open("/nonexistent/dir/x.log", false);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/dir/x.log"), std::string::npos);
}

TEST(Follow, AppendsRotationAndTruncationEachLineOnce) {
  testutil::TempDir dir;
  fs::path p = dir.path() / "live.log";
  std::ofstream(p) << "#fields\tts\tquery\n";
  std::mutex mu;
  std::multiset<std::string> seen;
  std::atomic<uint64_t> events{0};
  std::atomic<bool> stop{false};
  DecodeStats stats;
  DecodeOptions opt;
  opt.follow = true;
  opt.poll_ms = 5;
  opt.stop = [&] { return stop.load(); };
  Status result;
  std::thread reader([&] {
    result = DecodeInputs({p.string()}, Format::kZeek, opt, [&](const match::Event& e) {
      std::lock_guard<std::mutex> l(mu);
      for (const auto& k : e.keys) seen.insert(std::string(k.text));
      ++events;
    }, &stats);
  });
  auto wait_for = [&](uint64_t n) {
    for (int i = 0; i < 1000 && events.load() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_EQ(events.load(), n);
  };
  int next = 0;
  auto append = [&](const fs::path& f, int count) {
    std::ofstream out(f, std::ios::app);
    for (int i = 0; i < count; ++i, ++next) out << next << "\tq" << next << ".example\n";
  };
  append(p, 100);
  wait_for(100);
  // A line written in two parts is decoded once, complete.
  {
    std::ofstream out(p, std::ios::app);
    out << next << "\tq" << next;
    out.flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    out << ".example\n";
    ++next;
  }
  wait_for(101);
  // Rotation: lines written to the old file just before the rename are still read.
  append(p, 50);
  fs::rename(p, dir.path() / "live.log.1");
  std::ofstream(p) << "#fields\tts\tquery\n";
  append(p, 70);
  wait_for(221);
  // Truncation in place (copytruncate): the new content, with its header, from offset 0.
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  std::ofstream(p, std::ios::trunc) << "#fields\tts\tquery\n";
  append(p, 5);
  wait_for(226);
  stop = true;
  reader.join();
  ASSERT_TRUE(result.ok()) << result;
  EXPECT_EQ(stats.malformed, 0u);
  std::lock_guard<std::mutex> l(mu);
  ASSERT_EQ(seen.size(), 226u);
  for (int i = 0; i < next; ++i) EXPECT_EQ(seen.count("q" + std::to_string(i) + ".example"), 1u) << i;
}

}  // namespace
}  // namespace cordon::events
