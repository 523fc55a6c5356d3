// ProcessTable: what orphan cleanup needs to know about OTHER processes (not our children):
// which exist, their group, start time and environment, and a way to kill them. One
// implementation per platform (process_table_linux.cc reads /proc; process_table_darwin.cc),
// and fakes in tests, so the cleanup's decisions are tested on any machine.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kitty/base/result.h"

namespace kitty {

struct ProcessEntry {
  int pid = 0;
  int pgid = 0;
  std::string command;  // the process name, for logs
};

class ProcessTable {
 public:
  virtual ~ProcessTable() = default;
  /// Every live (non-zombie) process visible to us.
  virtual Result<std::vector<ProcessEntry>> list() = 0;
  /// True while `pid` exists and is not a zombie.
  virtual bool running(int pid) = 0;
  /// The kernel's start time of `pid` (recognises a process across pid reuse).
  virtual Result<uint64_t> start_time(int pid) = 0;
  /// Whether `pid`'s environment holds exactly `entry` ("KEY=value"). An error when this
  /// platform (or our privileges) cannot tell: the caller must then leave the process alone.
  virtual Result<bool> environ_has(int pid, const std::string& entry) = 0;
  virtual bool kill(int pid, int sig) = 0;
};

/// The table of this platform.
std::unique_ptr<ProcessTable> MakeProcessTable();

}  // namespace kitty
