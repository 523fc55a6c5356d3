// MemoryProbe: the memory of a worker's process group and of the machine, behind an interface
// so that status and (later) the scheduler can be tested with figures a test chooses. The
// real one reads the OS (process_memory.h): a /proc scan on Linux, so it is called from the
// blocking pool, never from an event loop. Thread-safe.
#pragma once

#include "kitty/memory/process_memory.h"

namespace kitty {

class MemoryProbe {
 public:
  virtual ~MemoryProbe() = default;
  virtual Result<GroupMemory> group(int pgid) = 0;
  /// Several groups in one pass (absent: no live member).
  virtual Result<std::map<int, GroupMemory>> groups(const std::vector<int>& pgids) = 0;
  virtual Result<SystemMemory> system() = 0;
};

class OsMemoryProbe : public MemoryProbe {
 public:
  Result<GroupMemory> group(int pgid) override { return ReadGroupMemory(pgid); }
  Result<std::map<int, GroupMemory>> groups(const std::vector<int>& pgids) override {
    return ReadGroupsMemory(pgids);
  }
  Result<SystemMemory> system() override { return ReadSystemMemory(); }
};

}  // namespace kitty
