// The watchdog on real processes: process trees (a `sh -c` with grandchildren, an engine that
// forks) registered with a real watchdog, kittyd's death simulated by closing the channel and
// by SIGKILLing a forked "daemon"; plus the wire protocol on plain bytes.
#include "kitty/process/watchdog.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kitty/process/daemon_lock.h"
#include "kitty/process/platform.h"
#include "kitty/process/posix_spawner.h"
#include "kitty/testing/temp_dir.h"
#include "kitty/process/watchdog_protocol.h"

namespace kitty {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing_util::RunUntil;
using testing_util::TempDir;

// --- the wire protocol -----------------------------------------------------------------------

namespace wire = watchdog_protocol;

std::string Encoded(char op, int pgid) {
  char line[wire::kMaxLine];
  return std::string(line, static_cast<size_t>(wire::Encode(op, pgid, line)));
}

std::vector<int> Groups(const wire::GroupTable& t) {
  std::vector<int> out;
  for (int i = 0; i < t.size(); ++i) out.push_back(t[i]);
  std::sort(out.begin(), out.end());
  return out;
}

TEST(WatchdogProtocol, EncodesOneLinePerMessage) {
  EXPECT_EQ(Encoded('+', 2), "+2\n");
  EXPECT_EQ(Encoded('-', 40321), "-40321\n");
  EXPECT_EQ(Encoded('+', 2147483647), "+2147483647\n");
  EXPECT_EQ(Encoded('+', 2147483647).size(), static_cast<size_t>(wire::kMaxLine));
}

TEST(WatchdogProtocol, LinesMayBeSplitAcrossAnyReads) {
  const std::string stream = "+1234\n+77\n-1234\n+5678\n";
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    wire::GroupTable table;
    wire::LineReader reader;
    for (size_t at = 0; at < stream.size(); at += chunk)
      reader.feed(stream.data() + at, std::min(chunk, stream.size() - at), table);
    EXPECT_EQ(Groups(table), (std::vector<int>{77, 5678})) << "chunks of " << chunk;
  }
  // A half line is not acted on until its '\n' arrives.
  wire::GroupTable table;
  wire::LineReader reader;
  reader.feed("+42", 3, table);
  EXPECT_EQ(table.size(), 0);
  reader.feed("\n", 1, table);
  EXPECT_EQ(Groups(table), (std::vector<int>{42}));
}

TEST(WatchdogProtocol, NeverRegistersAGroupItWasNotClearlyToldAbout) {
  wire::GroupTable table;
  wire::LineReader reader;
  // -1 and 0 would mean "every process" and "our own group" to kill(); 1 is init's.
  const std::string junk =
      "+0\n+1\n+-5\n++5\n+\n5\n\n+12a\n+a12\n +13\n+14 \n*15\n+99999999999\n+2147483648\n"
      "+00000000016\n-1\n";
  reader.feed(junk.data(), junk.size(), table);
  EXPECT_EQ(table.size(), 0) << Groups(table).front();
  // ...and the line after garbage is read normally.
  reader.feed("garbage+3\n+17\n", 15, table);
  EXPECT_EQ(Groups(table), (std::vector<int>{17}));
}

TEST(WatchdogProtocol, TableKeepsOneEntryPerGroupAndRefusesBeyondItsSize) {
  wire::GroupTable table;
  EXPECT_TRUE(table.add(9));
  EXPECT_TRUE(table.add(9));
  EXPECT_EQ(table.size(), 1);
  table.remove(9);
  table.remove(9);
  EXPECT_EQ(table.size(), 0);
  for (int g = 2; g < 2 + wire::kMaxGroups; ++g) ASSERT_TRUE(table.add(g));
  EXPECT_FALSE(table.add(1000000));
  EXPECT_FALSE(table.contains(1000000));
  wire::LineReader reader;
  EXPECT_FALSE(reader.feed("+1000001\n", 9, table));
}

// --- real processes --------------------------------------------------------------------------

