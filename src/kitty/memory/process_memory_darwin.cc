// macOS: a group's members from proc_listpids(PROC_PGRP_ONLY), each member's memory from
// proc_pid_rusage; the machine from Mach's VM statistics and sysctl. No PSS on macOS: the
// figure to plan with is phys_footprint, which on Apple silicon includes the Metal buffers a
// model's weights live in (RSS does not count them).
#include <mach/mach.h>
#include <sys/sysctl.h>
#include <sys/types.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "kitty/memory/process_memory.h"
#include "kitty/process/darwin_proc.h"

namespace kitty {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

template <class T>
bool Sysctl(const char* name, T* value) {
  size_t size = sizeof(T);
  return sysctlbyname(name, value, &size, nullptr, 0) == 0 && size == sizeof(T);
}

// An integer sysctl whose width differs between macOS versions.
bool SysctlInteger(const char* name, uint64_t* value) {
  unsigned char buf[8] = {};
  size_t size = sizeof buf;
  if (sysctlbyname(name, buf, &size, nullptr, 0) != 0) return false;
  if (size == sizeof(uint32_t)) {
    uint32_t v;
    std::memcpy(&v, buf, sizeof v);
    *value = v;
  } else if (size == sizeof(uint64_t)) {
    std::memcpy(value, buf, sizeof *value);
  } else {
    return false;
  }
  return true;
}

}  // namespace

// One proc_listpids per group rather than one pass over every process: the kernel filters by
// group, so a few workers cost a few calls instead of a proc_pidinfo per process on the Mac.
// The sum itself is darwin::GroupMemory's (tested on Linux with a fake of the calls).
Result<std::map<int, GroupMemory>> ReadGroupsMemory(const std::vector<int>& pgids) {
  auto api = darwin::MakeProcApi();
  std::map<int, GroupMemory> out;
  for (int pgid : pgids) {
    if (out.count(pgid)) continue;
    auto figures = darwin::GroupMemory(*api, pgid);
    if (!figures.ok()) return figures.error();
    if (figures->pids.empty()) continue;
    GroupMemory mem;
    mem.footprint_available = true;
    mem.rss_bytes = figures->resident_bytes;
    mem.footprint_bytes = figures->footprint_bytes;
    mem.pids = std::move(figures->pids);
    mem.process_count = static_cast<int>(mem.pids.size());
    out.emplace(pgid, std::move(mem));
  }
  return out;
}

Result<SystemMemory> ReadSystemMemory() {
  SystemMemory mem;
  if (!Sysctl("hw.memsize", &mem.total_bytes))
    return MakeError(std::string("sysctl hw.memsize: ") + strerror(errno), ErrorCode::kIoError);

  // mach_host_self() hands out a send right each call: give it back, or a daemon sampling
  // every 2 s leaks port references.
  mach_port_t host = mach_host_self();
  vm_size_t page = 0;
  vm_statistics64_data_t vm{};
  mach_msg_type_number_t count = HOST_VM_INFO64_COUNT;
  kern_return_t kr = host_page_size(host, &page);
  if (kr == KERN_SUCCESS)
    kr = host_statistics64(host, HOST_VM_INFO64, reinterpret_cast<host_info64_t>(&vm), &count);
  mach_port_deallocate(mach_task_self(), host);
  if (kr != KERN_SUCCESS)
    return MakeError(std::string("host_statistics64: ") + mach_error_string(kr),
                     ErrorCode::kIoError);
  // Free (speculative pages included, per mach/vm_statistics.h), inactive and purgeable pages
  // are what the kernel gives to a new allocation without swapping out anyone's data.
  const uint64_t pages =
      static_cast<uint64_t>(vm.free_count) + vm.inactive_count + vm.purgeable_count;
  mem.available_bytes = std::min<uint64_t>(pages * page, mem.total_bytes);

  xsw_usage swap{};
  if (Sysctl("vm.swapusage", &swap)) {
    mem.swap_total_bytes = swap.xsu_total;
    mem.swap_used_bytes = swap.xsu_used;
  }

  // Apple silicon: the GPU uses RAM, up to a wired limit the administrator may raise
  // (iogpu.wired_limit_mb, macOS 14+; 0 leaves the OS default).
  uint32_t arm64 = 0;
  mem.unified_memory = Sysctl("hw.optional.arm64", &arm64) && arm64 == 1;
  uint64_t wired_mb = 0;
  if (mem.unified_memory && SysctlInteger("iogpu.wired_limit_mb", &wired_mb))
    mem.gpu_wired_limit_bytes = wired_mb * kMiB;
  return mem;
}

}  // namespace kitty
