// LoadProbe: how busy the machine's CPUs are and how much disk is free under some dirs — what the
// pressure monitor (sched/pressure.h) needs beside the memory figures. Behind an interface so the
// scheduler's pressure tests choose the figures. The real one, OsLoadProbe, reads /proc/stat or
// Mach (cpu_load.h) and statvfs (disk_free.h). Both are cheap, but statvfs on a hung network
// filesystem can block for minutes, so the reading runs on the blocking pool and never on the
// control loop. Called from the control loop; `done` runs there.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kitty/base/env.h"
#include "kitty/memory/cpu_load.h"

namespace kitty {

struct DirFree {
  std::string path;
  uint64_t free_bytes = 0;
};

struct LoadReading {
  /// The busy share of all CPUs since the previous reading; null on the first reading or when
  /// the counters could not be read (unknown is never pressure).
  std::optional<double> cpu_busy_percent;
  /// Each asked-for dir whose free space could be read, in the order asked.
  std::vector<DirFree> disks;
};

class LoadProbe {
 public:
  virtual ~LoadProbe() = default;
  /// Reads the figures for `dirs`; `done` runs later on the control loop. One reading at a time:
  /// the busy share is measured from the previous reading.
  virtual void read(const std::vector<std::string>& dirs, std::function<void(LoadReading)> done) = 0;
};

class OsLoadProbe : public LoadProbe {
 public:
  /// Reads on env.blocking, answers through env.clock.
  explicit OsLoadProbe(const Env& env);
  void read(const std::vector<std::string>& dirs, std::function<void(LoadReading)> done) override;

  /// What read() runs on the pool, synchronously; thread-safe. A dir that cannot be read is left
  /// out, with a warning when its error is new (not once a second).
  LoadReading read_now(const std::vector<std::string>& dirs);

 private:
  struct State {
    std::mutex mu;
    std::optional<CpuTimes> last_cpu;
    std::string cpu_error;                      // the last one logged; "" once readable again
    std::map<std::string, std::string> disk_errors;  // path -> the last one logged
  };
  const Env& env_;
  // Shared with the pool's jobs, which may still run after the probe is gone.
  std::shared_ptr<State> state_ = std::make_shared<State>();
  static LoadReading Read(State& st, const std::vector<std::string>& dirs);
};

}  // namespace kitty
