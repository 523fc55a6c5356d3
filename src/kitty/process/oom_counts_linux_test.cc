#include "kitty/process/oom_counts.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "kitty/testing/temp_dir.h"

namespace kitty {
namespace {

void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

TEST(OomCountsTest, ReadsVmstatAndOurCgroupsMemoryEvents) {
  testing_util::TempDir dir;
  const std::string proc = dir.path() + "/proc", cg = dir.path() + "/cg";
  Write(proc + "/vmstat", "nr_free_pages 100\noom_kill 7\npgfault 9\n");
  Write(proc + "/self/cgroup", "0::/user.slice/kittyd.service\n");
  Write(cg + "/user.slice/kittyd.service/memory.events", "low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n");
  const OomCounts c = ReadOomCountsAt(proc, cg);
  EXPECT_EQ(c.system, 7u);
  EXPECT_EQ(c.cgroup, 2u);
}

TEST(OomCountsTest, WhatCannotBeReadIsNull) {
  testing_util::TempDir dir;
  const std::string proc = dir.path() + "/proc";
  Write(proc + "/vmstat", "nr_free_pages 100\n");  // a kernel before 4.13
  Write(proc + "/self/cgroup", "1:memory:/x\n");    // cgroup v1 only
  const OomCounts c = ReadOomCountsAt(proc, dir.path() + "/cg");
  EXPECT_FALSE(c.system.has_value());
  EXPECT_FALSE(c.cgroup.has_value());
}

TEST(OomCountsTest, ThisMachinesCountersAreReadable) {
  // /proc/vmstat has had oom_kill since Linux 4.13; the cgroup one depends on the host.
  EXPECT_TRUE(ReadOomCounts().system.has_value());
}

}  // namespace
}  // namespace kitty
