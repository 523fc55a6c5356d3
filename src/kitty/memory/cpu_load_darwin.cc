// macOS: the host's cumulative CPU ticks from Mach (HOST_CPU_LOAD_INFO), summed over all cores.
#include <mach/mach.h>
#include <mach/mach_error.h>
#include <mach/mach_host.h>

#include <string>

#include "kitty/memory/cpu_load.h"

namespace kitty {

Result<CpuTimes> ReadCpuTimes() {
  host_cpu_load_info_data_t info;
  mach_msg_type_number_t count = HOST_CPU_LOAD_INFO_COUNT;
  // mach_host_self() hands out a send right each call; give it back or the task leaks one per
  // sample.
  const mach_port_t host = mach_host_self();
  const kern_return_t kr =
      host_statistics(host, HOST_CPU_LOAD_INFO, reinterpret_cast<host_info_t>(&info), &count);
  mach_port_deallocate(mach_task_self(), host);
  if (kr != KERN_SUCCESS)
    return MakeError(std::string("host_statistics(HOST_CPU_LOAD_INFO) failed: ") +
                         mach_error_string(kr),
                     ErrorCode::kIoError);
  // The ticks are 32-bit and wrap (after weeks on a many-core machine); BusyPercent() then
  // answers "no figure" for the one sample that straddles the wrap.
  const uint64_t user = info.cpu_ticks[CPU_STATE_USER], system = info.cpu_ticks[CPU_STATE_SYSTEM];
  const uint64_t nice = info.cpu_ticks[CPU_STATE_NICE], idle = info.cpu_ticks[CPU_STATE_IDLE];
  CpuTimes t;
  t.busy = user + system + nice;
  t.total = t.busy + idle;
  return t;
}

}  // namespace kitty
