#include "kitty/sched/capacity.h"

#include <algorithm>

namespace kitty::sched {

int MaxResident(std::vector<std::optional<uint64_t>> footprints, std::optional<uint64_t> capacity_bytes,
                int max_models) {
  if (footprints.empty()) return 0;
  // Unknown first (they cost nothing in the plan), then smallest first: the largest count.
  std::sort(footprints.begin(), footprints.end(), [](const auto& a, const auto& b) {
    if (!a || !b) return !a && b;
    return *a < *b;
  });
  int n = 0;
  uint64_t used = 0;
  for (const auto& f : footprints) {
    const uint64_t bytes = f.value_or(0);
    if (capacity_bytes && used + bytes > *capacity_bytes) break;
    used += bytes;
    ++n;
  }
  if (max_models > 0) n = std::min(n, max_models);
  return std::max(n, 1);
}

double UsageFraction(uint64_t used_bytes, uint64_t capacity_bytes) {
  if (capacity_bytes == 0) return used_bytes ? 1.0 : 0.0;
  return std::min(1.0, static_cast<double>(used_bytes) / static_cast<double>(capacity_bytes));
}

}  // namespace kitty::sched
