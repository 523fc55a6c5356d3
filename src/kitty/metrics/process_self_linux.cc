#include <dirent.h>
#include <unistd.h>

#include <sstream>
#include <string>

#include "kitty/metrics/process_self.h"
#include "kitty/process/proc_file.h"

namespace kitty {

void ReadProcessSelfPlatform(ProcessSelf& p) {
  const auto page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  if (auto statm = ReadProcFile("/proc/self/statm")) {
    std::istringstream in(*statm);
    uint64_t size = 0, resident = 0;
    if (in >> size >> resident) {
      p.virtual_bytes = size * page;
      p.resident_bytes = resident * page;
    }
  }
  if (DIR* d = opendir("/proc/self/fd")) {
    uint64_t n = 0;
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
    p.open_fds = n > 0 ? n - 1 : 0;  // less the directory stream's own descriptor
  }
  // Start time: field 22 of /proc/self/stat (ticks since boot) plus btime of /proc/stat.
  auto stat = ReadProcFile("/proc/self/stat");
  auto sys = ReadProcFile("/proc/stat");
  if (stat && sys) {
    const size_t close = stat->rfind(')');
    std::istringstream rest(close == std::string::npos ? "" : stat->substr(close + 2));
    std::string field;
    double ticks = -1;
    for (int i = 3; i <= 22 && rest >> field; ++i)
      if (i == 22) ticks = std::strtod(field.c_str(), nullptr) / static_cast<double>(sysconf(_SC_CLK_TCK));
    const size_t at = sys->find("\nbtime ");
    if (ticks >= 0 && at != std::string::npos)
      p.start_time_seconds = std::strtod(sys->c_str() + at + 7, nullptr) + ticks;
  }
}

}  // namespace kitty
