// macOS: not implemented yet (would be proc_pidinfo(PROC_PIDTASKINFO) per member and
// host_statistics64 for the system). Callers treat the error as "figures unknown".
#include "kitty/memory/process_memory.h"

namespace kitty {

Result<GroupMemory> ReadGroupMemory(int) {
  return MakeError("process group memory is not implemented on this platform", ErrorCode::kPlatformUnsupported);
}

Result<std::map<int, GroupMemory>> ReadGroupsMemory(const std::vector<int>&) {
  return MakeError("process group memory is not implemented on this platform", ErrorCode::kPlatformUnsupported);
}

Result<SystemMemory> ReadSystemMemory() {
  return MakeError("system memory is not implemented on this platform", ErrorCode::kPlatformUnsupported);
}

}  // namespace kitty
