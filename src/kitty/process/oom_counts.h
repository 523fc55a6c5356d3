// The kernel's OOM-kill counters, read at a worker's spawn and at its exit: one that moved
// confirms that a SIGKILL kittyd did not send came from the OOM killer (exit_class.h).
#pragma once

#include <string>

#include "kitty/process/exit_class.h"

namespace kitty {

/// Linux: /proc/vmstat oom_kill (the whole machine) and memory.events oom_kill of kittyd's own
/// cgroup v2 (its workers are in it). macOS has neither: both null. Cheap (two small procfs /
/// cgroupfs reads), never blocks on a disk.
OomCounts ReadOomCounts();

/// The same under other roots, for tests (Linux).
OomCounts ReadOomCountsAt(const std::string& proc_root, const std::string& cgroup_root);

}  // namespace kitty
