// OsLoadProbe's synchronous reading on this machine's real counters and a real temp dir.
#include "kitty/memory/load_probe.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "kitty/testing/temp_dir.h"

namespace kitty {
namespace {

TEST(OsLoadProbe, TheFirstReadingHasNoBusyShareTheNextOnesDo) {
  Env env;
  OsLoadProbe probe(env);
  EXPECT_FALSE(probe.read_now({}).cpu_busy_percent.has_value()) << "nothing to measure from yet";
  // The kernel's counters move in ticks (USER_HZ, 100 a second on Linux): wait for one.
  std::optional<double> busy;
  for (int i = 0; i < 100 && !busy; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    busy = probe.read_now({}).cpu_busy_percent;
  }
  ASSERT_TRUE(busy.has_value()) << "the counters did not move in 2 s";
  EXPECT_GE(*busy, 0.0);
  EXPECT_LE(*busy, 100.0);
}

TEST(OsLoadProbe, ReadsEachDirThatExistsAndLeavesOutOneThatDoesNot) {
  testing_util::TempDir dir;
  Env env;
  OsLoadProbe probe(env);
  const LoadReading r = probe.read_now({dir.path(), dir.path() + "/missing"});
  ASSERT_EQ(r.disks.size(), 1u);
  EXPECT_EQ(r.disks[0].path, dir.path());
  EXPECT_GT(r.disks[0].free_bytes, 0u);
}

}  // namespace
}  // namespace kitty
