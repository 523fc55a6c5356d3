#include "kitty/metrics/process_self.h"

#include <sys/resource.h>

namespace kitty {

ProcessSelf ReadProcessSelf() {
  ProcessSelf p;
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0)
    p.cpu_seconds = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) p.max_fds = rl.rlim_cur;
  ReadProcessSelfPlatform(p);
  return p;
}

}  // namespace kitty
