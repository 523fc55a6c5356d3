#include "kitty/process/port_allocator.h"

#include "kitty/process/port_probe.h"

namespace kitty {

Status OsPortAllocator::check_free(const std::string& host, int port) {
  return CheckPortFree(host, port);
}

Result<int> OsPortAllocator::pick(const std::string& host, PortRange range,
                                  const std::set<int>& exclude) {
  return PickFreePort(host, range, exclude);
}

}  // namespace kitty
