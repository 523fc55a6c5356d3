// Watchdog: a small process that SIGKILLs kittyd's worker process groups when kittyd dies,
// however it dies (SIGKILL, OOM kill, a crash), within milliseconds. Linux's PR_SET_PDEATHSIG
// reaches only a worker's leader, and macOS has none at all, so without it a worker started
// through `shell: true`, or one that forks, leaves its grandchildren holding memory and ports
// until the next kittyd starts (issue 8).
//
//   kittyd ──(channel: "+pgid\n" / "-pgid\n", see watchdog_protocol.h)──► watchdog
//                       EOF = kittyd is gone ──► SIGKILL every registered group, exit
//
// The watchdog is forked without exec (twice, so it is nobody's child to reap but init's or
// kittyd's as subreaper). It keeps only its end of the channel and stderr, closing every other
// descriptor it inherited (the daemon lock, the listening socket, worker pipes: the next kittyd
// must be able to take them). It runs in its own session, so a kill of kittyd's process group
// or a terminal's Ctrl-C/hangup does not reach it, ignores SIGHUP/SIGINT/SIGQUIT/SIGTERM/
// SIGPIPE, and has no parent-death signal. It kills only groups it was told about, and
// nothing at all when kittyd exits after having stopped its workers.
//
// Who tells it: PosixSpawner registers each group right after fork(), before the child can
// exec, hence before anything in the group can fork; and forgets it as soon as it sees the
// group gone (leader reaped and no member left). A group registered whose end kittyd has not
// observed yet (at most one poll of the worker's group, ≤ 0.5 s) would be signalled after
// kittyd's death only if its pgid had been reused in that time by a new group leader, which
// takes a wrap of the whole pid space.
//
// If the watchdog dies while kittyd runs (someone kills it), kittyd notices at once when
// watch() was called (the channel becomes readable at EOF), else at its next add/remove
// (EPIPE); either way it logs an error, starts a new watchdog (at most one start per second)
// and registers every live group with it. A watchdog that stops reading (SIGSTOP) is noticed
// when the channel's buffer stays full for 200 ms, and is SIGKILLed and replaced (a live one
// must never be let go: at EOF it would kill the running workers).
//
// Threading: not thread-safe. Create it before any thread exists (its first fork then copies
// a single-threaded process); after that, every call, and the io_context given to watch(),
// belong to the one control thread that owns the spawner.
#pragma once

#include <utility>  // before asio: Boost 1.74 forgets it

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <set>

#include "kitty/base/result.h"

namespace kitty {

class Watchdog {
 public:
  /// Forks the watchdog and waits until it is ready (its descriptors closed, its signals set).
  static Result<std::unique_ptr<Watchdog>> Start();

  /// Closes the channel: the watchdog SIGKILLs every group still registered and exits. Waits
  /// up to 2 s for that, so that when this returns the groups have been signalled.
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  /// Registers process group `pgid`: it is SIGKILLed if kittyd dies before remove_group().
  /// Errors: pgid < 2, or more than watchdog_protocol::kMaxGroups groups. A watchdog that is
  /// down (being replaced) is not an error: the group is registered with the next one.
  Status add_group(int pgid);
  /// Forgets `pgid` (its group is gone). Unknown groups are ignored.
  void remove_group(int pgid);

  /// From now on the watchdog's death is noticed as it happens, on `io` (the control
  /// thread's). May be called once `io` exists; `io` may be destroyed before this object.
  void watch(boost::asio::io_context& io);

  /// The watchdog process now running, 0 while there is none.
  int pid() const { return pid_; }
  /// How many times a dead or stuck watchdog was replaced.
  int restarts() const { return restarts_; }
  /// Groups registered now.
  const std::set<int>& groups() const { return groups_; }

 private:
  struct Loop;
  enum class Sent { kOk, kDead, kStuck };

  Watchdog() = default;
  Status launch();
  void relaunch();
  void replace(const std::string& why, bool may_be_alive);
  void close_channel(bool kill_first);
  void send_line(char op, int pgid);
  Sent send_all(const char* data, size_t n);
  void arm(const std::shared_ptr<Loop>& loop);
  void on_readable();

  std::set<int> groups_;
  int fd_ = -1;  // kittyd's end of the channel (non-blocking, close-on-exec); -1: none
  int pid_ = 0;
  int restarts_ = 0;
  std::chrono::steady_clock::time_point next_launch_{};
  std::weak_ptr<Loop> loop_;  // alive while an asio operation of watch() is pending
};

}  // namespace kitty
