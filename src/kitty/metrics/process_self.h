// kittyd's own process figures for /metrics (Prometheus' standard process_* names): CPU time and
// the fd limit through POSIX (process_self.cc), the rest per platform: process_self_linux.cc
// (/proc/self), process_self_darwin.cc (proc_pidinfo).
#pragma once

#include <cstdint>
#include <optional>

namespace kitty {

struct ProcessSelf {
  std::optional<double> cpu_seconds;         // user + system
  std::optional<uint64_t> resident_bytes;
  std::optional<uint64_t> virtual_bytes;
  std::optional<uint64_t> open_fds;
  std::optional<uint64_t> max_fds;
  std::optional<double> start_time_seconds;  // since the Unix epoch
};

ProcessSelf ReadProcessSelf();

/// The figures only the platform can read (resident and virtual size, open fds, start time);
/// ReadProcessSelf (POSIX, process_self.cc) fills the rest.
void ReadProcessSelfPlatform(ProcessSelf& p);

}  // namespace kitty