// A process tree we started, leader of its own group. Descendant pids come from its output.
struct Tree {
  int leader = 0;  // = pgid
  std::vector<int> descendants;
  bool reaped = false;

  std::vector<int> all() const {
    std::vector<int> v = descendants;
    v.push_back(leader);
    return v;
  }
};

// The pids in a tree's output: lines that are just a number (echo $!), and fake_engine's
// "forked child pid=N".
std::vector<int> PidsIn(const std::string& text) {
  std::vector<int> pids;
  static const std::regex re(R"((?:^|forked child pid=)(\d+)$)");
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, re)) pids.push_back(std::stoi(m[1]));
  }
  return pids;
}

// What `sh -c` runs for a worker configured with `shell: true` that starts helpers: a
// grandchild, and a subshell with a child of its own (great-grandchild).
const char* kShellTree = "sleep 1000 & echo $!; (sleep 1000 & echo $!; wait) & echo $!; wait";

class WatchdogTest : public ::testing::Test {
 protected:
  ~WatchdogTest() override {
    // Whatever the test did, nothing it started outlives it. A group whose leader we have not
    // reaped is still ours (its pid cannot have been reused). A "daemon" first: its watchdog
    // then sweeps the daemon's workers.
    for (int pid : daemons_) {
      kill(pid, SIGKILL);
      int st;
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
    }
    for (Tree& t : trees_) {
      if (!t.reaped) {
        kill(-t.leader, SIGKILL);
        int st;
        while (waitpid(t.leader, &st, 0) < 0 && errno == EINTR) {
        }
      }
      for (int pid : t.descendants)
        if (platform::ProcessRunning(pid)) kill(pid, SIGKILL);
    }
    for (int pid : strays_)
      if (platform::ProcessRunning(pid)) kill(pid, SIGKILL);
  }

