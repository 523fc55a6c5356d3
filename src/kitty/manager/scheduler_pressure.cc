// The Scheduler's pressure half: samples the machine once a second into the PressureMonitor it
// owns (sched/pressure.h) and acts on the answer. Control thread only, like the rest of it.
#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include <algorithm>

#include "kitty/manager/scheduler.h"

namespace kitty {
namespace {

// Pressure is sampled once a second whatever the tick: the CPU's busy share is measured between
// two samples, and a 100 ms one is mostly noise (/proc/stat counts in 10 ms ticks).
constexpr Duration kPressureEvery = std::chrono::seconds(1);
// CPU pressure stops one model at a time, then gives the machine this long to show the relief.
constexpr Duration kCpuEvictionEvery = sched::PressureMonitor::kEventDebounce;

}  // namespace

void Scheduler::sample_pressure() {
  if (stopped_) return;
  const TimePoint now = env_.clock->now();
  if (load_reading_ || now < next_pressure_sample_) return;
  next_pressure_sample_ = now + kPressureEvery;
  load_reading_ = true;
  std::weak_ptr<Scheduler*> weak = self_;
  load_.read(disk_dirs_, [weak](LoadReading load) {
    auto s = weak.lock();
    if (!s || !*s) return;
    (*s)->load_reading_ = false;
    (*s)->on_pressure_sample(load);
  });
}

void Scheduler::on_pressure_sample(const LoadReading& load) {
  sched::PressureSample sample;
  sample.at = env_.clock->now();
  sample.wall = env_.clock->wall_now();
  if (const std::optional<SystemFigures> sys = memory_.system()) {
    sample.ram = sched::RamUse{sys->total_bytes, sys->available_bytes};
    for (const GpuFigures& g : sys->gpus) {
      sched::GpuUse use{g.index, g.name, g.total_bytes, g.used_bytes, std::nullopt};
      if (g.index >= 0 && static_cast<size_t>(g.index) < config_.gpu_budgets.size())
        use.budget_bytes = config_.gpu_budgets[g.index].Resolve(g.total_bytes);  // null for auto
      sample.gpus.push_back(std::move(use));
    }
  }
  sample.cpu_busy_percent = load.cpu_busy_percent;
  for (const DirFree& d : load.disks) sample.disks.push_back({d.path, d.free_bytes});
  const size_t added = pressure_.update(sample);
  const auto& events = pressure_.events();
  for (size_t i = events.size() - std::min(added, events.size()); i < events.size(); ++i) {
    spdlog::warn("{} pressure: {}", events[i].kind, events[i].message);
    if (env_.events) {
      WorkerEvent e{EventKind::kPressure, "", 0, env_.clock->now()};
      e.reason = events[i].kind;
      e.message = events[i].message;
      env_.events->publish(e);
    }
  }
  if (!evicting_ && !stopped_) relieve_pressure();
}

void Scheduler::relieve_pressure() {
  const sched::PressureState& st = pressure_.state();
  std::vector<std::string> ids;
  std::string why;
  // RAM and GPU figures come from the memory sampler; after a pressure eviction they count the
  // victims until a sample read after it (the sampler reads every 2 s), and acting on them would stop one more.
  const std::optional<TimePoint> sampled = memory_.sampled_at();
  const bool fresh = !pressure_relieved_at_ || (sampled && *sampled >= *pressure_relieved_at_);
  if (st.ram && fresh) {
    // Stopping ones count as freed already; pressure_evict_only models are in the order too.
    ids = sched::PlanRelease(st.ram_to_free_bytes, holders(nullptr));
    if (!ids.empty()) why = "RAM";
  }
  if (st.gpu && fresh) {
    const size_t before = ids.size();
    for (auto& id : plan_gpu_release())
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
    if (ids.size() > before) why += why.empty() ? "GPU" : " and GPU";
  }
  const bool pressure_eviction = !ids.empty();
  if (ids.empty() && st.cpu &&
      (!last_cpu_eviction_ || env_.clock->now() - *last_cpu_eviction_ >= kCpuEvictionEvery)) {
    if (auto id = plan_cpu_release()) {
      ids.push_back(std::move(*id));
      why = "CPU";
      last_cpu_eviction_ = env_.clock->now();
    }
  }
  if (ids.empty()) return;
  spdlog::warn("{} pressure: stopping {}", why, fmt::join(ids, ", "));
  evict(ids, "pressure", /*displacer=*/"", [this, pressure_eviction] {
    if (pressure_eviction) pressure_relieved_at_ = env_.clock->now();
  });
}

// Which GPU a worker's memory is on is not measured, only how much it holds on GPUs in all: any
// worker holding GPU memory may relieve any GPU, and the bytes to free are summed over the GPUs
// that are over.
std::vector<std::string> Scheduler::plan_gpu_release() const {
  uint64_t to_free = 0;
  for (const sched::GpuPressure& g : pressure_.state().gpus) to_free += g.to_free_bytes;
  std::vector<sched::Holder> on_gpu;
  for (sched::Holder& h : holders(nullptr)) {
    auto w = find(h.id);
    const int pid = w ? w->pid() : 0;
    const uint64_t gpu = pid ? memory_.measured_gpu_bytes(pid).value_or(0) : 0;
    if (gpu == 0) continue;
    h.bytes = gpu;
    on_gpu.push_back(std::move(h));
  }
  return sched::PlanRelease(to_free, on_gpu);
}

// Seed 002: CPU pressure takes only a model nobody has used for a while (EVICTABLE, IDLE). One
// still in use (WARM) would be asked for again soon, and its restart would cost more CPU than
// stopping it saves.
std::optional<std::string> Scheduler::plan_cpu_release() const {
  const std::vector<sched::Holder> hs = holders(nullptr);
  for (const sched::Holder* h : sched::EvictionOrder(hs))
    if (!h->stopping && (h->cls == sched::EvictionClass::kEvictable || h->cls == sched::EvictionClass::kIdle))
      return h->id;
  return std::nullopt;
}

}  // namespace kitty
