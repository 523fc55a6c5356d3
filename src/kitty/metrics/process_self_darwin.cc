#include <libproc.h>
#include <unistd.h>

#include "kitty/metrics/process_self.h"

namespace kitty {

void ReadProcessSelfPlatform(ProcessSelf& p) {
  proc_taskinfo ti{};
  if (proc_pidinfo(getpid(), PROC_PIDTASKINFO, 0, &ti, sizeof ti) == static_cast<int>(sizeof ti)) {
    p.resident_bytes = ti.pti_resident_size;
    p.virtual_bytes = ti.pti_virtual_size;
  }
  const int bytes = proc_pidinfo(getpid(), PROC_PIDLISTFDS, 0, nullptr, 0);
  if (bytes > 0) p.open_fds = static_cast<uint64_t>(bytes) / sizeof(proc_fdinfo);
  proc_bsdinfo bi{};
  if (proc_pidinfo(getpid(), PROC_PIDTBSDINFO, 0, &bi, sizeof bi) == static_cast<int>(sizeof bi))
    p.start_time_seconds = bi.pbi_start_tvsec + bi.pbi_start_tvusec / 1e6;
}

}  // namespace kitty
