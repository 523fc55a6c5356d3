#include "kitty/process/posix_spawner.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <sstream>

#include "kitty/testing/temp_dir.h"

namespace kitty {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_util::RunUntil;
using testing_util::TempDir;

bool Gone(int pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

class PosixSpawnerTest : public ::testing::Test {
 protected:
  SpawnSpec Sh(const std::string& script) {
    SpawnSpec spec;
    spec.argv = {"sh", "-c", script};
    spec.tail = tail;
    return spec;
  }
  std::unique_ptr<Process> Spawn(const SpawnSpec& spec) {
    auto p = spawner.spawn(spec, [this](ExitStatus s) {
      ++exits;
      status = s;
      tail_at_exit = tail->last(100);
    });
    EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message);
    return p.ok() ? std::move(p.value()) : nullptr;
  }
  bool HasLine(const std::string& line) {
    auto lines = tail->last(1000);
    return std::find(lines.begin(), lines.end(), line) != lines.end();
  }
  // Kills whatever a test left behind.
  void TearDown() override {
    for (int pgid : cleanup) kill(-pgid, SIGKILL);
  }

  boost::asio::io_context io;
  PosixSpawner spawner{io, "test-token-123"};
  std::shared_ptr<LogTail> tail = std::make_shared<LogTail>();
  int exits = 0;
  std::optional<ExitStatus> status;
  std::vector<std::string> tail_at_exit;
  std::vector<int> cleanup;
};

TEST(ExitStatus, Describe) {
  EXPECT_EQ((ExitStatus{1, 0}).describe(), "exited with status 1");
  EXPECT_EQ((ExitStatus{0, 0}).describe(), "exited with status 0");
  EXPECT_EQ((ExitStatus{-1, 9}).describe(), "killed by signal 9 (SIGKILL)");
  EXPECT_EQ((ExitStatus{-1, 15}).describe(), "killed by signal 15 (SIGTERM)");
  EXPECT_EQ((ExitStatus{-1, 0}).describe(), "exit status unknown");
}

TEST_F(PosixSpawnerTest, ReportsExitCodeAndCapturesBothStreams) {
  TempDir dir;
  SpawnSpec spec = Sh("echo hello; echo err >&2; printf partial; exit 3");
  spec.log_path = dir.path() + "/logs/deep/worker.log";  // parents are created
  auto p = Spawn(spec);
  ASSERT_TRUE(p);
  ASSERT_TRUE(RunUntil(io, [&] { return exits > 0; }));
  EXPECT_EQ(exits, 1);
  EXPECT_EQ(status->code, 3);
  EXPECT_EQ(status->signal, 0);
  // Drained before on_exit: the tail read inside the callback is complete.
  EXPECT_THAT(tail_at_exit, ElementsAre("hello", "err", "partial"));
  EXPECT_TRUE(p->exited());
  EXPECT_FALSE(p->group_alive());
  std::ifstream log(spec.log_path);
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_EQ(text.str(), "hello\nerr\npartial");

  // The log file is appended to, not truncated, by the next run.
  SpawnSpec spec2 = Sh("echo again");
  spec2.log_path = spec.log_path;
  auto p3 = Spawn(spec2);
  ASSERT_TRUE(RunUntil(io, [&] { return exits == 2; }));
  std::ifstream log2(spec.log_path);
  std::stringstream text2;
  text2 << log2.rdbuf();
  EXPECT_EQ(text2.str(), "hello\nerr\npartialagain\n");
}

TEST_F(PosixSpawnerTest, MissingBinaryIsASpawnError) {
  SpawnSpec spec;
  spec.argv = {"/nonexistent/dir/llama-server", "--port", "1"};
  auto p = spawner.spawn(spec, [](ExitStatus) { FAIL() << "no exit for a failed exec"; });
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message,
            "cannot execute '/nonexistent/dir/llama-server': No such file or directory");
  EXPECT_EQ(p.error().code, ErrorCode::kExecFailed);

  spec.argv = {"kitty-no-such-binary-xyz"};
  p = spawner.spawn(spec, [](ExitStatus) {});
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.error().message, HasSubstr("'kitty-no-such-binary-xyz'"));
  RunUntil(io, [] { return false; }, std::chrono::milliseconds(50));
}

TEST_F(PosixSpawnerTest, NonExecutableFileIsASpawnError) {
  TempDir dir;
  std::string path = dir.path() + "/not-exec";
  std::ofstream(path) << "#!/bin/sh\necho hi\n";
  chmod(path.c_str(), 0644);
  SpawnSpec spec;
  spec.argv = {path};
  auto p = spawner.spawn(spec, [](ExitStatus) {});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message, "cannot execute '" + path + "': Permission denied");
}

TEST_F(PosixSpawnerTest, BadCwdIsASpawnError) {
  SpawnSpec spec = Sh("true");
  spec.cwd = "/nonexistent/kitty-cwd";
  auto p = spawner.spawn(spec, [](ExitStatus) {});
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.error().message, HasSubstr("cannot change directory to '/nonexistent/kitty-cwd'"));
}

TEST_F(PosixSpawnerTest, EnvCwdTokenAndStdin) {
  TempDir dir;
  SpawnSpec spec = Sh("echo \"foo=$FOO\"; echo \"token=$KITTY_DAEMON_TOKEN\"; pwd; cat; echo done");
  spec.env = {{"FOO", "bar baz"}};
  spec.cwd = dir.path();
  auto p = Spawn(spec);
  ASSERT_TRUE(p);
  ASSERT_TRUE(RunUntil(io, [&] { return exits > 0; }));
  // cat reads /dev/null: EOF at once.
  EXPECT_THAT(tail_at_exit, ElementsAre("foo=bar baz", "token=test-token-123", dir.path(), "done"));
  EXPECT_EQ(status->code, 0);
}