  // Starts argv as the leader of a new group and reads `want` descendant pids from its stdout.
  Tree& Start(std::vector<std::string> argv, size_t want) {
    int out[2];
    EXPECT_EQ(pipe(out), 0);
    pid_t pid = fork();
    if (pid == 0) {
      setpgid(0, 0);
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    setpgid(pid, pid);
    close(out[1]);
    trees_.push_back(Tree{pid, {}, false});
    Tree& t = trees_.back();
    std::string text;
    auto deadline = Clock::now() + 10s;
    while (PidsIn(text).size() < want && Clock::now() < deadline) {
      struct pollfd pfd = {out[0], POLLIN, 0};
      if (poll(&pfd, 1, 100) <= 0) continue;
      char buf[256];
      ssize_t n = read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
    }
    close(out[0]);
    t.descendants = PidsIn(text);
    EXPECT_EQ(t.descendants.size(), want) << text;
    for (int p : t.all()) EXPECT_TRUE(platform::ProcessRunning(p)) << p;
    return t;
  }

  Tree& ShellTree() { return Start({"/bin/sh", "-c", kShellTree}, 3); }
  // An engine that forks without exec: the child stays in the engine's group.
  Tree& ForkingEngine() {
    return Start({KITTY_FAKE_ENGINE_PATH, "--port", "0", "--fork-child"}, 1);
  }

  // True once no process of `t` runs; reaps the leader (our child) as it goes.
  static bool Gone(Tree& t) {
    if (!t.reaped) {
      int st;
      if (waitpid(t.leader, &st, WNOHANG) == t.leader) t.reaped = true;
    }
    if (!t.reaped) return false;
    for (int p : t.descendants)
      if (platform::ProcessRunning(p)) return false;
    return true;
  }
  static bool Alive(const Tree& t) {
    for (int p : t.all())
      if (!platform::ProcessRunning(p)) return false;
    return true;
  }
  // How long until every tree is gone; `limit` if they are not.
  static Clock::duration WaitGone(std::vector<Tree*> trees, Clock::time_point since,
                                  Clock::duration limit = 5s) {
    for (;;) {
      bool all = true;
      for (Tree* t : trees) all = Gone(*t) && all;
      auto took = Clock::now() - since;
      if (all || took >= limit) return all ? took : limit;
      std::this_thread::sleep_for(1ms);
    }
  }

  std::vector<Tree> trees_{};  // references stay valid: reserved below
  std::vector<int> strays_;    // other pids to kill at the end if still running
  std::vector<int> daemons_;   // our forked "daemons": killed and reaped at the end
  void SetUp() override { trees_.reserve(16); }
};

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

TEST_F(WatchdogTest, ClosingTheChannelKillsEveryRegisteredTreeWithinOneSecond) {
  auto wd = Watchdog::Start();
  ASSERT_TRUE(wd.ok()) << wd.error().message;
  Tree& shell = ShellTree();
  Tree& engine = ForkingEngine();
  ASSERT_TRUE((*wd)->add_group(shell.leader).ok());
  ASSERT_TRUE((*wd)->add_group(engine.leader).ok());
  const int wd_pid = (*wd)->pid();
  strays_.push_back(wd_pid);

  // What kittyd's death looks like to the watchdog: its end of the channel closes.
  auto t0 = Clock::now();
  wd.value().reset();
  auto took = WaitGone({&shell, &engine}, t0);
  EXPECT_LT(took, 1s) << "trees still running after " << Ms(took) << " ms";
  std::printf("[ measured ] channel closed -> every registered tree gone: %.1f ms\n", Ms(took));
  // Having swept, it exits.
  auto deadline = Clock::now() + 2s;
  while (platform::ProcessRunning(wd_pid) && Clock::now() < deadline) usleep(1000);
  EXPECT_FALSE(platform::ProcessRunning(wd_pid));
}

TEST_F(WatchdogTest, AGroupItWasNotToldAboutIsLeftAlone) {
  auto wd = Watchdog::Start();
  ASSERT_TRUE(wd.ok()) << wd.error().message;
  Tree& registered = ShellTree();
  Tree& stranger = ShellTree();
  ASSERT_TRUE((*wd)->add_group(registered.leader).ok());
  wd.value().reset();  // returns once the watchdog has swept
  WaitGone({&registered}, Clock::now());
  EXPECT_TRUE(Gone(registered));
  EXPECT_TRUE(Alive(stranger));
}

TEST_F(WatchdogTest, AGroupRemovedIsLeftAlone) {
  auto wd = Watchdog::Start();
  ASSERT_TRUE(wd.ok()) << wd.error().message;
  Tree& kept = ShellTree();
  Tree& removed = ForkingEngine();
  ASSERT_TRUE((*wd)->add_group(kept.leader).ok());
  ASSERT_TRUE((*wd)->add_group(removed.leader).ok());
  (*wd)->remove_group(removed.leader);
  EXPECT_EQ((*wd)->groups(), (std::set<int>{kept.leader}));
  wd.value().reset();
  WaitGone({&kept}, Clock::now());
  EXPECT_TRUE(Gone(kept));
  EXPECT_TRUE(Alive(removed));
}

TEST_F(WatchdogTest, ANormalExitKillsNothingAndLeavesNoWatchdog) {
  auto wd = Watchdog::Start();
  ASSERT_TRUE(wd.ok()) << wd.error().message;
  Tree& t = ShellTree();
  ASSERT_TRUE((*wd)->add_group(t.leader).ok());
  // kittyd forgets each worker it has stopped; here the tree is left running, to see that a
  // watchdog closed with nothing registered spares it.
  (*wd)->remove_group(t.leader);
  const int wd_pid = (*wd)->pid();
  strays_.push_back(wd_pid);
  wd.value().reset();
  auto deadline = Clock::now() + 2s;
  while (platform::ProcessRunning(wd_pid) && Clock::now() < deadline) usleep(1000);
  EXPECT_FALSE(platform::ProcessRunning(wd_pid));
  EXPECT_TRUE(Alive(t));
}

TEST_F(WatchdogTest, RefusesGroupsThatCannotBeWorkers) {
  auto wd = Watchdog::Start();
  ASSERT_TRUE(wd.ok()) << wd.error().message;
  EXPECT_FALSE((*wd)->add_group(0).ok());
  EXPECT_FALSE((*wd)->add_group(1).ok());
  EXPECT_FALSE((*wd)->add_group(-7).ok());
  EXPECT_TRUE((*wd)->groups().empty());
}

TEST_F(WatchdogTest, SurvivesTerminalSignalsInASessionOfItsOwn) {
  auto wd = Watchdog::Start();
  ASSERT_TRUE(wd.ok()) << wd.error().message;
  const int wd_pid = (*wd)->pid();
  strays_.push_back(wd_pid);
  EXPECT_NE(getsid(wd_pid), getsid(0));
  EXPECT_EQ(getpgid(wd_pid), wd_pid);
  EXPECT_NE(getpgid(wd_pid), getpgrp());
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE}) ASSERT_EQ(kill(wd_pid, sig), 0);
  usleep(100 * 1000);
  ASSERT_TRUE(platform::ProcessRunning(wd_pid));
  // ...and still does its job.
  Tree& t = ShellTree();
  ASSERT_TRUE((*wd)->add_group(t.leader).ok());
  wd.value().reset();
  EXPECT_LT(WaitGone({&t}, Clock::now()), 1s);
}

