#include <sstream>

#include "kitty/process/oom_counts.h"
#include "kitty/process/proc_file.h"

namespace kitty {
namespace {

std::optional<std::string> Slurp(const std::string& path) { return ReadProcFile(path); }

// The value of the "key value" line `key` (vmstat, memory.events).
std::optional<uint64_t> Count(const std::optional<std::string>& text, const std::string& key) {
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  std::string k;
  uint64_t v;
  while (in >> k >> v)
    if (k == key) return v;
  return std::nullopt;
}

}  // namespace

OomCounts ReadOomCountsAt(const std::string& proc_root, const std::string& cgroup_root) {
  OomCounts c;
  c.system = Count(Slurp(proc_root + "/vmstat"), "oom_kill");  // Linux 4.13+
  // Our cgroup v2 path: the "0::/path" line.
  if (auto cgroups = Slurp(proc_root + "/self/cgroup")) {
    std::istringstream lines(*cgroups);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("0::", 0) != 0) continue;
      const std::string path = line.substr(3) == "/" ? "" : line.substr(3);
      c.cgroup = Count(Slurp(cgroup_root + path + "/memory.events"), "oom_kill");
      if (!c.cgroup) c.cgroup = Count(Slurp(cgroup_root + "/unified" + path + "/memory.events"), "oom_kill");
      break;
    }
  }
  return c;
}

OomCounts ReadOomCounts() { return ReadOomCountsAt("/proc", "/sys/fs/cgroup"); }

}  // namespace kitty
