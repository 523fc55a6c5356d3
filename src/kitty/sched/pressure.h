// PressureMonitor: is the machine under pressure (seed 002's thresholds, PressureConfig), and the
// debounced pressure events that status shows. Pure: no I/O, no clock of its own, no threads. The
// caller (the Scheduler, its one owner) samples the machine (RAM, GPUs, CPU busy share, free disk),
// passes each sample in with its times, and acts on the answer (scheduler_pressure.cc).
// Tested on chosen samples in microseconds (pressure_test.cc). Not thread-safe: one owner (the
// control loop).
//
//   kind   on when                                               to free
//   ram    used > ram_percent of total                           used - threshold
//   gpu    any GPU: used > gpu_percent of total, or > budget     used - min(threshold, budget)
//   cpu    busy >= cpu_percent in every sample for cpu_seconds   -
//   disk   any listed dir's filesystem has free < disk_free_min  -
//
// Events: one per kind when it turns on, then at most one per kind per kEventDebounce while it
// stays on (and none within kEventDebounce of the last one, should it flap off and on).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kitty/base/clock.h"
#include "kitty/config/config.h"

namespace kitty::sched {

struct RamUse {
  uint64_t total_bytes = 0;      // RAM, or the cgroup's limit when lower
  uint64_t available_bytes = 0;  // what could be allocated without swapping, same bound
};

struct GpuUse {
  int index = 0;
  std::string name;  // "NVIDIA H200"; may be empty
  uint64_t total_bytes = 0;
  uint64_t used_bytes = 0;                  // by every process, kittyd's workers or not
  std::optional<uint64_t> budget_bytes;     // memory.gpu_budgets, resolved; null = none
};

struct DiskUse {
  std::string path;  // the dir checked (state dir, logs dir)
  uint64_t free_bytes = 0;
};

/// What the caller read at one tick. A figure it could not read is left null/empty: unknown is
/// never pressure.
struct PressureSample {
  TimePoint at{};   // debounce and the sustained-CPU window
  WallTime wall{};  // the events' time, for display
  std::optional<RamUse> ram;
  std::vector<GpuUse> gpus;
  std::optional<double> cpu_busy_percent;  // the machine's busy share since the previous sample
  std::vector<DiskUse> disks;
};

struct GpuPressure {
  int index = 0;
  bool over = false;
  uint64_t to_free_bytes = 0;  // to get back to the threshold and within the budget; 0 if !over
};

/// The monitor's answer to the latest sample.
struct PressureState {
  bool ram = false, gpu = false, cpu = false, disk = false;
  uint64_t ram_to_free_bytes = 0;  // 0 unless ram
  std::vector<GpuPressure> gpus;   // one per sampled GPU, in the sample's order
  double cpu_busy_seconds = 0;     // how long CPU busy has stayed at/over the threshold; 0 if not
  std::vector<std::string> low_disks;  // the sampled paths with too little free space
  bool any() const { return ram || gpu || cpu || disk; }
};

struct PressureEvent {
  std::string kind;  // "ram", "gpu", "cpu" or "disk"
  WallTime at{};
  std::string message;  // with the figures: "RAM 93% in use (threshold 90%): ..."
};

class PressureMonitor {
 public:
  static constexpr Duration kEventDebounce = std::chrono::seconds(60);
  static constexpr size_t kEventsKept = 64;

  explicit PressureMonitor(const PressureConfig& config);

  /// Takes one sample (samples come in time order), updates the state and, for each kind that is
  /// on and not debounced, appends an event. Returns the number of events appended (they are the
  /// last ones of events()), so the caller can log them.
  size_t update(const PressureSample& sample);

  const PressureState& state() const { return state_; }
  /// The last kEventsKept events, oldest first.
  const std::vector<PressureEvent>& events() const { return events_; }

 private:
  enum Kind { kRam, kGpu, kCpu, kDisk, kKinds };
  // Each sets its part of state_ and returns the event's message ("" when that kind is off).
  std::string check_ram(const PressureSample& s);
  std::string check_gpus(const PressureSample& s);
  std::string check_cpu(const PressureSample& s);
  std::string check_disks(const PressureSample& s);
  bool note(Kind kind, const PressureSample& s, std::string message);

  const PressureConfig config_;
  PressureState state_;
  std::vector<PressureEvent> events_;
  std::optional<TimePoint> last_sample_at_;
  // The sustained-CPU window: since when every sample was busy, and the busy percent integrated
  // over it (percent × seconds), for the average the event shows.
  std::optional<TimePoint> cpu_busy_since_;
  double cpu_busy_integral_ = 0;
  std::optional<TimePoint> last_event_at_[kKinds];
};

}  // namespace kitty::sched
