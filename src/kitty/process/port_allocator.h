// PortAllocator: where workers may listen. The OS probes (port_probe.h) behind an interface, so
// the worker and manager tests choose what is "free" and "taken" without touching real ports.
// Control thread only.
#pragma once

#include <set>
#include <string>

#include "kitty/base/result.h"
#include "kitty/config/config.h"

namespace kitty {

class PortAllocator {
 public:
  virtual ~PortAllocator() = default;
  /// OK when a worker could listen on host:port now (code kPortInUse when not).
  virtual Status check_free(const std::string& host, int port) = 0;
  /// A port of `range` that is free now and not in `exclude` (code kNoFreePort when none).
  virtual Result<int> pick(const std::string& host, PortRange range,
                           const std::set<int>& exclude) = 0;
};

/// The real one: process/port_probe.h.
class OsPortAllocator : public PortAllocator {
 public:
  Status check_free(const std::string& host, int port) override;
  Result<int> pick(const std::string& host, PortRange range, const std::set<int>& exclude) override;
};

}  // namespace kitty