TEST_F(WatchdogTest, HoldsNeitherTheDaemonLockNorTheListeningSocket) {
  TempDir dir;
  auto lock = AcquireDaemonLock(dir.path());
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);

  auto wd = Watchdog::Start();  // inherits both...
  ASSERT_TRUE(wd.ok()) << wd.error().message;
  strays_.push_back((*wd)->pid());

  // ...and must have closed them: kittyd's copies go, and the next kittyd takes both.
  lock.value() = LockFile(-1, "");
  close(listener);
  auto again = AcquireDaemonLock(dir.path());
  EXPECT_TRUE(again.ok()) << again.error().message;
  int rebound = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(rebound, 0);
  EXPECT_EQ(bind(rebound, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0)
      << "port " << ntohs(addr.sin_port) << ": " << strerror(errno);
  close(rebound);
}

TEST_F(WatchdogTest, AKilledWatchdogIsReplacedAndGivenEveryLiveGroup) {
  boost::asio::io_context io;
  auto wd = Watchdog::Start();
  ASSERT_TRUE(wd.ok()) << wd.error().message;
  (*wd)->watch(io);
  Tree& t = ShellTree();
  ASSERT_TRUE((*wd)->add_group(t.leader).ok());
  const int first = (*wd)->pid();
  strays_.push_back(first);

  ASSERT_EQ(kill(first, SIGKILL), 0);
  // Noticed through the channel, without any add/remove; at most one start per second.
  ASSERT_TRUE(RunUntil(io, [&] { return (*wd)->pid() != 0 && (*wd)->pid() != first; }, 5s));
  strays_.push_back((*wd)->pid());
  EXPECT_EQ((*wd)->restarts(), 1);
  EXPECT_TRUE(Alive(t)) << "a dying watchdog must not sweep";
  // The new one knows the group without being told again.
  wd.value().reset();
  EXPECT_LT(WaitGone({&t}, Clock::now()), 1s);
}

TEST_F(WatchdogTest, AWatchdogFoundDeadOnWriteIsReplacedAtOnce) {
  auto wd = Watchdog::Start();  // no watch(): only a write can tell
  ASSERT_TRUE(wd.ok()) << wd.error().message;
  Tree& a = ShellTree();
  Tree& b = ForkingEngine();
  ASSERT_TRUE((*wd)->add_group(a.leader).ok());
  const int first = (*wd)->pid();
  strays_.push_back(first);
  ASSERT_EQ(kill(first, SIGKILL), 0);
  auto deadline = Clock::now() + 2s;
  while (platform::ProcessRunning(first) && Clock::now() < deadline) usleep(1000);

  ASSERT_TRUE((*wd)->add_group(b.leader).ok());  // EPIPE: replaced within this call
  ASSERT_NE((*wd)->pid(), 0);
  ASSERT_NE((*wd)->pid(), first);
  strays_.push_back((*wd)->pid());
  EXPECT_EQ((*wd)->restarts(), 1);
  wd.value().reset();
  EXPECT_LT(WaitGone({&a, &b}, Clock::now()), 1s);
}

