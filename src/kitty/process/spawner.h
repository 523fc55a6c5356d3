// Spawner: starts worker processes, each the leader of its own process group, and reports
// their exit. The OS sits behind this interface so the worker state machine can be tested
// with a fake (process/fake_spawner.h) on a fake clock.
//
// Threading: spawn() and every Process method are called on the event-loop thread; on_exit
// is invoked on that thread too.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kitty/base/result.h"
#include "kitty/process/log_tail.h"

namespace kitty {

struct SpawnSpec {
  std::vector<std::string> argv;             // argv[0] resolved through PATH if it has no '/'
  std::map<std::string, std::string> env;    // added to (or overriding) kittyd's environment
  std::string cwd;                           // empty: kittyd's cwd
  std::string log_path;                      // stdout+stderr appended here; empty: no file
  std::shared_ptr<LogTail> tail;             // stdout+stderr lines also kept here; may be null
};

/// How a process ended.
struct ExitStatus {
  int code = -1;    // exit code when it exited normally, else -1
  int signal = 0;   // terminating signal, else 0
  /// "exited with status 1", "killed by signal 9 (SIGKILL)".
  std::string describe() const;
};

/// A spawned worker: the leader of process group pid(). Destroying it does not kill anything.
class Process {
 public:
  virtual ~Process() = default;
  virtual int pid() const = 0;  // also its process group id
  /// Sends `sig` to every member of the group (the leader, its children, grandchildren...).
  virtual void signal_group(int sig) = 0;
  /// True while any member of the group is still alive (zombies already reaped do not count).
  virtual bool group_alive() const = 0;
  /// True once the leader has exited and been reaped.
  virtual bool exited() const = 0;
};

class Spawner {
 public:
  using ExitCallback = std::function<void(ExitStatus)>;
  virtual ~Spawner() = default;
  /// Starts spec.argv without a shell in a new process group. `on_exit` runs once, after the
  /// leader has been reaped and its output drained into the log (so a log tail read in
  /// on_exit is complete). A failed exec (no such file, not executable) is an error here,
  /// not an exit.
  virtual Result<std::unique_ptr<Process>> spawn(const SpawnSpec& spec, ExitCallback on_exit) = 0;
};

}  // namespace kitty
