// MemoryView: what the scheduler reads about memory, on the control thread — the latest measured
// figures of each worker's group and of the machine, and what a model is expected to need. The
// daemon's implementation reads the MemorySampler and the footprint store; tests script it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kitty/base/clock.h"
#include "kitty/config/config.h"

namespace kitty {

struct GpuFigures {
  int index = 0;
  std::string name;
  uint64_t total_bytes = 0;
  uint64_t used_bytes = 0;  // by every process, ours or not
};

struct SystemFigures {
  uint64_t total_bytes = 0;      // RAM (or unified memory), bounded by kittyd's cgroup limit
  uint64_t available_bytes = 0;  // what could be allocated without swapping, same bound
  std::vector<GpuFigures> gpus;  // discrete GPUs; empty without any (or without a driver)
  /// What kittyd's workers held in the same read (host bytes); unset when not read with them.
  std::optional<uint64_t> workers_bytes;
};

class MemoryView {
 public:
  virtual ~MemoryView() = default;
  /// The latest measured resident bytes of process group `pgid` (null before its first sample).
  virtual std::optional<uint64_t> measured_bytes(int pgid) = 0;
  /// When the per-group figures were read (the start of that read); null before the first.
  /// A figure read before a worker became ready says little about what it holds now.
  virtual std::optional<TimePoint> sampled_at() = 0;
  /// The same for its memory on discrete GPUs (null: none measured).
  virtual std::optional<uint64_t> measured_gpu_bytes(int pgid) = 0;
  /// What starting `m` is expected to take: learned (an earlier run's peak) else estimated else
  /// the config's `memory:`; null when unknown.
  virtual std::optional<uint64_t> expected_bytes(const ModelConfig& m) = 0;
  /// The latest sampled system figures (null before the first sample or where unsupported).
  virtual std::optional<SystemFigures> system() = 0;
  /// Reads the system figures now, off the control thread; `done` runs on it.
  virtual void read_system(std::function<void(std::optional<SystemFigures>)> done) = 0;
};

}  // namespace kitty
