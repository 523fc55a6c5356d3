// Memory of a worker's process group and of the machine, read from the OS on demand
// (Linux: /proc and cgroup files; other platforms: not implemented yet). Synchronous and
// cheap (a /proc scan): callers on the loop thread should not call it in a tight loop.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "kitty/base/result.h"

namespace kitty {

struct GroupMemory {
  uint64_t rss_bytes = 0;  // sum of members' resident set sizes (shared pages counted twice)
  uint64_t pss_bytes = 0;  // proportional set size: shared pages split among sharers
  bool pss_available = false;  // false when the kernel has no smaps_rollup (pss_bytes is 0)
  int process_count = 0;
  std::vector<int> pids;
};

/// Memory of the live members of process group `pgid`. Error code kFileNotFound when the group
/// has no live member.
Result<GroupMemory> ReadGroupMemory(int pgid);

/// The same for several groups in one pass over the process table (a status call or a sample
/// with ten workers costs one scan, not ten). Groups without a live member are absent.
Result<std::map<int, GroupMemory>> ReadGroupsMemory(const std::vector<int>& pgids);

struct SystemMemory {
  uint64_t total_bytes = 0;      // physical memory, or the cgroup limit when lower
  uint64_t available_bytes = 0;  // what could be allocated without swapping, same bound
  bool cgroup_limited = false;   // a cgroup memory limit lowered the figures
};

/// Memory of the machine as this process sees it: MemTotal/MemAvailable bounded by the
/// memory limit of our cgroup (v2 memory.max, v1 memory.limit_in_bytes) and its ancestors.
Result<SystemMemory> ReadSystemMemory();

}  // namespace kitty
