// macOS: no parent-death signal, no subreaper, no /proc. Workers of a SIGKILLed daemon are
// killed by its watchdog (watchdog.h: a pipe whose EOF is kittyd's death, plain POSIX), which
// needs nothing from this file. Groups and start times come from libproc (darwin_proc.h).
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "kitty/process/darwin_proc.h"
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

Result<std::vector<int>> ListProcessGroup(int pgid) {
  auto api = darwin::MakeProcApi();
  return darwin::LiveGroupMembers(*api, pgid);
}

// One proc_listpids per group: the kernel filters by group, so a few workers cost a few calls.
Result<std::map<int, std::vector<int>>> ListProcessGroups(std::map<int, std::vector<int>> groups) {
  auto api = darwin::MakeProcApi();
  for (auto& [pgid, members] : groups) {
    auto live = darwin::LiveGroupMembers(*api, pgid);
    if (!live.ok()) return live.error();
    members = std::move(live.value());
  }
  return groups;
}

bool ProcessRunning(int pid) {
  if (pid <= 0) return false;
  if (auto info = darwin::MakeProcApi()->bsd_info(pid)) return !info->zombie;
  return kill(pid, 0) == 0 || errno == EPERM;  // exists, but its info is not ours to read
}

Result<uint64_t> ProcessStartTime(int pid) {
  auto api = darwin::MakeProcApi();
  return darwin::StartTime(*api, pid);
}

}  // namespace kitty::platform
