// MemoryLedger: what kittyd knows about each model's memory, and the scheduler's MemoryView in
// the daemon. Per model: the initial footprint (the GGUF estimate or the configured `memory:`),
// the learned one (the peak of earlier runs, persisted in <state_dir>/footprints.json), and,
// while it runs, what its process group holds now and at its peak (the MemorySampler's figures).
//
//   init() ─ on the calling thread, before the loop runs: reads each model's GGUF header and
//            file stamps, estimates, loads the store (the first plan must not run on nothing).
//   run ends (sampler's on_gone) ─► the run's peak recorded for that model's key, the store
//            written on the blocking pool (in order, one write at a time).
//
// A run that never became ready records nothing: a failed load's peak says nothing about the
// model. Learned figures are the host memory a run held (phys_footprint on macOS, which
// includes Metal buffers; PSS, else RSS, on Linux); GPU memory on discrete GPUs is watched by
// the pressure monitor, not budgeted here.
//
// Control thread only, after init().
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kitty/base/blocking_pool.h"
#include "kitty/base/env.h"
#include "kitty/base/thread_owner.h"
#include "kitty/config/config.h"
#include "kitty/events/bus.h"
#include "kitty/manager/memory_view.h"
#include "kitty/memory/footprint.h"
#include "kitty/memory/footprint_store.h"
#include "kitty/memory/memory_sampler.h"

namespace kitty {

/// docs/API.md's W.memory, less the measured figures.
struct ModelMemory {
  std::optional<uint64_t> expected_bytes;
  std::string basis = "unknown";  // learned, estimate, config, unknown
  std::optional<uint64_t> estimate_bytes;  // the initial footprint (estimate or config)
  std::optional<uint64_t> learned_bytes;
  std::optional<double> estimate_error;    // (estimate - learned) / learned
  std::string explanation;                 // how the initial footprint was reached
};

class MemoryLedger : public MemoryView {
 public:
  /// `env` needs clock, blocking, memory, events and fs. `store_path` is usually
  /// <state_dir>/footprints.json.
  MemoryLedger(const Env& env, const std::vector<ModelConfig>& models, std::string store_path);
  ~MemoryLedger() override;

  /// Estimates every model and loads the learned footprints. Blocking (GGUF headers, stat, the
  /// store file): call it once at start, before the control loop runs.
  void init();
  /// The sampler whose figures this ledger reads; its on_gone is taken over here.
  void attach(MemorySampler* sampler);
  /// Models whose expected footprint exceeds `budget` (fixed budgets only): "model 'big':
  /// expected 40 GiB (estimate: ...) exceeds memory.budget 20 GiB". Empty when all fit.
  std::vector<std::string> too_big_for(const MemoryBudget& budget, uint64_t total_bytes) const;

  /// The figures of model `id` as configured (rung 0), and of `m` at its downgrade rung.
  ModelMemory model(const std::string& id) const;
  ModelMemory model(const ModelConfig& m) const;
  /// A reload's models: those new or changed are estimated again (reads GGUF headers: blocking,
  /// but a reload is rare and the headers are small).
  void set_models(const std::vector<ModelConfig>& models);

  // MemoryView.
  std::optional<uint64_t> measured_bytes(int pgid) override;
  std::optional<uint64_t> measured_gpu_bytes(int pgid) override;
  std::optional<uint64_t> expected_bytes(const ModelConfig& m) override;
  std::optional<TimePoint> sampled_at() override;
  std::optional<SystemFigures> system() override;
  void read_system(std::function<void(std::optional<SystemFigures>)> done) override;

  /// Records a finished run's peak (what on_gone calls): public for tests.
  void record_run(const WorkerEvent& gone, const GroupPeak& peak);

 private:
  struct Entry {
    ModelConfig config;
    Footprint initial;
    std::optional<FootprintKey> key;  // unset: a file could not be stamped (nothing learned)
    std::optional<uint64_t> learned;
  };
  void refresh_learned();
  void save();
  void estimate(Entry& e, WallTime now);

  const Env& env_;
  const std::string store_path_;
  ThreadOwner owner_;
  std::map<std::string, Entry> entries_;
  FootprintStore store_;
  MemorySampler* sampler_ = nullptr;
  EventBus::Subscription ready_sub_;
  struct Run {
    TimePoint ready_at;
    int rung = 0;           // the downgrade rung it ran at
    bool stopping = false;  // its stop began
    bool settled = false;   // sampled between its ready and its stop
  };
  std::map<int, Run> runs_;  // runs that became ready, by pgid: only their peak is learned
  std::unique_ptr<Timer> refresh_timer_;
  std::shared_ptr<BlockingPool::Strand> save_strand_;
  std::shared_ptr<MemoryLedger*> self_;
};

/// The SystemFigures of a SystemMemory reading.
SystemFigures ToSystemFigures(const SystemMemory& m);

}  // namespace kitty
