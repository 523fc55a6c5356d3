// FakePorts: a PortAllocator whose free and taken ports a test sets.
#pragma once

#include <set>

#include "kitty/process/port_allocator.h"

namespace kitty {

class FakePorts : public PortAllocator {
 public:
  /// Ports a listener holds now (check_free fails, pick skips them).
  std::set<int> taken;
  /// Picks hand these out in order (skipping `exclude` and `taken`); empty: range order.
  std::vector<int> next_picks;
  std::optional<Error> pick_error;

  Status check_free(const std::string& host, int port) override {
    if (taken.count(port))
      return MakeError("port " + std::to_string(port) + " on " + host +
                           " is already in use by another process",
                       ErrorCode::kPortInUse);
    return Status::Ok();
  }
  Result<int> pick(const std::string&, PortRange range, const std::set<int>& exclude) override {
    if (pick_error) return *pick_error;
    while (!next_picks.empty()) {
      const int p = next_picks.front();
      next_picks.erase(next_picks.begin());
      if (!exclude.count(p) && !taken.count(p)) return p;
    }
    for (int p = range.first; p <= range.last; ++p)
      if (!exclude.count(p) && !taken.count(p)) return p;
    return MakeError("no free port", ErrorCode::kNoFreePort);
  }
};

}  // namespace kitty
