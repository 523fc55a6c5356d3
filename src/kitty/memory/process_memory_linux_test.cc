#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "kitty/memory/process_memory.h"
#include "kitty/memory/system_memory_linux.h"
#include "kitty/process/posix_spawner.h"
#include "kitty/testing/temp_dir.h"

namespace kitty {
namespace {

using ::testing::Contains;
using testing_util::RunUntil;
using testing_util::TempDir;

constexpr uint64_t kMiB = 1024 * 1024;

// Two python processes in one group, each touching 50 MiB.
TEST(ReadGroupMemory, CountsEveryMemberOfTheGroup) {
  boost::asio::io_context io;
  PosixSpawner spawner(io, "tok");
  auto tail = std::make_shared<LogTail>();
  const std::string py =
      "python3 -c 'import sys, time; b = b\"x\" * (50 << 20); print(\"ready\", flush=True); "
      "time.sleep(60)'";
  SpawnSpec spec;
  spec.argv = {"sh", "-c", py + " & exec " + py};
  spec.tail = tail;
  auto p = spawner.spawn(spec, [](ExitStatus) {});
  ASSERT_TRUE(p.ok()) << p.error().message;
  int pgid = (*p)->pid();
  // Count "ready" anywhere, not whole lines: the two share one pipe and Python may write
  // "ready" and its newline separately, so the lines can come out as "readyready" and "".
  auto ready = [&] {
    int n = 0;
    for (const auto& l : tail->last(100))
      for (size_t at = l.find("ready"); at != std::string::npos; at = l.find("ready", at + 1)) ++n;
    return n == 2;
  };
  bool ok = RunUntil(io, ready);
  auto mem = ReadGroupMemory(pgid);
  (*p)->signal_group(SIGKILL);
  RunUntil(io, [&] { return !(*p)->group_alive(); });
  ASSERT_TRUE(ok) << tail->last_text(20);

  ASSERT_TRUE(mem.ok()) << mem.error().message;
  EXPECT_GE(mem->rss_bytes, 90 * kMiB);
  EXPECT_GE(mem->process_count, 2);
  EXPECT_EQ(mem->process_count, static_cast<int>(mem->pids.size()));
  EXPECT_THAT(mem->pids, Contains(pgid));
  if (mem->pss_available) {
    EXPECT_GE(mem->pss_bytes, 90 * kMiB);
    EXPECT_LE(mem->pss_bytes, mem->rss_bytes);
  }
}

TEST(ReadGroupMemory, EmptyGroupIsNotFound) {
  auto mem = ReadGroupMemory(0x3ffffff0);
  ASSERT_FALSE(mem.ok());
  EXPECT_EQ(mem.error().code, ErrorCode::kFileNotFound);
}

TEST(ReadSystemMemory, RealMachineIsSane) {
  auto mem = ReadSystemMemory();
  ASSERT_TRUE(mem.ok()) << mem.error().message;
  EXPECT_GT(mem->total_bytes, 64 * kMiB);
  EXPECT_GT(mem->available_bytes, 0u);
  EXPECT_LE(mem->available_bytes, mem->total_bytes);
}

void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

TEST(ReadSystemMemory, CgroupV2LimitOfAnAncestorBinds) {
  TempDir dir;
  std::string proc = dir.path() + "/proc", cg = dir.path() + "/cg";
  Write(proc + "/meminfo", "MemTotal:       16000000 kB\nMemFree: 1 kB\nMemAvailable:   12000000 kB\n");
  Write(proc + "/self/cgroup", "0::/a/b\n");
  Write(cg + "/a/memory.max", "4294967296\n");    // 4 GiB on the parent
  Write(cg + "/a/memory.current", "1073741824\n");  // 1 GiB used
  Write(cg + "/a/memory.stat", "anon 1\ninactive_file 536870912\n");  // 0.5 GiB reclaimable
  Write(cg + "/a/b/memory.max", "max\n");
  Write(cg + "/a/b/memory.current", "1048576\n");
  auto mem = ReadSystemMemoryAt(proc, cg);
  ASSERT_TRUE(mem.ok()) << mem.error().message;
  EXPECT_TRUE(mem->cgroup_limited);
  EXPECT_EQ(mem->total_bytes, 4096 * kMiB);
  EXPECT_EQ(mem->available_bytes, 3584 * kMiB);
  ASSERT_TRUE(mem->cgroup.has_value()) << "our own cgroup v2 has memory.current";
  EXPECT_EQ(mem->cgroup->path, "/a/b");
  EXPECT_FALSE(mem->cgroup->max_bytes.has_value()) << "its own memory.max is \"max\"";
  EXPECT_EQ(mem->cgroup->current_bytes, 1 * kMiB);
}

TEST(ReadSystemMemory, OwnCgroupV2FiguresAndSwap) {
  TempDir dir;
  std::string proc = dir.path() + "/proc", cg = dir.path() + "/cg";
  Write(proc + "/meminfo",
        "MemTotal: 16000000 kB\nMemAvailable: 12000000 kB\nSwapTotal: 2000000 kB\n"
        "SwapFree: 1500000 kB\n");
  Write(proc + "/self/cgroup", "0::/system.slice/kittyd.service\n");
  Write(cg + "/system.slice/kittyd.service/memory.max", "2147483648\n");
  Write(cg + "/system.slice/kittyd.service/memory.current", "536870912\n");
  auto mem = ReadSystemMemoryAt(proc, cg);
  ASSERT_TRUE(mem.ok()) << mem.error().message;
  EXPECT_EQ(mem->swap_total_bytes, 2000000 * 1024u);
  EXPECT_EQ(mem->swap_used_bytes, 500000 * 1024u);
  ASSERT_TRUE(mem->cgroup.has_value());
  EXPECT_EQ(mem->cgroup->path, "/system.slice/kittyd.service");
  EXPECT_EQ(mem->cgroup->max_bytes, std::optional<uint64_t>(2048 * kMiB));
  EXPECT_EQ(mem->cgroup->current_bytes, 512 * kMiB);
  EXPECT_EQ(mem->total_bytes, 2048 * kMiB);

  // A container's namespaced cgroup is "/" and its files sit at the mount's top; on a hybrid
  // host the v2 tree is under "unified".
  Write(proc + "/self/cgroup", "0::/\n");
  Write(cg + "/memory.current", "1000\n");
  mem = ReadSystemMemoryAt(proc, cg);
  ASSERT_TRUE(mem.ok() && mem->cgroup.has_value());
  EXPECT_EQ(mem->cgroup->current_bytes, 1000u);
  std::filesystem::remove(cg + "/memory.current");
  Write(proc + "/self/cgroup", "0::/x\n");
  Write(cg + "/unified/x/memory.current", "2000\n");
  mem = ReadSystemMemoryAt(proc, cg);
  ASSERT_TRUE(mem.ok() && mem->cgroup.has_value());
  EXPECT_EQ(mem->cgroup->current_bytes, 2000u);
}

TEST(ReadSystemMemory, NoOwnCgroupFigureAtAHostRootOrOnV1) {
  TempDir dir;
  std::string proc = dir.path() + "/proc", cg = dir.path() + "/cg";
  Write(proc + "/meminfo", "MemTotal: 1000 kB\nMemAvailable: 600 kB\n");
  Write(proc + "/self/cgroup", "0::/\n");
  Write(cg + "/cgroup.procs", "1\n");  // the host's root: no memory.current
  auto mem = ReadSystemMemoryAt(proc, cg);
  ASSERT_TRUE(mem.ok());
  EXPECT_FALSE(mem->cgroup.has_value());
  EXPECT_EQ(mem->swap_total_bytes, 0u);
  Write(proc + "/self/cgroup", "4:memory:/x\n");
  Write(cg + "/memory/x/memory.usage_in_bytes", "100\n");
  mem = ReadSystemMemoryAt(proc, cg);
  ASSERT_TRUE(mem.ok());
  EXPECT_FALSE(mem->cgroup.has_value()) << "v1 has no memory.max/current to show";
}

TEST(ReadSystemMemory, CgroupV1UnlimitedLeavesMeminfo) {
  TempDir dir;
  std::string proc = dir.path() + "/proc", cg = dir.path() + "/cg";
  Write(proc + "/meminfo", "MemTotal:       1000 kB\nMemAvailable:   600 kB\n");
  Write(proc + "/self/cgroup", "4:memory:/x\n0::/\n");
  Write(cg + "/memory/x/memory.limit_in_bytes", "9223372036854771712\n");
  Write(cg + "/memory/x/memory.usage_in_bytes", "100\n");
  auto mem = ReadSystemMemoryAt(proc, cg);
  ASSERT_TRUE(mem.ok());
  EXPECT_FALSE(mem->cgroup_limited);
  EXPECT_EQ(mem->total_bytes, 1000 * 1024u);
  EXPECT_EQ(mem->available_bytes, 600 * 1024u);
  EXPECT_FALSE(ReadSystemMemoryAt(dir.path() + "/nothing", cg).ok());
}

}  // namespace
}  // namespace kitty
