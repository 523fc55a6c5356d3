// Linux-only checks of the watchdog process, through /proc: exactly which descriptors it keeps,
// its name, and that it is not our child.
#include <fcntl.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "kitty/process/proc_stat_linux.h"
#include "kitty/process/watchdog.h"

namespace kitty {
namespace {

TEST(WatchdogLinux, KeepsOnlyItsChannelAndStderr) {
  // Descriptors kittyd has when it starts a watchdog: a file, a pipe, stdin.
  int file = open("/proc/self/stat", O_RDONLY);  // not close-on-exec: fork inherits it anyway
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  auto wd = Watchdog::Start();
  ASSERT_TRUE(wd.ok()) << wd.error().message;
  const int pid = (*wd)->pid();

  std::map<std::string, std::string> fds;  // number -> what it points at
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    fds[e.path().filename()] = std::filesystem::read_symlink(e.path()).string();
  EXPECT_EQ(fds.size(), 2u) << ::testing::PrintToString(fds);
  EXPECT_EQ(fds.count("2"), 1u) << ::testing::PrintToString(fds);
  int sockets = 0;
  for (const auto& [fd, target] : fds) sockets += target.rfind("socket:", 0) == 0;
  EXPECT_EQ(sockets, 1) << ::testing::PrintToString(fds);

  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(comm, name);
  EXPECT_EQ(name, "kittyd-watchdog");
  // Forked twice: re-parented away from us, so no waitpid() of ours can meet it.
  auto st = ReadProcStat(pid);
  ASSERT_TRUE(st.ok());
  EXPECT_NE(st->ppid, getpid());

  close(file);
  close(p[0]);
  close(p[1]);
}

}  // namespace
}  // namespace kitty
