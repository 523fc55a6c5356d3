#include "kitty/process/darwin_proc.h"

#include <cstring>

namespace kitty::darwin {

Result<std::vector<int>> LiveGroupMembers(ProcApi& api, int pgid) {
  auto pids = api.group_pids(pgid);
  if (!pids.ok()) return pids.error();
  std::vector<int> out;
  for (int pid : *pids) {
    if (pid <= 0) continue;
    // A zombie keeps its group but holds no memory and is no member that counts (as on Linux,
    // where 'Z' is skipped); one gone since the list is simply not a member any more.
    auto info = api.bsd_info(pid);
    if (info && !info->zombie && info->pgid == pgid) out.push_back(pid);
  }
  return out;
}

Result<GroupFigures> GroupMemory(ProcApi& api, int pgid) {
  auto members = LiveGroupMembers(api, pgid);
  if (!members.ok()) return members.error();
  GroupFigures g;
  for (int pid : *members) {
    auto r = api.rusage(pid);
    if (!r) continue;  // exited during the scan
    g.resident_bytes += r->resident_bytes;
    g.footprint_bytes += r->footprint_bytes;
    g.pids.push_back(pid);
  }
  return g;
}

Result<uint64_t> StartTime(ProcApi& api, int pid) {
  auto info = api.bsd_info(pid);
  if (!info || info->zombie)
    return MakeError("process " + std::to_string(pid) + " is gone", ErrorCode::kFileNotFound);
  return info->start_microseconds;
}

// KERN_PROCARGS2: int argc; the executable path and NUL padding; argc NUL-terminated argv
// strings; the environment, NUL-terminated strings up to an empty one; then Apple's own strings.
Result<bool> ProcArgsEnvironHas(std::string_view buf, std::string_view entry) {
  auto bad = [](const char* why) {
    return MakeError(std::string("malformed KERN_PROCARGS2 buffer: ") + why, ErrorCode::kBadResponse);
  };
  int32_t argc = 0;
  if (buf.size() < sizeof argc) return bad("shorter than argc");
  std::memcpy(&argc, buf.data(), sizeof argc);
  if (argc < 0) return bad("negative argc");
  size_t at = sizeof argc;
  auto next_string = [&]() -> std::optional<std::string_view> {
    const size_t end = buf.find('\0', at);
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view s = buf.substr(at, end - at);
    at = end + 1;
    return s;
  };
  if (!next_string()) return bad("no executable path");
  while (at < buf.size() && buf[at] == '\0') ++at;  // the path's padding
  for (int32_t i = 0; i < argc; ++i)
    if (!next_string()) return bad("fewer arguments than argc");
  while (at < buf.size()) {
    auto s = next_string();
    if (!s || s->empty()) break;  // the end of the environment
    if (*s == entry) return true;
  }
  return false;
}

}  // namespace kitty::darwin
