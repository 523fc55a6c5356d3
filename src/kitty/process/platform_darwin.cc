// macOS: no parent-death signal, no subreaper, no /proc. Workers of a SIGKILLed daemon are
// killed by its watchdog (watchdog.h), which needs nothing from this file; orphan cleanup at
// the next start is not implemented here yet (orphans_darwin.cc).
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "kitty/process/platform.h"

namespace kitty::platform {

bool ChildSetParentDeathSignal(pid_t expected_parent) { return getppid() == expected_parent; }

// pthread_setname_np names only the calling thread, and ps shows argv anyway.
void ChildSetProcessName(const char*) {}

void ChildCloseFdsExcept(int keep, int max_fd) {
  for (int fd = 3; fd < max_fd; ++fd)
    if (fd != keep) close(fd);
}

Status SetChildSubreaper(bool) { return Status::Ok(); }

Result<std::vector<int>> ListProcessGroup(int) {
  return MakeError("listing a process group is not implemented on this platform",
                   ErrorCode::kPlatformUnsupported);
}

Result<std::map<int, std::vector<int>>> ListProcessGroups(std::map<int, std::vector<int>>) {
  return MakeError("listing process groups is not implemented on this platform",
                   ErrorCode::kPlatformUnsupported);
}

bool ProcessRunning(int pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

Result<uint64_t> ProcessStartTime(int) {
  return MakeError("process start time is not implemented on this platform");
}

}  // namespace kitty::platform