TEST_F(WatchdogTest, AWatchdogThatStopsReadingIsKilledAndReplaced) {
  auto wd = Watchdog::Start();
  ASSERT_TRUE(wd.ok()) << wd.error().message;
  Tree& t = ShellTree();
  const int stuck = (*wd)->pid();
  strays_.push_back(stuck);
  ASSERT_EQ(kill(stuck, SIGSTOP), 0);
  // Fill the channel; the spawner would block on a full one if kittyd did not give up.
  auto start = Clock::now();
  for (int i = 0; (*wd)->restarts() == 0 && i < 1000000; ++i) {
    ASSERT_TRUE((*wd)->add_group(t.leader).ok());
    (*wd)->remove_group(t.leader);
  }
  ASSERT_EQ((*wd)->restarts(), 1);
  EXPECT_LT(Clock::now() - start, 5s);
  strays_.push_back((*wd)->pid());
  // Let go while alive it would have swept at EOF (on SIGCONT): it was SIGKILLed instead.
  auto deadline = Clock::now() + 2s;
  while (platform::ProcessRunning(stuck) && Clock::now() < deadline) usleep(1000);
  EXPECT_FALSE(platform::ProcessRunning(stuck));
  ASSERT_TRUE((*wd)->add_group(t.leader).ok());
  wd.value().reset();
  EXPECT_LT(WaitGone({&t}, Clock::now()), 1s);
}

TEST_F(WatchdogTest, SpawnerRegistersEachGroupFromForkUntilItIsGone) {
  auto wd = Watchdog::Start();
  ASSERT_TRUE(wd.ok()) << wd.error().message;
  strays_.push_back((*wd)->pid());
  {
    boost::asio::io_context io;
    PosixSpawner spawner(io, "tok", wd->get());
    auto tail = std::make_shared<LogTail>();
    SpawnSpec spec;
    spec.argv = {"sh", "-c", "sleep 0.3 & echo $!; exit 0"};
    spec.tail = tail;
    bool exited = false;
    auto p = spawner.spawn(spec, [&](ExitStatus) { exited = true; });
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ((*wd)->groups(), (std::set<int>{(*p)->pid()}));
    ASSERT_TRUE(RunUntil(io, [&] { return exited; }));
    // The leader is gone but its child still runs in the group: still registered.
    EXPECT_EQ((*wd)->groups().count((*p)->pid()), 1u);
    ASSERT_TRUE(RunUntil(io, [&] { return !(*p)->group_alive(); }));
    EXPECT_TRUE((*wd)->groups().empty());

    // A failed exec leaves nothing registered.
    spec.argv = {"/nonexistent/engine"};
    auto bad = spawner.spawn(spec, [](ExitStatus) {});
    EXPECT_FALSE(bad.ok());
    EXPECT_TRUE((*wd)->groups().empty());

    // A worker that leaves no one behind is forgotten as soon as it is reaped.
    spec.argv = {"sh", "-c", "exit 3"};
    exited = false;
    auto quick = spawner.spawn(spec, [&](ExitStatus) { exited = true; });
    ASSERT_TRUE(quick.ok()) << quick.error().message;
    ASSERT_TRUE(RunUntil(io, [&] { return exited; }));
    EXPECT_TRUE((*wd)->groups().empty());
  }
}

