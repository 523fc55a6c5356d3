#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <sstream>
#include <string>

#include "kitty/memory/process_memory.h"
#include "kitty/memory/system_memory_linux.h"
#include "kitty/process/platform.h"
#include "kitty/process/proc_file.h"

namespace kitty {

namespace {

bool ReadFile(const std::string& path, std::string* out) {
  auto text = ReadProcFile(path);
  if (!text) return false;
  *out = std::move(*text);
  return true;
}

// The value in kB of "Key:   123 kB" in a /proc key-value file, in bytes.
bool FindKb(const std::string& text, const std::string& key, uint64_t* bytes) {
  size_t pos = 0;
  while ((pos = text.find(key + ":", pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') {
      *bytes = strtoull(text.c_str() + pos + key.size() + 1, nullptr, 10) * 1024;
      return true;
    }
    pos += key.size();
  }
  return false;
}

// "key value" lines (cgroup memory.stat).
bool FindStat(const std::string& text, const std::string& key, uint64_t* value) {
  std::istringstream in(text);
  std::string k;
  uint64_t v;
  while (in >> k >> v)
    if (k == key) {
      *value = v;
      return true;
    }
  return false;
}

// memory.max and memory.current of our own cgroup v2 (the unified mount, or its "unified"
// subdirectory on a hybrid host). The root cgroup has neither file, so a process at the root
// of a host gets nothing: there is no cgroup figure to show there.
std::optional<CgroupMemory> ReadOwnCgroupV2(const std::string& cgroup_root,
                                            const std::string& path) {
  const std::string leaf = path == "/" ? "" : path;
  for (const std::string& dir : {cgroup_root + leaf, cgroup_root + "/unified" + leaf}) {
    std::string current, max;
    if (!ReadFile(dir + "/memory.current", &current)) continue;
    CgroupMemory cg;
    cg.path = path;
    cg.current_bytes = strtoull(current.c_str(), nullptr, 10);
    if (ReadFile(dir + "/memory.max", &max) && max.compare(0, 3, "max") != 0)
      cg.max_bytes = strtoull(max.c_str(), nullptr, 10);
    return cg;
  }
  return std::nullopt;
}

}  // namespace

Result<std::map<int, GroupMemory>> ReadGroupsMemory(const std::vector<int>& pgids) {
  std::map<int, std::vector<int>> members;
  for (int g : pgids) members[g];
  auto all = platform::ListProcessGroups(members);
  if (!all.ok()) return all.error();
  static const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  std::map<int, GroupMemory> out;
  for (const auto& [pgid, pids] : all.value()) {
    GroupMemory mem;
    mem.pss_available = true;
    for (int pid : pids) {
      std::string base = "/proc/" + std::to_string(pid);
      std::string statm;
      if (!ReadFile(base + "/statm", &statm)) continue;  // exited during the scan
      std::istringstream fields(statm);
      uint64_t size_pages = 0, resident_pages = 0;
      if (!(fields >> size_pages >> resident_pages)) continue;
      mem.rss_bytes += resident_pages * page;
      std::string rollup;
      uint64_t pss = 0;
      if (ReadFile(base + "/smaps_rollup", &rollup) && FindKb(rollup, "Pss", &pss)) {
        mem.pss_bytes += pss;
      } else {
        mem.pss_available = false;  // kernel < 4.14, or not ours to read
      }
      mem.pids.push_back(pid);
    }
    mem.process_count = static_cast<int>(mem.pids.size());
    if (mem.process_count == 0) continue;
    if (!mem.pss_available) mem.pss_bytes = 0;
    out.emplace(pgid, std::move(mem));
  }
  return out;
}

Result<SystemMemory> ReadSystemMemoryAt(const std::string& proc_root,
                                        const std::string& cgroup_root) {
  std::string meminfo;
  if (!ReadFile(proc_root + "/meminfo", &meminfo))
    return MakeError("cannot read " + proc_root + "/meminfo: " + strerror(errno));
  SystemMemory mem;
  if (!FindKb(meminfo, "MemTotal", &mem.total_bytes))
    return MakeError(proc_root + "/meminfo has no MemTotal");
  if (!FindKb(meminfo, "MemAvailable", &mem.available_bytes)) {
    // Kernels before 3.14: free + page cache is the usual estimate.
    uint64_t free_b = 0, cached = 0;
    FindKb(meminfo, "MemFree", &free_b);
    FindKb(meminfo, "Cached", &cached);
    mem.available_bytes = free_b + cached;
  }
  uint64_t swap_free = 0;
  if (FindKb(meminfo, "SwapTotal", &mem.swap_total_bytes) &&
      FindKb(meminfo, "SwapFree", &swap_free))
    mem.swap_used_bytes = mem.swap_total_bytes > swap_free ? mem.swap_total_bytes - swap_free : 0;

  // Our cgroup paths: "0::/path" (v2) and "N:...memory...:/path" (v1).
  std::string cgroups;
  if (!ReadFile(proc_root + "/self/cgroup", &cgroups)) return mem;  // no cgroups: done
  struct Hierarchy {
    std::string dir, limit_file, usage_file, inactive_key;
  };
  std::vector<std::pair<Hierarchy, std::string>> found;
  std::istringstream lines(cgroups);
  std::string line;
  while (std::getline(lines, line)) {
    size_t c1 = line.find(':'), c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    std::string ctrls = line.substr(c1 + 1, c2 - c1 - 1), path = line.substr(c2 + 1);
    if (line.compare(0, c1, "0") == 0 && ctrls.empty()) {
      if (!mem.cgroup) mem.cgroup = ReadOwnCgroupV2(cgroup_root, path);
      found.push_back({{cgroup_root, "memory.max", "memory.current", "inactive_file"}, path});
      found.push_back({{cgroup_root + "/unified", "memory.max", "memory.current", "inactive_file"},
                       path});
    } else if (("," + ctrls + ",").find(",memory,") != std::string::npos) {
      found.push_back({{cgroup_root + "/memory", "memory.limit_in_bytes",
                        "memory.usage_in_bytes", "total_inactive_file"},
                       path});
    }
  }
  for (const auto& [h, leaf] : found) {
    // From our cgroup up to the root: any ancestor's limit binds us too. Without a cgroup
    // namespace the path may not exist under our mount; the walk then only sees the root.
    std::string path = leaf;
    for (;;) {
      std::string dir = h.dir + (path == "/" ? "" : path);
      std::string limit_text;
      if (ReadFile(dir + "/" + h.limit_file, &limit_text) &&
          limit_text.compare(0, 3, "max") != 0) {
        uint64_t limit = strtoull(limit_text.c_str(), nullptr, 10);
        if (limit > 0 && limit < mem.total_bytes) {
          mem.total_bytes = limit;
          mem.cgroup_limited = true;
        }
        std::string usage_text, stat_text;
        if (limit > 0 && ReadFile(dir + "/" + h.usage_file, &usage_text)) {
          uint64_t usage = strtoull(usage_text.c_str(), nullptr, 10);
          uint64_t inactive = 0;
          // Inactive page cache is reclaimable: count it as available, as MemAvailable does.
          if (ReadFile(dir + "/memory.stat", &stat_text)) FindStat(stat_text, h.inactive_key, &inactive);
          usage = usage > inactive ? usage - inactive : 0;
          uint64_t room = limit > usage ? limit - usage : 0;
          if (room < mem.available_bytes) {
            mem.available_bytes = room;
            mem.cgroup_limited = true;
          }
        }
      }
      if (path.empty() || path == "/") break;
      size_t slash = path.rfind('/');
      path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
    }
  }
  if (mem.available_bytes > mem.total_bytes) mem.available_bytes = mem.total_bytes;
  return mem;
}

Result<SystemMemory> ReadSystemMemory() { return ReadSystemMemoryAt("/proc", "/sys/fs/cgroup"); }

}  // namespace kitty
