// Orphan cleanup's decisions on a fake process table: what is killed, what is left alone, and
// that a platform which cannot look at other processes never stops the daemon from starting.
#include "kitty/process/orphans.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "kitty/process/posix_spawner.h"
#include "kitty/process/state_file.h"

namespace kitty {
namespace {

class FakeTable : public ProcessTable {
 public:
  struct Proc {
    int pgid;
    std::string env_token;  // "" = none
  };
  std::map<int, Proc> procs;
  bool can_list = true, can_read_env = true;
  std::set<int> killed;

  Result<std::vector<ProcessEntry>> list() override {
    if (!can_list) return MakeError("cannot list processes here", ErrorCode::kPlatformUnsupported);
    std::vector<ProcessEntry> v;
    for (const auto& [pid, p] : procs)
      if (!killed.count(pid)) v.push_back({pid, p.pgid, "engine"});
    return v;
  }
  bool running(int pid) override { return procs.count(pid) && !killed.count(pid); }
  Result<uint64_t> start_time(int) override { return uint64_t{42}; }
  Result<bool> environ_has(int pid, const std::string& entry) override {
    if (!can_read_env) return MakeError("cannot read environments here", ErrorCode::kPlatformUnsupported);
    return std::string(kDaemonTokenEnv) + "=" + procs.at(pid).env_token == entry;
  }
  bool kill(int pid, int sig) override {
    if (sig == SIGKILL) killed.insert(pid);
    return true;
  }
};

class OrphansTest : public ::testing::Test {
 protected:
  OrphansTest() {
    dir_ = std::filesystem::temp_directory_path() / ("kitty-orphans-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "kittyd.state").string();
  }
  ~OrphansTest() override { std::filesystem::remove_all(dir_); }

  // A state file of a dead daemon (pid 999999 is not in the fake table) with two workers.
  void write_previous_state() {
    StateFile s(path_, "oldtoken", /*daemon_pid=*/999999);
    ASSERT_TRUE(s.record_worker("qwen", 100).ok());
    ASSERT_TRUE(s.record_worker("smol", 200).ok());
  }

  std::filesystem::path dir_;
  std::string path_;
  FakeTable table_;
};

TEST_F(OrphansTest, KillsOnlyProcessesCarryingThePreviousToken) {
  write_previous_state();
  table_.procs = {{100, {100, "oldtoken"}}, {101, {100, "oldtoken"}},  // worker + grandchild
                  {200, {200, ""}},                                     // pid reused by a stranger
                  {300, {300, "oldtoken"}},                             // a stray that left its group
                  {400, {400, "othertoken"}}};
  auto r = CleanupOrphans(path_, "newtoken", table_);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(table_.killed, (std::set<int>{100, 101, 300}));
  EXPECT_TRUE(r->survivors.empty());
  EXPECT_TRUE(r->unchecked.empty());
}

TEST_F(OrphansTest, APlatformThatCannotReadEnvironmentsKillsNothingAndDoesNotRefuse) {
  write_previous_state();
  table_.procs = {{100, {100, "oldtoken"}}, {200, {200, "oldtoken"}}};
  table_.can_read_env = false;
  auto r = CleanupOrphans(path_, "newtoken", table_);
  ASSERT_TRUE(r.ok()) << "cleanup must never refuse the start: " << r.error().message;
  EXPECT_TRUE(table_.killed.empty());
  EXPECT_EQ(r->unchecked.size(), 2u);
  EXPECT_EQ(r->unchecked_why, "cannot read environments here");
  EXPECT_TRUE(CleanUpAfterPredecessor(path_, "newtoken", table_).ok());
}

TEST_F(OrphansTest, APlatformThatCannotListProcessesDoesNotRefuse) {
  write_previous_state();
  table_.can_list = false;
  auto r = CleanupOrphans(path_, "newtoken", table_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->unchecked.size(), 2u);
  EXPECT_TRUE(CleanUpAfterPredecessor(path_, "newtoken", table_).ok());
}

TEST_F(OrphansTest, ACorruptStateFileDoesNotRefuse) {
  { std::ofstream(path_) << "{not json"; }
  auto r = CleanupOrphans(path_, "newtoken", table_);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->unchecked_why.empty());
  EXPECT_TRUE(CleanUpAfterPredecessor(path_, "newtoken", table_).ok());
}

TEST_F(OrphansTest, ALivePredecessorRefusesTheStart) {
  StateFile s(path_, "oldtoken", /*daemon_pid=*/777);
  ASSERT_TRUE(s.save().ok());
  table_.procs = {{777, {777, ""}}};
  auto r = CleanupOrphans(path_, "newtoken", table_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kAlreadyRunning);
  EXPECT_FALSE(CleanUpAfterPredecessor(path_, "newtoken", table_).ok());
}

TEST_F(OrphansTest, NoStateFileIsNothingToDo) {
  auto r = CleanupOrphans(path_, "newtoken", table_);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->had_state);
}

}  // namespace
}  // namespace kitty
