// ProcessTable on Linux: /proc.
#include <dirent.h>
#include <signal.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "kitty/process/platform.h"
#include "kitty/process/proc_file.h"
#include "kitty/process/proc_stat_linux.h"
#include "kitty/process/process_table.h"

namespace kitty {
namespace {

class LinuxProcessTable : public ProcessTable {
 public:
  Result<std::vector<ProcessEntry>> list() override {
    DIR* dir = opendir("/proc");
    if (!dir) return MakeError(std::string("cannot list /proc: ") + strerror(errno), ErrorCode::kIoError);
    std::vector<ProcessEntry> out;
    while (dirent* e = readdir(dir)) {
      char* end = nullptr;
      const long pid = strtol(e->d_name, &end, 10);
      if (*end != '\0' || pid <= 0) continue;
      auto st = ReadProcStat(static_cast<int>(pid));
      if (!st.ok() || st->state == 'Z' || st->state == 'X') continue;  // gone, or a zombie
      out.push_back({static_cast<int>(pid), st->pgrp, st->comm});
    }
    closedir(dir);
    return out;
  }

  bool running(int pid) override { return platform::ProcessRunning(pid); }

  Result<uint64_t> start_time(int pid) override { return platform::ProcessStartTime(pid); }

  Result<bool> environ_has(int pid, const std::string& entry) override {
    auto text = ReadProcFile("/proc/" + std::to_string(pid) + "/environ");
    // Another user's process (or one gone meanwhile): it cannot be one we started.
    if (!text) return false;
    size_t at = 0;
    while (at < text->size()) {
      size_t end = text->find('\0', at);
      if (end == std::string::npos) end = text->size();
      if (std::string_view(*text).substr(at, end - at) == entry) return true;
      at = end + 1;
    }
    return false;
  }

  bool kill(int pid, int sig) override { return ::kill(pid, sig) == 0; }
};

}  // namespace

std::unique_ptr<ProcessTable> MakeProcessTable() { return std::make_unique<LinuxProcessTable>(); }

}  // namespace kitty
