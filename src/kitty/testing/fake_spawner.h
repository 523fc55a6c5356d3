// FakeSpawner: a Spawner for state-machine tests. Records every spawn; processes exit only
// when the test says so, or when they receive a signal they are scripted to die of.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "kitty/base/clock.h"
#include "kitty/process/spawner.h"

namespace kitty {

class FakeSpawner : public Spawner {
 public:
  struct Proc {
    int pid = 0;
    SpawnSpec spec;
    ExitCallback on_exit;
    bool exited = false;
    bool group_alive = true;
    bool ignore_sigterm = false;
    bool leaves_grandchild = false;  // group stays alive after the leader exits, until SIGKILL
    std::vector<int> signals;        // every signal received
  };

  explicit FakeSpawner(Clock* clock) : clock_(clock) {}

  Result<std::unique_ptr<Process>> spawn(const SpawnSpec& spec, ExitCallback on_exit) override;

  /// The leader exits with `st` (the exit callback is posted to the clock).
  void exit(int pid, ExitStatus st);
  Proc& proc(int pid) { return *procs_.at(pid); }
  Proc& last() { return *procs_.rbegin()->second; }
  int spawn_count() const { return static_cast<int>(procs_.size()); }
  /// Processes whose group is still alive.
  int alive_count() const;

  /// Scripting for the next spawns.
  bool next_ignores_sigterm = false;
  bool next_leaves_grandchild = false;
  std::optional<Error> next_spawn_error;

 private:
  friend class FakeProcess;
  Clock* clock_;
  int next_pid_ = 1000;
  std::map<int, std::shared_ptr<Proc>> procs_;
};

}  // namespace kitty
