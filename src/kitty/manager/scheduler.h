// Scheduler: carries out the memory decisions of sched/plan.h. Every start passes through it
// (StartAdmission): it fits, or room is made first by stopping models in eviction order (never
// one with requests in flight or holds, never a pinned one), or the start waits for busy models
// (bounded by memory.wait_seconds), or it is refused with no_room naming who holds the memory.
// Starts are admitted one at a time, each planned with the ones before it counted, so two big
// models asked for at once never overlap in memory. After a stop made for room the next spawn
// waits until the victims' groups are gone and, where they held GPU memory, until the GPUs show
// it free again (memory.recovery_seconds at most).
//
// It also owns the pressure monitor (sched/pressure.h), sampled once a second from the memory
// figures and a LoadProbe (CPU busy share, free disk under the state and logs dirs), and acts on
// it: RAM pressure stops models in the same order until use is back under the threshold; GPU
// pressure stops only models that hold GPU memory; sustained CPU pressure stops one EVICTABLE or
// IDLE model a minute; low disk is only reported. It restores models it displaced once their
// displacer idles, and makes headroom on request for jobs outside kittyd.
//
//   request ──► queue ──► plan ──┬─ start ──────────────────────────────► decide(OK)
//                 ▲               ├─ evict ─► victims gone ─► recovery wait ─┐
//                 │               ├─ wait (tick, ≤ wait_seconds) ──────────────┤
//                 └───────────────┴─ no room ─► decide(no_room)  ◄─────────────┘
//
// Control thread only.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kitty/base/clock.h"
#include "kitty/base/env.h"
#include "kitty/base/thread_owner.h"
#include "kitty/config/config.h"
#include "kitty/manager/memory_view.h"
#include "kitty/memory/load_probe.h"
#include "kitty/sched/plan.h"
#include "kitty/sched/pressure.h"
#include "kitty/worker/start_admission.h"
#include "kitty/worker/worker.h"

namespace kitty {

class Scheduler : public StartAdmission {
 public:
  using Workers = std::function<std::vector<std::shared_ptr<Worker>>()>;

  using PressureEvent = sched::PressureEvent;
  struct HeadroomResult {
    uint64_t requested_bytes = 0;
    uint64_t freed_bytes = 0;
    std::vector<std::string> evicted;
    std::optional<uint64_t> available_bytes;
  };
  /// What status shows of the memory as a whole.
  struct Status {
    std::optional<SystemFigures> system;
    std::optional<uint64_t> budget_bytes;  // resolved; null for auto
    uint64_t reserve_bytes = 0;
    uint64_t workers_bytes = 0;            // what running and starting workers hold (or will)
    int max_models = 0;
    /// What workers may hold in all: the budget, or for an auto budget the machine's memory
    /// less the reserve (null when neither is known).
    std::optional<uint64_t> capacity_bytes;
    /// How many of the configured models fit the capacity together (sched/capacity.h): what a
    /// router between nodes reads as this node's model slots.
    int max_resident = 0;
    struct {
      bool ram = false, gpu = false, cpu = false, disk = false;
      std::vector<PressureEvent> events;  // newest last, at most PressureMonitor::kEventsKept
    } pressure;
    std::vector<std::string> restore_queue;
    std::vector<std::string> waiting;      // models whose start waits for room
    /// Since kittyd started: models stopped by the scheduler, by (model, reason): "room" (for
    /// another model's start), "pressure", "headroom".
    std::map<std::pair<std::string, std::string>, uint64_t> evictions;
  };

  /// `disk_dirs`: where the pressure monitor checks the free space (the state and logs dirs).
  Scheduler(const Env& env, const MemoryConfig& config, MemoryView& memory, LoadProbe& load,
            std::vector<std::string> disk_dirs, Workers workers);
  ~Scheduler() override;

  /// Starts the periodic checks (pressure, waits, restores).
  void start();
  /// kittyd is shutting down: no more restores or pressure stops (a restore now would start a
  /// worker the shutdown has already passed). Starts still queued are withdrawn by their
  /// workers' release.
  void stop();

  // StartAdmission.
  void request(const std::shared_ptr<Worker>& w, std::function<void(kitty::Status)> decide) override;
  void withdraw(const Worker& w) override;

  /// Stops models (in eviction order) until `bytes` more are free for a job outside kittyd.
  void make_headroom(uint64_t bytes, std::function<void(Result<HeadroomResult>)> done);

  /// The eviction class of `w` now.
  sched::EvictionClass class_of(const Worker& w) const;
  /// Whether the latest sample of `v`'s group shows what it holds: taken after it became ready.
  bool settled(const SchedView& v) const;
  /// What `w` is expected to need when it starts (learned, estimated or configured).
  std::optional<uint64_t> expected_bytes(const Worker& w) const;
  Status status() const;

 private:
  struct Pending {
    std::weak_ptr<Worker> worker;
    std::function<void(kitty::Status)> decide;
    TimePoint since;
  };
  struct Eviction {
    size_t left = 0;               // victims whose group is not gone yet
    uint64_t freed_gpu = 0;        // what they were last measured holding on GPUs
    std::optional<uint64_t> gpu_used_before;  // all GPUs' use just before the stops
    TimePoint recovery_deadline{};
    std::function<void()> then;    // after the memory shows as free
  };
  struct Displaced {
    std::string victim, displacer;
  };

  std::vector<sched::Holder> holders(const Worker* except) const;
  sched::Room room(const std::vector<sched::Holder>& hs) const;
  void stop_victims(const std::vector<std::shared_ptr<Worker>>& victims);
  void pump();
  void evict(const std::vector<std::string>& ids, const std::string& reason, const std::string& displacer,
             std::function<void()> then);
  void await_recovery();
  void recovered();
  void tick();
  void sample_pressure();
  void on_pressure_sample(const LoadReading& load);
  void relieve_pressure();
  std::vector<std::string> plan_gpu_release() const;
  std::optional<std::string> plan_cpu_release() const;
  void restore_displaced();
  void schedule_tick(Duration after);
  std::shared_ptr<Worker> find(const std::string& id) const;

  const Env& env_;
  const MemoryConfig config_;
  MemoryView& memory_;
  LoadProbe& load_;
  const std::vector<std::string> disk_dirs_;
  const Workers workers_;
  ThreadOwner owner_;
  std::deque<Pending> queue_;
  std::optional<Eviction> evicting_;
  std::map<std::pair<std::string, std::string>, uint64_t> evictions_;  // Status::evictions
  std::deque<Displaced> restore_;
  sched::PressureMonitor pressure_;
  bool load_reading_ = false;             // a LoadProbe::read is in flight
  bool stopped_ = false;                  // stop() was called
  TimePoint next_pressure_sample_{};
  // When the last RAM/GPU pressure eviction was over: figures sampled before then still show
  // the victims' memory, so the next one waits for a sample read after it.
  std::optional<TimePoint> pressure_relieved_at_;
  std::optional<TimePoint> last_cpu_eviction_;
  std::unique_ptr<Timer> tick_timer_, recovery_timer_;
  std::shared_ptr<Scheduler*> self_;
};

}  // namespace kitty
