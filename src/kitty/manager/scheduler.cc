#include "kitty/manager/scheduler.h"

#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include <algorithm>

#include "kitty/base/bytes.h"
#include "kitty/sched/capacity.h"
#include "kitty/worker/upstream_status.h"

namespace kitty {
namespace {

// How often waiting starts, pressure and restores are looked at again.
constexpr Duration kBusyTick = std::chrono::milliseconds(100);
constexpr Duration kIdleTick = std::chrono::seconds(1);
constexpr Duration kRecoveryPoll = std::chrono::milliseconds(50);
// The idle period a model with idle_shutdown_seconds 0 (never idled out) is classed by.
constexpr double kDefaultIdlePeriod = 900;
// GPU memory shows as free again when this share of what the victims held is back (the rest
// may be another process's growth meanwhile).
constexpr double kRecoveredShare = 0.9;
constexpr size_t kRestoreQueueMax = 8;     // seed 002's swap queue

// A model's idle period, by which it is classed and its recent use judged.
double IdlePeriod(const ModelConfig& m) {
  return m.idle_shutdown_seconds > 0 ? m.idle_shutdown_seconds : kDefaultIdlePeriod;
}

uint64_t GpuUsed(const SystemFigures& sys) {
  uint64_t used = 0;
  for (const auto& g : sys.gpus) used += g.used_bytes;
  return used;
}

Error NoRoom(const std::string& id, const std::string& why, bool busy) {
  return MakeError("no room for model '" + id + "': " + why, busy ? ErrorCode::kNoRoomBusy : ErrorCode::kNoRoom);
}

}  // namespace

Scheduler::Scheduler(const Env& env, const MemoryConfig& config, MemoryView& memory, LoadProbe& load,
                     std::vector<std::string> disk_dirs, Workers workers)
    : env_(env), config_(config), memory_(memory), load_(load), disk_dirs_(std::move(disk_dirs)),
      workers_(std::move(workers)), pressure_(config.pressure),
      self_(std::make_shared<Scheduler*>(this)) {}

Scheduler::~Scheduler() { *self_ = nullptr; }

void Scheduler::start() {
  owner_.check("Scheduler::start");
  schedule_tick(kIdleTick);
}

void Scheduler::stop() {
  owner_.check("Scheduler::stop");
  stopped_ = true;
  tick_timer_.reset();
  restore_.clear();
}

std::shared_ptr<Worker> Scheduler::find(const std::string& id) const {
  for (const auto& w : workers_())
    if (w->id() == id) return w;
  return nullptr;
}

std::optional<uint64_t> Scheduler::expected_bytes(const Worker& w) const {
  return memory_.expected_bytes(w.config());
}

bool Scheduler::settled(const SchedView& v) const {
  if (v.stage == SchedView::Stage::kStopping) return true;  // it holds what was last seen, or less
  if (v.stage != SchedView::Stage::kRunning || !v.ready_at) return false;  // still growing
  const std::optional<TimePoint> at = memory_.sampled_at();
  return at && *at >= *v.ready_at;
}

sched::EvictionClass Scheduler::class_of(const Worker& w) const {
  const SchedView v = w.sched_view();
  sched::ClassInputs in;
  in.pinned = v.policy.pinned;
  in.pressure_evict_only = v.policy.pressure_evict_only;
  in.busy = v.in_flight > 0 || v.holds > 0 || v.stage == SchedView::Stage::kStarting ||
            v.stage == SchedView::Stage::kAdmitting;
  in.idle_seconds = ToSeconds(env_.clock->now() - v.last_end);
  in.idle_period_seconds = IdlePeriod(w.config());
  return sched::ClassOf(in);
}

std::vector<sched::Holder> Scheduler::holders(const Worker* except) const {
  std::vector<sched::Holder> out;
  for (const auto& w : workers_()) {
    if (w.get() == except) continue;
    const SchedView v = w->sched_view();
    if (v.stage == SchedView::Stage::kNone || v.stage == SchedView::Stage::kAdmitting) continue;
    sched::Holder h;
    h.id = w->id();
    std::optional<uint64_t> measured = v.pid ? memory_.measured_bytes(v.pid) : std::nullopt;
    const std::optional<uint64_t> expected = expected_bytes(*w);
    // A model inside Ollama holds its memory in Ollama's runner, not in its agent's group: a
    // fixed budget counts what Ollama reports for it. (An auto budget needs nothing more: the
    // machine's available memory already shows the runner's.)
    if (config_.budget.kind != MemoryBudget::Kind::kAuto && w->config().backend == Backend::kOllama && v.pid)
      if (auto up = UpstreamMemoryOf(w->info())) measured = std::max(measured.value_or(0), up->size_bytes);
    // A worker is planned with what it is expected to grow to until a sample taken after it
    // became ready shows what it holds; from then on with that.
    if (measured && settled(v))
      h.bytes = *measured;
    else
      h.bytes = std::max(measured.value_or(0), expected.value_or(0));
    h.cls = class_of(*w);
    h.priority = v.policy.priority;
    h.pinned = v.policy.pinned;
    h.stopping = v.stage == SchedView::Stage::kStopping;
    h.last_used = ToSeconds(v.last_end.time_since_epoch());
    out.push_back(std::move(h));
  }
  return out;
}

sched::Room Scheduler::room(const std::vector<sched::Holder>& hs) const {
  sched::Room r;
  r.max_models = config_.max_models;
  uint64_t held = 0;
  for (const auto& h : hs) {
    held += h.bytes;
    if (!h.stopping) ++r.running;
  }
  const std::optional<SystemFigures> sys = memory_.system();
  if (config_.budget.kind != MemoryBudget::Kind::kAuto) {
    const std::optional<uint64_t> budget = config_.budget.Resolve(sys ? sys->total_bytes : 0);
    r.free_bytes = static_cast<int64_t>(budget.value_or(0)) - static_cast<int64_t>(held);
    return r;
  }
  if (!sys) {
    r.free_bytes = INT64_MAX / 2;  // nothing measured here: only max_models can be planned
    return r;
  }
  if (sys->workers_bytes) {
    // The budget is what models could have: what was available at the last sample plus what
    // our workers held in that same read, less the reserve. What they hold now (a worker gone
    // since counts nothing, a starting one what it will grow to) is set against it, so a plan
    // made between samples neither double-counts a stopped victim nor misses a new start.
    r.free_bytes = static_cast<int64_t>(sys->available_bytes + *sys->workers_bytes) -
                   static_cast<int64_t>(config_.reserve_bytes) - static_cast<int64_t>(held);
    return r;
  }
  // Without per-worker figures: what the machine has, minus the reserve, minus what workers
  // not settled at the sample (starting, or ready since) will still take.
  int64_t pending = 0;
  for (const auto& w : workers_()) {
    const SchedView v = w->sched_view();
    if (v.stage != SchedView::Stage::kStarting && (v.stage != SchedView::Stage::kRunning || settled(v)))
      continue;
    const uint64_t expected = expected_bytes(*w).value_or(0);
    const uint64_t measured = v.pid ? memory_.measured_bytes(v.pid).value_or(0) : 0;
    if (expected > measured) pending += static_cast<int64_t>(expected - measured);
  }
  r.free_bytes = static_cast<int64_t>(sys->available_bytes) -
                 static_cast<int64_t>(config_.reserve_bytes) - pending;
  return r;
}

void Scheduler::request(const std::shared_ptr<Worker>& w, std::function<void(kitty::Status)> decide) {
  owner_.check("Scheduler::request");
  queue_.push_back(Pending{w, std::move(decide), env_.clock->now()});
  std::weak_ptr<Scheduler*> weak = self_;
  env_.clock->post([weak] {
    if (auto s = weak.lock(); s && *s) (*s)->pump();
  });
}

void Scheduler::withdraw(const Worker& w) {
  owner_.check("Scheduler::withdraw");
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(),
                              [&](const Pending& p) {
                                auto pw = p.worker.lock();
                                return !pw || pw.get() == &w;
                              }),
               queue_.end());
}

