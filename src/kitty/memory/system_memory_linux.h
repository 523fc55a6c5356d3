// Linux system-memory reader with injectable roots, for tests on fake /proc and cgroup trees.
// Include only from *_linux.cc files.
#pragma once

#include <string>

#include "kitty/memory/process_memory.h"

namespace kitty {

/// ReadSystemMemory() reading `proc_root`/meminfo, `proc_root`/self/cgroup and the cgroup
/// files under `cgroup_root` (normally "/proc" and "/sys/fs/cgroup").
Result<SystemMemory> ReadSystemMemoryAt(const std::string& proc_root,
                                        const std::string& cgroup_root);

}  // namespace kitty
