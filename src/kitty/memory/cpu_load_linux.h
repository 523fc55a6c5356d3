// The /proc/stat parser behind ReadCpuTimes() on Linux, apart so tests can feed it sample text.
// Include only from *_linux.cc files.
#pragma once

#include <string>

#include "kitty/memory/cpu_load.h"

namespace kitty {

/// The machine-wide counters from the text of /proc/stat (its first line, "cpu  user nice system
/// idle iowait irq softirq steal guest guest_nice", in USER_HZ ticks). Busy is user + nice +
/// system + irq + softirq + steal; idle and iowait are not busy; guest and guest_nice are left
/// out because the kernel already counts them inside user and nice. Kernels before 2.6.11 stop
/// after idle or iowait: the missing fields count as 0.
Result<CpuTimes> ParseProcStatCpu(const std::string& text);

}  // namespace kitty
