#include "kitty/memory/cpu_load.h"

#include <algorithm>

namespace kitty {

std::optional<double> BusyPercent(const CpuTimes& before, const CpuTimes& after) {
  if (after.total <= before.total || after.busy < before.busy) return std::nullopt;
  const double busy = static_cast<double>(after.busy - before.busy);
  const double total = static_cast<double>(after.total - before.total);
  // Busy can outgrow total only if the OS updated the counters between our reads of them.
  return std::clamp(100.0 * busy / total, 0.0, 100.0);
}

}  // namespace kitty
