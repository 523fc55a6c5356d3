// GpuProbe: the memory of the machine's discrete GPUs and of the processes using them, behind
// an interface so the rest of memory/ is tested on figures a test chooses. The real one is
// NVML opened at run time (nvml_gpu_probe.h): no build dependency, and a machine without an
// NVIDIA driver simply has no GPU figures.
//
// Blocking (driver calls); called from the blocking pool through MemoryProbe. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kitty/base/result.h"

namespace kitty {

struct GroupMemory;
struct SystemMemory;

struct GpuMemory {
  int index = 0;     // the driver's device index (nvidia-smi's)
  std::string name;  // "NVIDIA H200"
  uint64_t total_bytes = 0;
  uint64_t used_bytes = 0;  // by every process, ours or not, plus the driver's reservation
};

/// One reading of every GPU.
struct GpuReading {
  std::vector<GpuMemory> gpus;  // empty: no driver, no GPU, or none reports its memory
  /// GPU memory per pid, summed over the GPUs. Pids as the driver reports them: the host's
  /// pid namespace, so a kittyd inside a container with its own pid namespace matches none.
  std::map<int, uint64_t> used_by_pid;
  /// Pids on a GPU whose usage the driver did not say (NVML_VALUE_NOT_AVAILABLE): a group
  /// with one of them has no GPU figure rather than a low one.
  std::set<int> unknown_pids;
  /// True when every GPU's process list was read: used_by_pid is then complete. False without
  /// a GPU, or when a GPU or its list could not be read (lost, permission, MIG without
  /// privilege, a layout we could not decode).
  bool per_process = false;
};

class GpuProbe {
 public:
  virtual ~GpuProbe() = default;
  /// Every GPU's figures. A machine without a driver or a GPU is an empty reading, not an
  /// error; an error is a driver that was there and failed (the caller logs it).
  virtual Result<GpuReading> read() = 0;
};

/// Adds a reading's per-process figures to each group (gpu_bytes = the sum over its members,
/// gpu_available when the reading has per-process figures).
void AddGpuFigures(const GpuReading& gpu, std::map<int, GroupMemory>* groups);
/// Adds a reading's per-GPU figures to the machine's.
void AddGpuFigures(const GpuReading& gpu, SystemMemory* system);

}  // namespace kitty
