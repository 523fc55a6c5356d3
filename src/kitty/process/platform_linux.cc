#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "kitty/process/platform.h"
#include "kitty/process/proc_stat_linux.h"

namespace kitty::platform {

bool ChildSetParentDeathSignal(pid_t expected_parent) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return true;  // best effort
  // The parent may have died between fork() and prctl(): then no signal will ever come.
  return getppid() == expected_parent;
}

void ChildSetProcessName(const char* name) { prctl(PR_SET_NAME, name, 0, 0, 0); }

namespace {
struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};
}  // namespace

void ChildCloseFdsExcept(int keep, int max_fd) {
#ifdef SYS_close_range
  bool ok = true;
  if (keep > 3) ok = syscall(SYS_close_range, 3u, static_cast<unsigned>(keep - 1), 0u) == 0;
  if (ok && syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u) == 0) return;
#endif
  // Older kernels: walk /proc/self/fd with raw getdents64 (opendir may allocate).
  int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    alignas(8) char buf[4096];
    for (;;) {
      long n = syscall(SYS_getdents64, dir, buf, sizeof(buf));
      if (n <= 0) break;
      for (long off = 0; off < n;) {
        auto* d = reinterpret_cast<LinuxDirent64*>(buf + off);
        off += d->d_reclen;
        int fd = 0;
        bool digits = d->d_name[0] != '\0';
        for (const char* p = d->d_name; *p; ++p) {
          if (*p < '0' || *p > '9') { digits = false; break; }
          fd = fd * 10 + (*p - '0');
        }
        if (digits && fd >= 3 && fd != keep && fd != dir) close(fd);
      }
    }
    close(dir);
    return;
  }
  for (int fd = 3; fd < max_fd; ++fd)
    if (fd != keep) close(fd);
}

Status SetChildSubreaper(bool on) {
  if (prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0) != 0)
    return MakeError(std::string("prctl(PR_SET_CHILD_SUBREAPER): ") + strerror(errno));
  return Status::Ok();
}

Result<std::map<int, std::vector<int>>> ListProcessGroups(std::map<int, std::vector<int>> groups) {
  DIR* dir = opendir("/proc");
  if (!dir) return MakeError(std::string("cannot list /proc: ") + strerror(errno));
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    long pid = strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    auto st = ReadProcStat(static_cast<int>(pid));
    if (!st.ok()) continue;  // exited while we scanned
    auto it = groups.find(st->pgrp);
    if (it != groups.end() && st->state != 'Z' && st->state != 'X')
      it->second.push_back(static_cast<int>(pid));
  }
  closedir(dir);
  return groups;
}

Result<std::vector<int>> ListProcessGroup(int pgid) {
  auto all = ListProcessGroups({{pgid, {}}});
  if (!all.ok()) return all.error();
  return std::move(all.value()[pgid]);
}

bool ProcessRunning(int pid) {
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  auto st = ReadProcStat(pid);
  if (!st.ok()) return false;
  return st->state != 'Z' && st->state != 'X';
}

Result<uint64_t> ProcessStartTime(int pid) {
  auto st = ReadProcStat(pid);
  if (!st.ok()) return st.error();
  return st->start_time;
}

}  // namespace kitty::platform
