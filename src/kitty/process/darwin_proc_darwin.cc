// The real macOS calls behind darwin::ProcApi: libproc for the process table, group membership,
// BSD info and resource usage; sysctl(KERN_PROCARGS2) for another process's environment.
#include <libproc.h>
#include <sys/proc.h>
#include <sys/proc_info.h>
#include <sys/resource.h>
#include <sys/sysctl.h>

#include <cerrno>
#include <cstring>

#include "kitty/process/darwin_proc.h"

namespace kitty::darwin {
namespace {

// proc_listpids answers in bytes; asked with no buffer it says how many the list needs now, so
// a few more slots cover processes forked meanwhile.
Result<std::vector<int>> ListPids(uint32_t type, uint32_t arg) {
  int bytes = proc_listpids(type, arg, nullptr, 0);
  if (bytes < 0) return MakeError(std::string("proc_listpids: ") + strerror(errno), ErrorCode::kIoError);
  std::vector<pid_t> pids(static_cast<size_t>(bytes) / sizeof(pid_t) + 16);
  bytes = proc_listpids(type, arg, pids.data(), static_cast<int>(pids.size() * sizeof(pid_t)));
  if (bytes < 0) return MakeError(std::string("proc_listpids: ") + strerror(errno), ErrorCode::kIoError);
  pids.resize(static_cast<size_t>(bytes) / sizeof(pid_t));
  return std::vector<int>(pids.begin(), pids.end());
}

class RealProcApi : public ProcApi {
 public:
  Result<std::vector<int>> group_pids(int pgid) override {
    return ListPids(PROC_PGRP_ONLY, static_cast<uint32_t>(pgid));
  }
  Result<std::vector<int>> all_pids() override { return ListPids(PROC_ALL_PIDS, 0); }

  std::optional<BsdInfo> bsd_info(int pid) override {
    proc_bsdinfo info{};
    if (proc_pidinfo(pid, PROC_PIDTBSDINFO, 0, &info, PROC_PIDTBSDINFO_SIZE) !=
        static_cast<int>(PROC_PIDTBSDINFO_SIZE))
      return std::nullopt;  // gone, or not ours to read
    BsdInfo b;
    b.pid = pid;
    b.ppid = static_cast<int>(info.pbi_ppid);
    b.pgid = static_cast<int>(info.pbi_pgid);
    b.zombie = info.pbi_status == SZOMB;
    b.start_microseconds = info.pbi_start_tvsec * 1'000'000ull + info.pbi_start_tvusec;
    b.command = info.pbi_name[0] ? info.pbi_name : info.pbi_comm;
    return b;
  }

  std::optional<Rusage> rusage(int pid) override {
    // V4 (macOS 10.12) has both figures and every macOS kittyd supports understands it;
    // RUSAGE_INFO_CURRENT is the SDK's newest and fails with EINVAL on an older kernel.
    rusage_info_v4 ri{};
    if (proc_pid_rusage(pid, RUSAGE_INFO_V4, reinterpret_cast<rusage_info_t*>(&ri)) != 0) return std::nullopt;
    return Rusage{ri.ri_resident_size, ri.ri_phys_footprint};
  }

  Result<std::string> procargs(int pid) override {
    int max = 0;
    size_t size = sizeof max;
    int argmax_mib[] = {CTL_KERN, KERN_ARGMAX};
    if (sysctl(argmax_mib, 2, &max, &size, nullptr, 0) != 0 || max <= 0)
      return MakeError(std::string("sysctl kern.argmax: ") + strerror(errno), ErrorCode::kIoError);
    std::string buf(static_cast<size_t>(max), '\0');
    size = buf.size();
    int mib[] = {CTL_KERN, KERN_PROCARGS2, pid};
    // EINVAL for another user's process (or a zombie): the caller cannot tell, and leaves it.
    if (sysctl(mib, 3, buf.data(), &size, nullptr, 0) != 0)
      return MakeError("sysctl kern.procargs2 of " + std::to_string(pid) + ": " + strerror(errno),
                       ErrorCode::kIoError);
    buf.resize(size);
    return buf;
  }
};

}  // namespace

std::unique_ptr<ProcApi> MakeProcApi() { return std::make_unique<RealProcApi>(); }

}  // namespace kitty::darwin