TEST_F(PosixSpawnerTest, WorkerIsLeaderOfItsOwnGroup) {
  auto p = Spawn(Sh("kill -0 -$$ && echo own-group"));
  ASSERT_TRUE(p);
  EXPECT_EQ(getpgid(p->pid()) == p->pid() || Gone(p->pid()), true);
  ASSERT_TRUE(RunUntil(io, [&] { return exits > 0; }));
  EXPECT_THAT(tail_at_exit, ElementsAre("own-group"));
}

TEST_F(PosixSpawnerTest, SignalGroupKillsGrandchildren) {
  auto p = Spawn(Sh("sleep 100 & echo $!; sleep 100"));
  ASSERT_TRUE(p);
  cleanup.push_back(p->pid());
  ASSERT_TRUE(RunUntil(io, [&] { return tail->total() > 0; }));
  int grandchild = std::stoi(tail->last(1)[0]);
  EXPECT_EQ(getpgid(grandchild), p->pid());
  EXPECT_TRUE(p->group_alive());
  EXPECT_FALSE(p->exited());

  p->signal_group(SIGKILL);
  ASSERT_TRUE(RunUntil(io, [&] { return !p->group_alive(); }));
  ASSERT_TRUE(RunUntil(io, [&] { return exits > 0; }));
  EXPECT_EQ(status->signal, SIGKILL);
  EXPECT_TRUE(p->exited());
  EXPECT_TRUE(Gone(p->pid()));
  EXPECT_TRUE(Gone(grandchild));
  p->signal_group(SIGKILL);  // a gone group is never signalled again: harmless
}

TEST_F(PosixSpawnerTest, WorkerIgnoringTermSurvivesTermDiesOnKill) {
  auto p = Spawn(Sh("trap '' TERM; echo ready; exec sleep 100"));
  ASSERT_TRUE(p);
  cleanup.push_back(p->pid());
  ASSERT_TRUE(RunUntil(io, [&] { return HasLine("ready"); }));
  p->signal_group(SIGTERM);
  RunUntil(io, [] { return false; }, std::chrono::milliseconds(300));
  EXPECT_EQ(exits, 0);
  EXPECT_TRUE(p->group_alive());
  EXPECT_FALSE(p->exited());

  p->signal_group(SIGKILL);
  ASSERT_TRUE(RunUntil(io, [&] { return exits > 0; }));
  EXPECT_EQ(status->signal, SIGKILL);
  EXPECT_EQ(status->describe(), "killed by signal 9 (SIGKILL)");
  ASSERT_TRUE(RunUntil(io, [&] { return !p->group_alive(); }));
}

TEST_F(PosixSpawnerTest, OnExitDoesNotWaitForGrandchildHoldingThePipe) {
  TempDir dir;
  std::string fifo = dir.path() + "/go";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // The background job inherits stdout and keeps the pipe open after the leader exits.
  auto p = Spawn(Sh("(read x < '" + fifo + "'; echo late) & echo early; exit 0"));
  ASSERT_TRUE(p);
  cleanup.push_back(p->pid());
  ASSERT_TRUE(RunUntil(io, [&] { return exits > 0; }));
  EXPECT_EQ(status->code, 0);
  EXPECT_THAT(tail_at_exit, ElementsAre("early"));
  EXPECT_TRUE(p->group_alive());  // the background job is still in the group

  // Output printed after on_exit still reaches the tail.
  int fd = open(fifo.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "go\n", 3), 3);
  close(fd);
  ASSERT_TRUE(RunUntil(io, [&] { return HasLine("late"); }));
  ASSERT_TRUE(RunUntil(io, [&] { return !p->group_alive(); }));
  EXPECT_EQ(exits, 1);
}

TEST_F(PosixSpawnerTest, ManyConcurrentWorkersEachGetTheirOwnExit) {
  std::vector<std::unique_ptr<Process>> procs;
  std::map<int, int> codes;
  for (int i = 0; i < 20; ++i) {
    SpawnSpec spec;
    spec.argv = {"sh", "-c", "exit " + std::to_string(i)};
    auto p = spawner.spawn(spec, [&codes, i](ExitStatus s) { codes[i] = s.code; });
    ASSERT_TRUE(p.ok());
    procs.push_back(std::move(p.value()));
  }
  ASSERT_TRUE(RunUntil(io, [&] { return codes.size() == 20; }));
  for (auto [i, code] : codes) EXPECT_EQ(code, i);
}

TEST_F(PosixSpawnerTest, DestroyingTheProcessHandleKillsNothing) {
  auto p = Spawn(Sh("echo up; exec sleep 100"));
  ASSERT_TRUE(p);
  int pid = p->pid();
  cleanup.push_back(pid);
  p.reset();
  ASSERT_TRUE(RunUntil(io, [&] { return HasLine("up"); }));
  EXPECT_FALSE(Gone(pid));
  kill(-pid, SIGKILL);
  ASSERT_TRUE(RunUntil(io, [&] { return exits > 0; }));  // on_exit still arrives
  EXPECT_EQ(status->signal, SIGKILL);
}

TEST(NewDaemonToken, IsRandomHex) {
  std::string a = NewDaemonToken(), b = NewDaemonToken();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

}  // namespace
}  // namespace kitty
