// What kittyd asks macOS about processes (libproc and sysctl), behind an interface, and the
// logic built on the answers: a process group's live members and their memory, a process's start
// time, whether its environment holds an entry (orphan cleanup). The logic is compiled on every
// platform and tested on Linux with a fake of the calls (darwin_proc_test.cc); the real calls
// are in darwin_proc_darwin.cc, the one file that includes libproc.h.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kitty/base/result.h"

namespace kitty::darwin {

/// proc_pidinfo(PROC_PIDTBSDINFO): the few fields kittyd reads.
struct BsdInfo {
  int pid = 0, ppid = 0, pgid = 0;
  bool zombie = false;            // pbi_status == SZOMB
  uint64_t start_microseconds = 0;  // pbi_start_tvsec * 1e6 + pbi_start_tvusec
  std::string command;            // pbi_name (or pbi_comm)
};

/// proc_pid_rusage(RUSAGE_INFO_V4): resident size and phys_footprint (which on Apple silicon
/// includes the Metal buffers a model's weights live in).
struct Rusage {
  uint64_t resident_bytes = 0;
  uint64_t footprint_bytes = 0;
};

class ProcApi {
 public:
  virtual ~ProcApi() = default;
  /// proc_listpids(PROC_PGRP_ONLY, pgid): the group's pids, zombies included.
  virtual Result<std::vector<int>> group_pids(int pgid) = 0;
  /// proc_listallpids: every pid.
  virtual Result<std::vector<int>> all_pids() = 0;
  /// nullopt when the process is gone (or not ours to read).
  virtual std::optional<BsdInfo> bsd_info(int pid) = 0;
  virtual std::optional<Rusage> rusage(int pid) = 0;
  /// sysctl {CTL_KERN, KERN_PROCARGS2, pid}: argc, the executable path, argv and environment.
  virtual Result<std::string> procargs(int pid) = 0;
};

/// The real calls (darwin_proc_darwin.cc; defined on macOS only).
std::unique_ptr<ProcApi> MakeProcApi();

/// The live (non-zombie) members of process group `pgid`.
Result<std::vector<int>> LiveGroupMembers(ProcApi& api, int pgid);

struct GroupFigures {
  uint64_t resident_bytes = 0, footprint_bytes = 0;
  std::vector<int> pids;  // the members counted
};
/// The sum over the live members of `pgid` of their resident size and phys_footprint. A member
/// that exits during the scan is left out, not an error.
Result<GroupFigures> GroupMemory(ProcApi& api, int pgid);

/// The start time of `pid` (microseconds since the epoch): with the pid, it names one process
/// across pid reuse. An error when the process is gone or a zombie.
Result<uint64_t> StartTime(ProcApi& api, int pid);

/// Whether a KERN_PROCARGS2 buffer's environment holds exactly `entry` ("KEY=value"). An error
/// when the buffer is malformed (the caller must then leave the process alone).
Result<bool> ProcArgsEnvironHas(std::string_view procargs, std::string_view entry);

}  // namespace kitty::darwin
