// How busy the machine's CPUs are (the pressure monitor's CPU check). The OS keeps cumulative
// time counters; a busy share needs two readings, so callers keep the previous CpuTimes and ask
// BusyPercent(before, after) at each sample. Reading is per platform (cpu_load_linux.cc: /proc/stat;
// cpu_load_darwin.cc: Mach host statistics); the arithmetic here is common. Synchronous and cheap
// (one small read), any thread; the load probe (load_probe.h) reads it on the blocking pool.
#pragma once

#include <cstdint>
#include <optional>

#include "kitty/base/result.h"

namespace kitty {

/// Cumulative CPU time of the whole machine (all cores together), in the OS's ticks. Only
/// differences between two readings mean anything.
struct CpuTimes {
  uint64_t busy = 0;   // time spent running anything (user, nice, system, interrupts, steal)
  uint64_t total = 0;  // busy + idle (+ iowait on Linux)
};

/// The counters now; an error (kIoError) naming what could not be read.
Result<CpuTimes> ReadCpuTimes();

/// The busy share between two readings, 0..100. Null when no time passed between them or the
/// counters went backwards (wrapped, or a reading from another boot): no figure rather than a
/// wrong one.
std::optional<double> BusyPercent(const CpuTimes& before, const CpuTimes& after);

}  // namespace kitty
