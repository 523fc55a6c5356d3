#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kitty/process/orphans.h"
#include "kitty/process/platform.h"
#include "kitty/process/posix_spawner.h"
#include "kitty/testing/temp_dir.h"
#include "kitty/process/state_file.h"

extern char** environ;

namespace kitty {
namespace {

using ::testing::UnorderedElementsAre;
using testing_util::RunUntil;
using testing_util::TempDir;

// A pid that certainly belongs to no running process now.
int DeadPid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  int st;
  waitpid(pid, &st, 0);
  return pid;
}

// `sleep 100` in a new process group, started without KITTY_DAEMON_TOKEN.
int StartStranger() {
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("KITTY_DAEMON_TOKEN=", 0) != 0) env_storage.push_back(*e);
  std::vector<char*> envp;
  for (auto& s : env_storage) envp.push_back(s.data());
  envp.push_back(nullptr);
  char* argv[] = {const_cast<char*>("sleep"), const_cast<char*>("100"), nullptr};
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, "sleep", nullptr, &attr, argv, envp.data());
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -1;
}

TEST(CleanupOrphans, KillsTheOldInstancesWorkersOnly) {
  TempDir dir;
  boost::asio::io_context io;
  // The "previous daemon": its spawner stamped its token into the worker group.
  // A random token: other test runs on this machine must never match it.
  const std::string old_token = NewDaemonToken();
  PosixSpawner old_spawner(io, old_token);
  auto tail = std::make_shared<LogTail>();
  SpawnSpec spec;
  spec.argv = {"sh", "-c", "sleep 100 & echo $!; exec sleep 100"};
  spec.tail = tail;
  int exits = 0;
  auto worker = old_spawner.spawn(spec, [&](ExitStatus) { ++exits; });
  ASSERT_TRUE(worker.ok()) << worker.error().message;
  int pgid = (*worker)->pid();
  ASSERT_TRUE(RunUntil(io, [&] { return tail->total() > 0; }));
  int grandchild = std::stoi(tail->last(1)[0]);

  int stranger = StartStranger();
  ASSERT_GT(stranger, 0);

  std::string state_path = dir.path() + "/kittyd.state";
  StateFile old_state(state_path, old_token, DeadPid());
  ASSERT_TRUE(old_state.record_worker("qwen", pgid).ok());
  // A record whose group is now some other program's: must be left alone.
  ASSERT_TRUE(old_state.record_worker("llama", stranger).ok());

  auto report = CleanupOrphans(state_path, NewDaemonToken(), *MakeProcessTable());
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->had_state);
  std::vector<int> killed;
  for (const auto& k : report->killed) {
    killed.push_back(k.pid);
    EXPECT_EQ(k.model_id, "qwen");
    EXPECT_EQ(k.pgid, pgid);
  }
  EXPECT_THAT(killed, UnorderedElementsAre(pgid, grandchild));
  EXPECT_TRUE(report->survivors.empty());
  EXPECT_FALSE(platform::ProcessRunning(pgid));
  EXPECT_FALSE(platform::ProcessRunning(grandchild));
  EXPECT_TRUE(platform::ProcessRunning(stranger));

  kill(stranger, SIGKILL);
  int st;
  waitpid(stranger, &st, 0);
  ASSERT_TRUE(RunUntil(io, [&] { return exits == 1 && !(*worker)->group_alive(); }));
}

TEST(CleanupOrphans, NoStateFileIsNothingToDo) {
  TempDir dir;
  auto report = CleanupOrphans(dir.path() + "/kittyd.state", "tok", *MakeProcessTable());
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->had_state);
  EXPECT_TRUE(report->killed.empty());
}

TEST(CleanupOrphans, RefusesWhileThePreviousDaemonStillRuns) {
  TempDir dir;
  // The recorded daemon is a live process with a matching start time.
  int daemon = StartStranger();
  ASSERT_GT(daemon, 0);
  std::string state_path = dir.path() + "/kittyd.state";
  StateFile old_state(state_path, "old-token", daemon);
  ASSERT_TRUE(old_state.save().ok());
  auto report = CleanupOrphans(state_path, "new-token", *MakeProcessTable());
  kill(daemon, SIGKILL);
  int st;
  waitpid(daemon, &st, 0);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().message, "another kittyd (pid " + std::to_string(daemon) +
                                        ") is using state dir " + dir.path());
  EXPECT_EQ(report.error().code, ErrorCode::kAlreadyRunning);
}

}  // namespace
}  // namespace kitty