void Scheduler::pump() {
  // One round of evictions at a time: the next plan must see their memory back.
  while (!evicting_ && !queue_.empty()) {
    Pending& p = queue_.front();
    auto w = p.worker.lock();
    if (!w) {
      queue_.pop_front();
      continue;
    }
    const std::vector<sched::Holder> hs = holders(w.get());
    const std::optional<uint64_t> need = expected_bytes(*w);
    const sched::StartPlan plan = sched::PlanStart(need, hs, room(hs));
    switch (plan.kind) {
      case sched::StartPlan::Kind::kStart: {
        auto decide = std::move(p.decide);
        queue_.pop_front();
        decide(kitty::Status::Ok());  // spawns now: the next plan counts it as starting
        continue;
      }
      case sched::StartPlan::Kind::kEvict:
        spdlog::info("model '{}' needs {}: stopping {} to make room", w->id(),
                     need ? FormatBytes(*need) : std::string("an unknown amount"),
                     fmt::join(plan.evict, ", "));
        evict(plan.evict, "room", w->id(), [this] { pump(); });
        return;
      case sched::StartPlan::Kind::kWait:
        if (env_.clock->now() - p.since < FromSeconds(config_.wait_seconds)) return;  // tick retries
        [[fallthrough]];
      case sched::StartPlan::Kind::kNoRoom: {
        // Waited out: the memory is held by models in use, which will free it (429, "busy",
        // so a router tries another node). Never: nothing that may go would make room (503).
        const bool busy = plan.kind == sched::StartPlan::Kind::kWait;
        std::string why = plan.why;
        if (busy)
          why += " (waited " + FormatSeconds(config_.wait_seconds) + ", memory.wait_seconds; try again shortly)";
        auto decide = std::move(p.decide);
        queue_.pop_front();
        decide(NoRoom(w->id(), why, busy));
        continue;
      }
    }
  }
}

