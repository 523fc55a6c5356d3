// Linux: the machine-wide counters from the first line of /proc/stat.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "kitty/memory/cpu_load.h"
#include "kitty/memory/cpu_load_linux.h"

namespace kitty {

Result<CpuTimes> ParseProcStatCpu(const std::string& text) {
  // The aggregate line is "cpu" followed by spaces; the per-core lines ("cpu0 ...") follow it.
  if (text.compare(0, 4, "cpu ") != 0)
    return MakeError("/proc/stat does not start with a \"cpu \" line");
  std::istringstream line(text.substr(4, text.find('\n') - 4));
  uint64_t f[8] = {};  // user nice system idle iowait irq softirq steal
  int n = 0;
  while (n < 8 && line >> f[n]) ++n;
  if (n < 4)
    return MakeError("/proc/stat's cpu line has " + std::to_string(n) + " fields, expected at least 4");
  const uint64_t user = f[0], nice = f[1], system = f[2], idle = f[3], iowait = f[4];
  const uint64_t irq = f[5], softirq = f[6], steal = f[7];
  CpuTimes t;
  t.busy = user + nice + system + irq + softirq + steal;
  t.total = t.busy + idle + iowait;
  return t;
}

Result<CpuTimes> ReadCpuTimes() {
  std::ifstream in("/proc/stat");
  if (!in)
    return MakeError(std::string("cannot read /proc/stat: ") + strerror(errno), ErrorCode::kIoError);
  std::string first;
  std::getline(in, first);
  return ParseProcStatCpu(first);
}

}  // namespace kitty
