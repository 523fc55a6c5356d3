#include "kitty/memory/load_probe.h"

#include <spdlog/spdlog.h>

#include "kitty/base/blocking_pool.h"
#include "kitty/base/clock.h"
#include "kitty/memory/disk_free.h"

namespace kitty {

OsLoadProbe::OsLoadProbe(const Env& env) : env_(env) {}

void OsLoadProbe::read(const std::vector<std::string>& dirs, std::function<void(LoadReading)> done) {
  Clock* clock = env_.clock;
  env_.blocking->post([state = state_, dirs, clock, done = std::move(done)]() mutable {
    LoadReading r = Read(*state, dirs);
    clock->post([r = std::move(r), done = std::move(done)]() mutable { done(std::move(r)); });
  });
}

LoadReading OsLoadProbe::read_now(const std::vector<std::string>& dirs) { return Read(*state_, dirs); }

LoadReading OsLoadProbe::Read(State& st, const std::vector<std::string>& dirs) {
  std::lock_guard lock(st.mu);
  LoadReading r;
  // A failed read logs once per new error: the scheduler reads every second, and a log line a
  // second would bury everything else.
  Result<CpuTimes> cpu = ReadCpuTimes();
  if (cpu.ok()) {
    if (st.last_cpu) r.cpu_busy_percent = BusyPercent(*st.last_cpu, *cpu);
    st.last_cpu = *cpu;
    st.cpu_error.clear();
  } else {
    st.last_cpu.reset();  // the next busy share must not span the gap
    if (cpu.error().message != st.cpu_error)
      spdlog::warn("pressure monitor: CPU load unknown: {}", cpu.error().message);
    st.cpu_error = cpu.error().message;
  }
  for (const auto& dir : dirs) {
    Result<uint64_t> free = FreeBytes(dir);
    std::string& logged = st.disk_errors[dir];
    if (free.ok()) {
      r.disks.push_back({dir, *free});
      logged.clear();
      continue;
    }
    if (free.error().message != logged)
      spdlog::warn("pressure monitor: free disk space unknown: {}", free.error().message);
    logged = free.error().message;
  }
  return r;
}

}  // namespace kitty
