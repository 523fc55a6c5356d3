// Platform hooks for process supervision: the few things POSIX leaves to each OS. Implemented
// in platform_linux.cc and platform_darwin.cc. Functions marked "child" run between fork()
// and exec() and are async-signal-safe: no allocation, no locks, raw syscalls only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <vector>

#include "kitty/base/result.h"

namespace kitty::platform {

/// Child: asks the kernel to SIGKILL this process when its parent dies (Linux
/// PR_SET_PDEATHSIG), so a SIGKILLed daemon takes its direct workers with it. Returns false
/// when the parent is already gone (getppid() != expected_parent): the child should _exit.
/// No-op returning true where the OS has no such facility.
bool ChildSetParentDeathSignal(pid_t expected_parent);

/// Child: closes every descriptor >= 3 except `keep`. `max_fd` is the fallback upper bound
/// (computed before fork) for when the OS offers nothing better than a loop.
void ChildCloseFdsExcept(int keep, int max_fd);

/// Child: names this process `name` (at most 15 characters) for ps and top (Linux
/// PR_SET_NAME). No-op where the OS offers no such call: there it shows kittyd's name.
void ChildSetProcessName(const char* name);

/// Makes this process adopt orphaned descendants instead of init (Linux
/// PR_SET_CHILD_SUBREAPER), so a worker's grandchildren are reaped by kittyd. No-op elsewhere.
Status SetChildSubreaper(bool on);

/// Pids of the live (non-zombie) processes whose process group is `pgid`.
Result<std::vector<int>> ListProcessGroup(int pgid);

/// For every key of `groups` (a pgid), the pids of its live members, in one pass over the
/// process table. Keys whose group has no member map to an empty list.
Result<std::map<int, std::vector<int>>> ListProcessGroups(std::map<int, std::vector<int>> groups);

/// True when `pid` exists and is not a zombie (kill(pid, 0) alone counts zombies as alive).
bool ProcessRunning(int pid);

/// The kernel's start time of `pid` (Linux: /proc/PID/stat field 22, clock ticks since boot),
/// used with the pid to recognise a process across pid reuse.
Result<uint64_t> ProcessStartTime(int pid);

}  // namespace kitty::platform
