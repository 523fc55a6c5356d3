#include "kitty/memory/process_memory.h"

#include <string>
#include <utility>

namespace kitty {

Result<GroupMemory> OneGroup(Result<std::map<int, GroupMemory>> all, int pgid) {
  if (!all.ok()) return all.error();
  auto it = all->find(pgid);
  if (it == all->end())
    return MakeError("no process in group " + std::to_string(pgid), ErrorCode::kFileNotFound);
  return std::move(it->second);
}

Result<GroupMemory> ReadGroupMemory(int pgid) { return OneGroup(ReadGroupsMemory({pgid}), pgid); }

}  // namespace kitty