void Scheduler::evict(const std::vector<std::string>& ids, const std::string& reason, const std::string& displacer,
                      std::function<void()> then) {
  Eviction e;
  e.then = std::move(then);
  std::vector<std::shared_ptr<Worker>> victims;
  for (const auto& id : ids) {
    auto v = find(id);
    if (!v) continue;
    // The wait for freed GPU memory goes by what was measured on the GPU, never by an
    // expectation the driver's figures could not confirm.
    if (const int pid = v->pid())
      if (auto m = memory_.measured_gpu_bytes(pid)) e.freed_gpu += *m;
    // Seed 002's swap queue: a model pushed out by another comes back when that one idles,
    // if it was preloaded (meant to stay) or used in its last idle period.
    const SchedView view = v->sched_view();
    const bool recent = view.last_used &&
                        ToSeconds(env_.clock->now() - *view.last_used) < IdlePeriod(v->config());
    if (!displacer.empty() && (v->config().preload || recent) && restore_.size() < kRestoreQueueMax)
      restore_.push_back({id, displacer});
    ++evictions_[{id, reason}];
    if (env_.events) {
      WorkerEvent ev{EventKind::kEvicted, id, v->pid(), env_.clock->now(), v->config().rung};
      ev.reason = reason;
      ev.message = displacer.empty() ? "stopped by kittyd (" + reason + ")" : "stopped to make room for '" + displacer + "'";
      env_.events->publish(ev);
    }
    victims.push_back(std::move(v));
  }
  e.left = victims.size();
  evicting_ = std::move(e);
  if (victims.empty()) return await_recovery();
  // The GPUs' use just before the stops is read fresh: a sample from before a victim finished
  // loading would set a mark the freed memory can never reach.
  std::weak_ptr<Scheduler*> weak = self_;
  memory_.read_system([weak, victims = std::move(victims)](std::optional<SystemFigures> sys) {
    auto s = weak.lock();
    if (!s || !*s || !(*s)->evicting_) return;
    if (sys && !sys->gpus.empty()) (*s)->evicting_->gpu_used_before = GpuUsed(*sys);
    (*s)->stop_victims(victims);
  });
}

