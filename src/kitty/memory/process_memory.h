// Memory of a worker's process group and of the machine, read from the OS on demand
// (Linux: /proc and cgroup files; macOS: libproc, Mach and sysctl). Synchronous: a /proc scan
// is for the blocking pool, never an event loop (memory_sampler.h). GPU figures are not read
// here but added by MemoryProbe from a GpuProbe (gpu_probe.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kitty/base/result.h"
#include "kitty/memory/gpu_probe.h"

namespace kitty {

struct GroupMemory {
  uint64_t rss_bytes = 0;  // sum of members' resident set sizes (shared pages counted twice)
  uint64_t pss_bytes = 0;  // proportional set size: shared pages split among sharers
  bool pss_available = false;  // false when the kernel has no smaps_rollup (pss_bytes is 0)
  /// macOS: sum of members' phys_footprint, what Activity Monitor calls Memory. On unified
  /// memory it includes Metal buffers, which RSS does not: the figure to plan with there.
  uint64_t footprint_bytes = 0;
  bool footprint_available = false;
  /// Discrete GPU memory used by the members (NVIDIA), summed over GPUs.
  uint64_t gpu_bytes = 0;
  bool gpu_available = false;  // false: no GPU figures (no driver, or not readable)
  int process_count = 0;
  std::vector<int> pids;

  /// The best host-memory figure for planning: footprint on macOS, else PSS, else RSS.
  uint64_t host_bytes() const {
    return footprint_available ? footprint_bytes : pss_available ? pss_bytes : rss_bytes;
  }
};

/// Memory of the live members of process group `pgid`. Error code kFileNotFound when the group
/// has no live member.
Result<GroupMemory> ReadGroupMemory(int pgid);

/// `pgid`'s entry of a several-group read, or that read's error; kFileNotFound when absent.
Result<GroupMemory> OneGroup(Result<std::map<int, GroupMemory>> all, int pgid);

/// The same for several groups in one pass over the process table (a status call or a sample
/// with ten workers costs one scan, not ten). Groups without a live member are absent.
Result<std::map<int, GroupMemory>> ReadGroupsMemory(const std::vector<int>& pgids);

/// The cgroup v2 this process (kittyd, and the workers it spawns, which inherit it) runs in.
struct CgroupMemory {
  std::string path;                   // as in /proc/self/cgroup: "/system.slice/kittyd.service"
  std::optional<uint64_t> max_bytes;  // its own memory.max; unset when "max" (no limit)
  uint64_t current_bytes = 0;         // its memory.current (page cache included)
};

struct SystemMemory {
  uint64_t total_bytes = 0;      // physical memory, or the cgroup limit when lower
  uint64_t available_bytes = 0;  // what could be allocated without swapping, same bound
  bool cgroup_limited = false;   // a cgroup memory limit lowered the figures
  uint64_t swap_total_bytes = 0;
  uint64_t swap_used_bytes = 0;
  /// Set when we are in a cgroup v2 with memory accounting (not the root of a host, not v1).
  /// Limits of its ancestors are already folded into total/available above.
  std::optional<CgroupMemory> cgroup;
  /// Discrete GPUs (NVIDIA); empty when there are none or no driver.
  std::vector<GpuMemory> gpus;
  /// macOS on Apple silicon: the GPU shares RAM, so available_bytes is also the GPU's.
  bool unified_memory = false;
  /// How much of RAM the GPU may wire (sysctl iogpu.wired_limit_mb); 0 = the OS default.
  uint64_t gpu_wired_limit_bytes = 0;
};

/// Memory of the machine as this process sees it: MemTotal/MemAvailable bounded by the
/// memory limit of our cgroup (v2 memory.max, v1 memory.limit_in_bytes) and its ancestors.
Result<SystemMemory> ReadSystemMemory();

}  // namespace kitty
