// Linux-only behaviour of PosixSpawner: parent-death signal, subreaper, fd hygiene.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kitty/process/platform.h"
#include "kitty/process/posix_spawner.h"
#include "kitty/process/proc_stat_linux.h"
#include "kitty/testing/temp_dir.h"

namespace kitty {
namespace {

using ::testing::ElementsAre;
using testing_util::RunUntil;

TEST(PosixSpawnerLinux, OnlyStdioIsInherited) {
  boost::asio::io_context io;
  PosixSpawner spawner(io, "tok");
  auto tail = std::make_shared<LogTail>();
  bool done = false;
  SpawnSpec spec;
  // exec'd ls lists its own fds: 0, 1, 2 and the one it opened on the directory.
  spec.argv = {"sh", "-c", "exec ls /proc/self/fd"};
  spec.tail = tail;
  auto p = spawner.spawn(spec, [&](ExitStatus) { done = true; });
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_TRUE(RunUntil(io, [&] { return done; }));
  EXPECT_THAT(tail->last(10), ElementsAre("0", "1", "2", "3"));
}

TEST(PosixSpawnerLinux, OrphanedGrandchildIsAdoptedAndReaped) {
  boost::asio::io_context io;
  PosixSpawner spawner(io, "tok");
  auto tail = std::make_shared<LogTail>();
  bool done = false;
  SpawnSpec spec;
  spec.argv = {"sh", "-c", "sleep 100 >/dev/null 2>&1 & echo $!"};
  spec.tail = tail;
  auto p = spawner.spawn(spec, [&](ExitStatus) { done = true; });
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_TRUE(RunUntil(io, [&] { return done; }));
  int grandchild = std::stoi(tail->last(1)[0]);
  // The leader is gone; its child was re-parented to us (subreaper), not to init.
  auto st = ReadProcStat(grandchild);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->ppid, getpid());
  EXPECT_TRUE((*p)->group_alive());
  (*p)->signal_group(SIGKILL);
  ASSERT_TRUE(RunUntil(io, [&] { return !(*p)->group_alive(); }));
  // Reaped by the spawner: not even a zombie is left.
  EXPECT_TRUE(kill(grandchild, 0) != 0 && errno == ESRCH);
}

TEST(PosixSpawnerLinux, WorkerDiesWithASigkilledDaemon) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t daemon = fork();
  ASSERT_GE(daemon, 0);
  if (daemon == 0) {
    // The "daemon": spawn a worker, report its pid, wait to be killed.
    close(fds[0]);
    boost::asio::io_context io;
    PosixSpawner spawner(io, "tok");
    SpawnSpec spec;
    spec.argv = {"sleep", "100"};
    auto p = spawner.spawn(spec, [](ExitStatus) {});
    int pid = p.ok() ? (*p)->pid() : -1;
    if (write(fds[1], &pid, sizeof pid) != sizeof pid) _exit(2);
    for (;;) pause();
  }
  close(fds[1]);
  int worker = -1;
  ASSERT_EQ(read(fds[0], &worker, sizeof worker), static_cast<ssize_t>(sizeof worker));
  close(fds[0]);
  ASSERT_GT(worker, 0);
  EXPECT_TRUE(platform::ProcessRunning(worker));

  kill(daemon, SIGKILL);
  int st;
  while (waitpid(daemon, &st, 0) < 0 && errno == EINTR) {
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (platform::ProcessRunning(worker) && std::chrono::steady_clock::now() < deadline)
    usleep(10000);
  bool gone = !platform::ProcessRunning(worker);
  if (!gone) kill(-worker, SIGKILL);
  EXPECT_TRUE(gone) << "worker " << worker << " outlived its SIGKILLed parent";
}

TEST(ProcStat, ParsesCommWithSpacesAndParens) {
  std::string line = "1234 (a b) c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 "
                     "987654 1000000 256 18446744073709551615";
  auto st = ParseProcStat(line);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(st->pid, 1234);
  EXPECT_EQ(st->comm, "a b) c)");
  EXPECT_EQ(st->state, 'S');
  EXPECT_EQ(st->ppid, 1);
  EXPECT_EQ(st->pgrp, 1234);
  EXPECT_EQ(st->start_time, 987654u);
  EXPECT_EQ(st->rss_pages, 256u);
  EXPECT_FALSE(ParseProcStat("garbage").ok());
}

}  // namespace
}  // namespace kitty
