// StateFile: <state_dir>/kittyd.state, the daemon's record of the workers it is running, so
// that the next instance can clean up after a crash (see orphans.h). JSON:
//   {"version": 1, "token": "<daemon token>", "pid": N, "pid_start_time": T,
//    "workers": [{"model_id": "m", "pid": P, "start_time": S}, ...]}
// pid is also the worker's process group id. Every change rewrites the file atomically (write
// a temporary file, fsync, rename) through a FileSystem. Blocking: the daemon calls it from one
// strand of the blocking pool, never from an event loop.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kitty/base/file_system.h"
#include "kitty/base/result.h"

namespace kitty {

struct RecordedWorker {
  std::string model_id;
  int pid = 0;              // = pgid
  uint64_t start_time = 0;  // platform start time (Linux: clock ticks since boot), 0 unknown
};

struct DaemonState {
  std::string token;
  int pid = 0;
  uint64_t pid_start_time = 0;
  std::vector<RecordedWorker> workers;
};

class StateFile {
 public:
  /// Nothing is written until save() or a record_/forget_ call. `daemon_pid` is this
  /// process; tests may pass another.
  StateFile(std::string path, std::string token, int daemon_pid = 0,
            FileSystem& fs = RealFileSystem());

  /// Writes the current state (the daemon calls it once at start, after CleanupOrphans).
  Status save();
  Status record_worker(const std::string& model_id, int pid);
  Status forget_worker(int pid);
  /// Deletes the file (clean shutdown: nothing left to clean up).
  Status remove();

  const DaemonState& state() const { return state_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  DaemonState state_;
  FileSystem& fs_;
};

/// Reads a state file. Error code kFileNotFound when it does not exist.
Result<DaemonState> ReadStateFile(const std::string& path, FileSystem& fs = RealFileSystem());

}  // namespace kitty
