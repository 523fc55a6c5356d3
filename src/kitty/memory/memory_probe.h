// MemoryProbe: the memory of a worker's process group and of the machine, behind an interface
// so that status and the scheduler can be tested with figures a test chooses. The real one
// reads the OS (process_memory.h) and the GPUs (gpu_probe.h): a /proc scan and driver calls,
// so it is called from the blocking pool, never from an event loop. Thread-safe.
#pragma once

#include <memory>

#include "kitty/memory/gpu_probe.h"
#include "kitty/memory/process_memory.h"

namespace kitty {

/// What one sample reads: every asked-for group and the machine.
struct MemoryReading {
  Result<std::map<int, GroupMemory>> groups;  // absent key: the group has no live member
  Result<SystemMemory> system;
};

class MemoryProbe {
 public:
  virtual ~MemoryProbe() = default;
  virtual Result<GroupMemory> group(int pgid) = 0;
  /// Several groups in one pass (absent: no live member).
  virtual Result<std::map<int, GroupMemory>> groups(const std::vector<int>& pgids) = 0;
  virtual Result<SystemMemory> system() = 0;
  /// Groups and machine together. The default calls groups() (unless `pgids` is empty) and
  /// system(); OsMemoryProbe shares one GPU reading between the two.
  virtual MemoryReading read(const std::vector<int>& pgids);
};

class OsMemoryProbe : public MemoryProbe {
 public:
  /// GPU figures from NVML (NvmlGpuProbe with the driver's library).
  OsMemoryProbe();
  /// GPU figures from `gpu`; nullptr: none.
  explicit OsMemoryProbe(std::unique_ptr<GpuProbe> gpu);
  ~OsMemoryProbe() override;

  Result<GroupMemory> group(int pgid) override;
  Result<std::map<int, GroupMemory>> groups(const std::vector<int>& pgids) override;
  Result<SystemMemory> system() override;
  MemoryReading read(const std::vector<int>& pgids) override;

 private:
  /// A GPU reading; empty when there is no GPU probe or it failed (logged).
  GpuReading read_gpu();

  std::unique_ptr<GpuProbe> gpu_;
};

}  // namespace kitty