// kittyd's own SIGKILL, with the real spawner: a forked "daemon" starts a watchdog and two
// workers (a `shell: true` worker with grandchildren, an engine that forks), then is killed.
TEST_F(WatchdogTest, EveryWorkerTreeDiesWithASigkilledDaemonWithinOneSecond) {
  TempDir dir;
  const std::string shell_log = dir.path() + "/shell.log";
  const std::string engine_log = dir.path() + "/engine.log";
  int report[2];
  ASSERT_EQ(pipe(report), 0);
  pid_t daemon = fork();
  ASSERT_GE(daemon, 0);
  if (daemon == 0) {
    close(report[0]);
    auto wd = Watchdog::Start();
    if (!wd.ok()) _exit(2);
    boost::asio::io_context io;
    (*wd)->watch(io);
    PosixSpawner spawner(io, "tok", wd->get());
    SpawnSpec shell;
    shell.argv = {"/bin/sh", "-c", kShellTree};
    shell.log_path = shell_log;
    SpawnSpec engine;
    engine.argv = {KITTY_FAKE_ENGINE_PATH, "--port", "0", "--fork-child"};
    engine.log_path = engine_log;
    auto a = spawner.spawn(shell, [](ExitStatus) {});
    auto b = spawner.spawn(engine, [](ExitStatus) {});
    int pids[3] = {(*wd)->pid(), a.ok() ? (*a)->pid() : -1, b.ok() ? (*b)->pid() : -1};
    if (write(report[1], pids, sizeof pids) != static_cast<ssize_t>(sizeof pids)) _exit(2);
    io.run();  // until killed
    _exit(3);
  }
  daemons_.push_back(daemon);
  close(report[1]);
  int pids[3] = {0, 0, 0};
  ssize_t n = read(report[0], pids, sizeof pids);
  close(report[0]);
  ASSERT_EQ(n, static_cast<ssize_t>(sizeof pids));
  const int wd_pid = pids[0];
  strays_ = {wd_pid, pids[1], pids[2]};
  ASSERT_GT(pids[1], 0);
  ASSERT_GT(pids[2], 0);

  // The workers are the daemon's children, not ours: track them by pid.
  auto read_file = [](const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  std::vector<int> everyone = {pids[1], pids[2]};
  auto deadline = Clock::now() + 10s;
  std::vector<int> shell_kids, engine_kids;
  while (Clock::now() < deadline) {
    shell_kids = PidsIn(read_file(shell_log));
    engine_kids = PidsIn(read_file(engine_log));
    if (shell_kids.size() == 3 && engine_kids.size() == 1) break;
    usleep(10 * 1000);
  }
  everyone.insert(everyone.end(), shell_kids.begin(), shell_kids.end());
  everyone.insert(everyone.end(), engine_kids.begin(), engine_kids.end());
  strays_.insert(strays_.end(), everyone.begin(), everyone.end());
  ASSERT_EQ(shell_kids.size(), 3u) << read_file(shell_log);
  ASSERT_EQ(engine_kids.size(), 1u) << read_file(engine_log);
  for (int p : everyone) ASSERT_TRUE(platform::ProcessRunning(p)) << p;

  auto t0 = Clock::now();
  ASSERT_EQ(kill(daemon, SIGKILL), 0);
  Clock::duration took = 5s;
  while (Clock::now() - t0 < 5s) {
    bool any = false;
    for (int p : everyone) any = any || platform::ProcessRunning(p);
    if (!any) {
      took = Clock::now() - t0;
      break;
    }
    usleep(1000);
  }
  std::vector<int> left;
  for (int p : everyone)
    if (platform::ProcessRunning(p)) left.push_back(p);
  EXPECT_TRUE(left.empty()) << ::testing::PrintToString(left) << " outlived the daemon";
  EXPECT_LT(took, 1s);
  std::printf("[ measured ] daemon SIGKILLed -> all %zu worker processes gone: %.1f ms\n",
              everyone.size(), Ms(took));
  deadline = Clock::now() + 2s;
  while (platform::ProcessRunning(wd_pid) && Clock::now() < deadline) usleep(1000);
  EXPECT_FALSE(platform::ProcessRunning(wd_pid)) << "the watchdog outlived its sweep";
}

}  // namespace
}  // namespace kitty