void Scheduler::stop_victims(const std::vector<std::shared_ptr<Worker>>& victims) {
  std::weak_ptr<Scheduler*> weak = self_;
  for (const auto& v : victims) {
    // Never a forced release: a request that slipped in meanwhile finishes first.
    v->release(/*force=*/false, [weak] {
      auto s = weak.lock();
      if (!s || !*s || !(*s)->evicting_) return;
      if (--(*s)->evicting_->left == 0) (*s)->await_recovery();
    });
  }
}

void Scheduler::await_recovery() {
  if (!evicting_) return;
  // Host memory is back when the victims' groups are gone: Linux frees a process's pages
  // before it can be reaped, and macOS likewise. Watching MemAvailable for it is worse than
  // useless: per-CPU page lists on 6.x kernels hide freed pages from it for seconds (here,
  // 400 MiB freed showed as 60 MiB after 10 s). GPU memory is another matter: the driver
  // tears a context down after the process is gone, so a start waits until the GPUs show
  // what the victims held (within memory.recovery_seconds).
  if (!evicting_->gpu_used_before || evicting_->freed_gpu == 0) return recovered();
  if (evicting_->recovery_deadline == TimePoint{})
    evicting_->recovery_deadline = env_.clock->now() + FromSeconds(config_.recovery_seconds);
  std::weak_ptr<Scheduler*> weak = self_;
  memory_.read_system([weak](std::optional<SystemFigures> sys) {
    auto s = weak.lock();
    if (!s || !*s || !(*s)->evicting_) return;
    Scheduler& self = **s;
    Eviction& e = *self.evicting_;
    const uint64_t share = static_cast<uint64_t>(kRecoveredShare * static_cast<double>(e.freed_gpu));
    const uint64_t target = *e.gpu_used_before > share ? *e.gpu_used_before - share : 0;
    const bool measured = sys && !sys->gpus.empty();
    const bool back = !measured || GpuUsed(*sys) <= target;
    if (!back && self.env_.clock->now() < e.recovery_deadline) {
      self.recovery_timer_ = self.env_.clock->start_timer(kRecoveryPoll, [&self] { self.await_recovery(); });
      return;
    }
    if (!back)
      spdlog::warn("GPU memory freed for room did not show as free within {}s (memory.recovery_seconds): "
                   "{} in use, expected at most {} after freeing {}; going on",
                   self.config_.recovery_seconds, FormatBytes(GpuUsed(*sys)), FormatBytes(target),
                   FormatBytes(e.freed_gpu));
    self.recovered();
  });
}

void Scheduler::recovered() {
  auto then = std::move(evicting_->then);
  evicting_.reset();
  if (then) then();
}

void Scheduler::schedule_tick(Duration after) {
  if (stopped_) return;
  tick_timer_ = env_.clock->start_timer(after, [this] { tick(); });
}

void Scheduler::tick() {
  pump();
  sample_pressure();
  if (!evicting_) restore_displaced();
  schedule_tick(queue_.empty() && restore_.empty() ? kIdleTick : kBusyTick);
}

