// PosixSpawner: the real Spawner. fork/exec without a shell, each worker the leader of its own
// process group, output captured through one pipe into a log file and a LogTail, exits reaped
// on SIGCHLD. Everything runs on the io_context's thread (the daemon's single event loop).
//
// Reaping: the spawner waits for ANY child (waitpid(-1)), because on Linux it makes kittyd a
// child subreaper so that a worker's orphaned grandchildren are re-parented to kittyd and must
// be reaped by it. Consequently nothing else in the process may rely on waitpid(its_pid) while
// a PosixSpawner exists; run other children through this spawner.
//
// Output: read on the loop thread into the worker's LogTail; the log file write goes to the
// blocking pool, one strand per worker so its lines stay in order.
//
// Lifetime of one spawned worker:
//
//   spawn() ──► running ──(leader reaped)──► reaped ──(pipe EOF, or 100 ms grace)──► on_exit
//                                                                         │
//                 pipe keeps being drained into the log until EOF ◄───────┘
//                 (or closed once the whole group is gone)
#pragma once

#include <utility>  // before asio: Boost 1.74 forgets it

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>

#include "kitty/process/spawner.h"

namespace kitty {

class BlockingPool;
class Watchdog;

/// Name of the environment variable carrying the daemon instance's token into every worker,
/// so orphan cleanup can tell the processes we started from a reused pid.
inline constexpr const char* kDaemonTokenEnv = "KITTY_DAEMON_TOKEN";

class PosixSpawner : public Spawner {
 public:
  /// `daemon_token` is a random id of this daemon instance, exported to every worker as
  /// KITTY_DAEMON_TOKEN. Registers a SIGCHLD handler on `io` (and, on Linux, makes this
  /// process a child subreaper while any PosixSpawner exists). With a `watchdog` (which must
  /// outlive the spawner), every worker's group is registered with it from fork() until the
  /// spawner sees the group gone, so the group dies with kittyd (watchdog.h).
  /// With `log_writer`, worker output is written to the log files on that pool (a disk that
  /// stalls never stalls the loop); without, inline.
  PosixSpawner(boost::asio::io_context& io, std::string daemon_token,
               Watchdog* watchdog = nullptr, BlockingPool* log_writer = nullptr);
  /// Stops reading pipes and drops pending on_exit callbacks. Kills nothing.
  ~PosixSpawner() override;
  PosixSpawner(const PosixSpawner&) = delete;
  PosixSpawner& operator=(const PosixSpawner&) = delete;

  Result<std::unique_ptr<Process>> spawn(const SpawnSpec& spec, ExitCallback on_exit) override;

  /// Reaps every exited child now, without waiting for SIGCHLD to be delivered.
  void reap_now();

  const std::string& token() const { return token_; }

  struct Core;  // shared with the Process handles (implementation detail)

 private:
  std::string token_;
  std::shared_ptr<Core> core_;
};

/// Returns a fresh random token (32 hex digits) for a daemon instance.
std::string NewDaemonToken();

}  // namespace kitty
