// The macOS process logic on Linux, with a fake of libproc and sysctl: what kittyd counts of a
// worker's group and how it recognises a process, whatever the real calls answer.
#include "kitty/process/darwin_proc.h"

#include <gtest/gtest.h>

#include <map>

namespace kitty::darwin {
namespace {

class FakeProcApi : public ProcApi {
 public:
  std::map<int, BsdInfo> procs;
  std::map<int, Rusage> usage;
  std::map<int, std::string> args;
  bool list_fails = false;

  Result<std::vector<int>> group_pids(int pgid) override {
    if (list_fails) return MakeError("proc_listpids: Operation not permitted", ErrorCode::kIoError);
    std::vector<int> out;
    for (const auto& [pid, p] : procs)
      if (p.pgid == pgid) out.push_back(pid);
    out.push_back(0);  // proc_listpids pads its answer with zeros
    return out;
  }
  Result<std::vector<int>> all_pids() override {
    std::vector<int> out;
    for (const auto& [pid, p] : procs) out.push_back(pid);
    return out;
  }
  std::optional<BsdInfo> bsd_info(int pid) override {
    auto it = procs.find(pid);
    if (it == procs.end()) return std::nullopt;
    return it->second;
  }
  std::optional<Rusage> rusage(int pid) override {
    auto it = usage.find(pid);
    if (it == usage.end()) return std::nullopt;
    return it->second;
  }
  Result<std::string> procargs(int pid) override { return args.at(pid); }

  void add(int pid, int pgid, uint64_t resident, uint64_t footprint, bool zombie = false) {
    procs[pid] = BsdInfo{pid, 1, pgid, zombie, 1000u + static_cast<uint64_t>(pid), "llama-server"};
    usage[pid] = Rusage{resident, footprint};
  }
};

TEST(DarwinProcTest, AGroupsMemoryIsTheSumOfItsLiveMembers) {
  FakeProcApi api;
  api.add(100, 100, 1 << 20, 8ull << 30);  // the leader: Metal buffers in its footprint
  api.add(101, 100, 2 << 20, 3 << 20);     // a child it forked
  api.add(102, 100, 5 << 20, 5 << 20, /*zombie=*/true);
  api.add(200, 200, 9 << 20, 9 << 20);     // another group
  api.procs[103] = BsdInfo{103, 100, 100, false, 1, "gone"};  // exits before its rusage is read
  auto g = GroupMemory(api, 100);
  ASSERT_TRUE(g.ok()) << g.error().message;
  EXPECT_EQ(g->resident_bytes, 3u << 20);
  EXPECT_EQ(g->footprint_bytes, (8ull << 30) + (3u << 20));
  EXPECT_EQ(g->pids, (std::vector<int>{100, 101}));
}

TEST(DarwinProcTest, AMemberThatChangedGroupIsNotCounted) {
  FakeProcApi api;
  api.add(100, 100, 1, 1);
  auto members = LiveGroupMembers(api, 100);
  ASSERT_TRUE(members.ok());
  api.procs[100].pgid = 300;  // setpgid between the list and the read
  EXPECT_TRUE(LiveGroupMembers(api, 100)->empty());
}

TEST(DarwinProcTest, ListErrorsAreErrors) {
  FakeProcApi api;
  api.list_fails = true;
  auto g = GroupMemory(api, 100);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("proc_listpids"), std::string::npos);
}

TEST(DarwinProcTest, StartTimeNamesOneProcessAcrossPidReuse) {
  FakeProcApi api;
  api.add(100, 100, 1, 1);
  const uint64_t first = StartTime(api, 100).value();
  api.procs[100].start_microseconds = first + 5'000'000;  // the pid, reused by a new process
  EXPECT_NE(StartTime(api, 100).value(), first);
  api.procs[100].zombie = true;
  EXPECT_FALSE(StartTime(api, 100).ok());
  EXPECT_FALSE(StartTime(api, 999).ok());
}

std::string ProcArgs(int32_t argc, const std::vector<std::string>& strings, size_t path_pad = 3) {
  std::string b(reinterpret_cast<const char*>(&argc), sizeof argc);
  b += "/usr/local/bin/llama-server";
  b.append(1 + path_pad, '\0');
  for (const auto& s : strings) b += s + '\0';
  return b;
}

TEST(DarwinProcTest, TheEnvironmentOfAProcArgsBuffer) {
  // argv: llama-server --port 41000; env: HOME, KITTY_OWNER; then Apple's strings.
  const std::string buf = ProcArgs(3, {"llama-server", "--port", "41000", "HOME=/Users/me",
                                       "KITTY_OWNER=abc", "", "executable_path=/usr/local/bin/llama-server"});
  EXPECT_TRUE(ProcArgsEnvironHas(buf, "KITTY_OWNER=abc").value());
  EXPECT_FALSE(ProcArgsEnvironHas(buf, "KITTY_OWNER=abd").value());
  EXPECT_FALSE(ProcArgsEnvironHas(buf, "--port").value()) << "an argument is not the environment";
  EXPECT_FALSE(ProcArgsEnvironHas(buf, "executable_path=/usr/local/bin/llama-server").value())
      << "Apple's strings after the environment are not part of it";
}

TEST(DarwinProcTest, AMalformedProcArgsBufferIsAnError) {
  EXPECT_FALSE(ProcArgsEnvironHas("ab", "X=1").ok());
  EXPECT_FALSE(ProcArgsEnvironHas(ProcArgs(5, {"only", "two"}), "X=1").ok());
  std::string no_nul(sizeof(int32_t), '\0');
  no_nul += "/bin/path-without-end";
  EXPECT_FALSE(ProcArgsEnvironHas(no_nul, "X=1").ok());
  const int32_t negative = -1;
  EXPECT_FALSE(ProcArgsEnvironHas(std::string(reinterpret_cast<const char*>(&negative), 4) + "x", "X=1").ok());
}

}  // namespace
}  // namespace kitty::darwin