void Scheduler::restore_displaced() {
  if (stopped_) return;
  for (auto it = restore_.begin(); it != restore_.end();) {
    auto victim = find(it->victim);
    auto displacer = find(it->displacer);
    if (!victim) {
      it = restore_.erase(it);
      continue;
    }
    // Back when the displacer idles (or is gone), and only if it fits without pushing anyone
    // out: a restore never displaces in turn (no loops).
    const bool displacer_idle =
        !displacer || displacer->sched_view().stage == SchedView::Stage::kNone ||
        class_of(*displacer) == sched::EvictionClass::kIdle ||
        class_of(*displacer) == sched::EvictionClass::kEvictable;
    if (victim->sched_view().stage != SchedView::Stage::kNone) {
      it = restore_.erase(it);  // already back (a request brought it)
      continue;
    }
    if (!displacer_idle) {
      ++it;
      continue;
    }
    const std::vector<sched::Holder> hs = holders(victim.get());
    if (sched::PlanStart(expected_bytes(*victim), hs, room(hs)).kind != sched::StartPlan::Kind::kStart) {
      ++it;
      continue;
    }
    spdlog::info("model '{}': restoring it ('{}', which displaced it, is idle)", it->victim, it->displacer);
    victim->ensure([id = it->victim](Result<Endpoint> r) {
      if (!r) spdlog::warn("restore of '{}' failed: {}", id, r.error().message);
    });
    it = restore_.erase(it);
  }
}

void Scheduler::make_headroom(uint64_t bytes, std::function<void(Result<HeadroomResult>)> done) {
  owner_.check("Scheduler::make_headroom");
  const std::optional<SystemFigures> sys = memory_.system();
  HeadroomResult r;
  r.requested_bytes = bytes;
  const uint64_t free_now =
      sys ? (sys->available_bytes > config_.reserve_bytes ? sys->available_bytes - config_.reserve_bytes : 0)
          : 0;
  const uint64_t short_by = bytes > free_now ? bytes - free_now : 0;
  const std::vector<sched::Holder> hs = holders(nullptr);
  r.evicted = sched::PlanRelease(short_by, hs);
  for (const auto& h : hs)
    if (std::find(r.evicted.begin(), r.evicted.end(), h.id) != r.evicted.end()) r.freed_bytes += h.bytes;
  if (r.evicted.empty() || evicting_) {
    r.available_bytes = sys ? std::optional(sys->available_bytes) : std::nullopt;
    if (evicting_ && !r.evicted.empty())
      return done(MakeError("room is being made for another start; try again shortly", ErrorCode::kNoRoomBusy));
    return done(r);
  }
  spdlog::info("headroom of {} asked for: stopping {}", FormatBytes(bytes), fmt::join(r.evicted, ", "));
  std::weak_ptr<Scheduler*> weak = self_;
  evict(r.evicted, "headroom", /*displacer=*/"", [weak, r, done = std::move(done)]() mutable {
    auto s = weak.lock();
    if (s && *s)
      if (auto sys = (*s)->memory_.system()) r.available_bytes = sys->available_bytes;
    done(r);
    if (s && *s) (*s)->pump();
  });
}

Scheduler::Status Scheduler::status() const {
  owner_.check("Scheduler::status");
  Status st;
  st.system = memory_.system();
  if (config_.budget.kind != MemoryBudget::Kind::kAuto)
    st.budget_bytes = config_.budget.Resolve(st.system ? st.system->total_bytes : 0);
  st.reserve_bytes = config_.reserve_bytes;
  for (const auto& h : holders(nullptr))
    if (!h.stopping) st.workers_bytes += h.bytes;
  st.max_models = config_.max_models;
  if (st.budget_bytes) st.capacity_bytes = st.budget_bytes;
  else if (st.system && st.system->total_bytes > st.reserve_bytes) st.capacity_bytes = st.system->total_bytes - st.reserve_bytes;
  std::vector<std::optional<uint64_t>> footprints;
  for (const auto& w : workers_()) footprints.push_back(expected_bytes(*w));
  st.max_resident = sched::MaxResident(std::move(footprints), st.capacity_bytes, config_.max_models);
  const sched::PressureState& p = pressure_.state();
  st.pressure.ram = p.ram;
  st.pressure.gpu = p.gpu;
  st.pressure.cpu = p.cpu;
  st.pressure.disk = p.disk;
  st.pressure.events = pressure_.events();
  for (const auto& d : restore_) st.restore_queue.push_back(d.victim);
  for (const auto& p : queue_)
    if (auto w = p.worker.lock()) st.waiting.push_back(w->id());
  st.evictions = evictions_;
  return st;
}

}  // namespace kitty
