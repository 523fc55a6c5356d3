#include "kitty/manager/memory_ledger.h"

#include <spdlog/spdlog.h>

#include <cmath>

#include "kitty/backends/backend.h"
#include "kitty/backends/executable.h"
#include "kitty/base/blocking_pool.h"
#include "kitty/base/bytes.h"
#include "kitty/gguf/gguf.h"
#include "kitty/memory/memory_probe.h"

namespace kitty {
namespace {

// Learned figures go stale after 24 h (the store's cutoff): looked up again this often.
constexpr Duration kRefreshEvery = std::chrono::minutes(10);

// The stamp of `path`, or an empty one when there is no such file to stamp.
FileStamp StampOrEmpty(const std::string& path) {
  if (path.empty()) return {};
  auto s = StampFile(path);
  return s.ok() ? *s : FileStamp{path, 0, 0};
}

// The engine binary a model runs (llama-server, or a command's argv[0] as PATH finds it).
std::string EnginePath(const ModelConfig& m) {
  if (m.backend == Backend::kLlamaServer) {
    auto p = FindLlamaServer(m);
    return p.ok() ? *p : std::string();
  }
  if (m.backend == Backend::kCommand && !m.command.empty() && !m.shell) {
    const std::string& exe = m.command[0];
    if (exe.find('/') != std::string::npos) return exe;
    const char* path = getenv("PATH");
    auto p = FindInPath(exe, path ? path : "");
    return p.ok() ? *p : std::string();
  }
  return {};
}

}  // namespace

SystemFigures ToSystemFigures(const SystemMemory& m) {
  SystemFigures f;
  f.total_bytes = m.total_bytes;
  f.available_bytes = m.available_bytes;
  for (const auto& g : m.gpus) f.gpus.push_back({g.index, g.name, g.total_bytes, g.used_bytes});
  return f;
}

namespace {
// Each rung of a downgrade ladder runs with other settings: its footprint is its own.
std::string EntryName(const std::string& id, int rung) {
  return rung > 0 ? id + "#" + std::to_string(rung) : id;
}
std::string EntryName(const ModelConfig& m) { return EntryName(m.id, m.rung); }
}  // namespace

MemoryLedger::MemoryLedger(const Env& env, const std::vector<ModelConfig>& models, std::string store_path)
    : env_(env), store_path_(std::move(store_path)), store_(store_path_, *env.fs),
      self_(std::make_shared<MemoryLedger*>(this)) {
  for (const auto& m : models)
    for (int r = 0; r <= static_cast<int>(m.downgrade.size()); ++r) entries_[EntryName(m.id, r)].config = AtRung(m, r);
}

void MemoryLedger::set_models(const std::vector<ModelConfig>& models) {
  owner_.check("MemoryLedger::set_models");
  const WallTime now = env_.clock->wall_now();
  for (const auto& m : models) {
    for (int r = 0; r <= static_cast<int>(m.downgrade.size()); ++r) {
      ModelConfig at = AtRung(m, r);
      auto [it, fresh] = entries_.try_emplace(EntryName(m.id, r));
      Entry& e = it->second;
      if (!fresh && CompareModels(e.config, at) != ConfigChange::kRestart && e.config.memory_bytes == at.memory_bytes)
        continue;
      e.config = std::move(at);
      estimate(e, now);
    }
  }
}

// The sampler is not touched here: the daemon destroys it first (it is built after us).
// Its on_gone finds out through self_ that we are gone.
MemoryLedger::~MemoryLedger() { *self_ = nullptr; }

void MemoryLedger::init() {
  owner_.check("MemoryLedger::init");
  const WallTime now = env_.clock->wall_now();
  if (Status st = store_.load(now); !st) spdlog::warn("learned footprints: {}", st.error().message);
  for (auto& [name, e] : entries_) estimate(e, now);
  save_strand_ = std::make_shared<BlockingPool::Strand>(env_.blocking->make_strand());

  ready_sub_ = env_.events->subscribe([this](const WorkerEvent& ev) {
    if (ev.kind == EventKind::kSpawned) {
      // A new group under this pgid: an earlier one's run (never sampled, so no on_gone came
      // to drop it) is not this one's.
      runs_.erase(ev.pid);
    } else if (ev.kind == EventKind::kReady) {
      runs_[ev.pid] = Run{env_.clock->now(), ev.rung};
    } else if (ev.kind == EventKind::kStopping) {
      auto run = runs_.find(ev.pid);
      if (run == runs_.end() || run->second.stopping) return;
      run->second.stopping = true;
      // Samples from here on see the process tearing down: the run counts only if one was
      // taken between its ready and now.
      auto peak = sampler_ ? sampler_->peak(ev.pid) : std::nullopt;
      run->second.settled = peak && peak->samples > 0 && peak->last_seen >= run->second.ready_at;
    }
  });
  refresh_timer_ = env_.clock->start_timer(kRefreshEvery, [this] { refresh_learned(); });
}

void MemoryLedger::attach(MemorySampler* sampler) {
  sampler_ = sampler;
  sampler_->on_gone([weak = std::weak_ptr<MemoryLedger*>(self_)](const WorkerEvent& gone, const GroupPeak& peak) {
    if (auto self = weak.lock(); self && *self) (*self)->record_run(gone, peak);
  });
}

void MemoryLedger::refresh_learned() {
  const WallTime now = env_.clock->wall_now();
  for (auto& [id, e] : entries_) e.learned = e.key ? store_.Lookup(*e.key, now) : std::nullopt;
  refresh_timer_ = env_.clock->start_timer(kRefreshEvery, [this] { refresh_learned(); });
}

std::vector<std::string> MemoryLedger::too_big_for(const MemoryBudget& budget, uint64_t total_bytes) const {
  std::vector<std::string> out;
  const std::optional<uint64_t> b = budget.Resolve(total_bytes);
  if (!b) return out;
  for (const auto& [id, e] : entries_) {
    if (e.config.rung > 0) continue;  // a lower rung is smaller, or the ladder is no use
    // Only what a run would be planned with: a learned figure corrects a bad estimate.
    const uint64_t expected = e.learned ? *e.learned : e.initial.total_bytes;
    if (expected <= *b) continue;
    out.push_back("model '" + id + "': expected footprint " + FormatBytes(expected) + " (" +
                  (e.learned ? std::string("learned from an earlier run") : e.initial.explanation) +
                  ") exceeds memory.budget " + budget.Describe() +
                  (budget.kind == MemoryBudget::Kind::kPercent ? " = " + FormatBytes(*b) : "") +
                  "; raise the budget, or set the model's memory: if the estimate is wrong");
  }
  return out;
}

void MemoryLedger::estimate(Entry& e, WallTime now) {
  const ModelConfig& m = e.config;
  std::optional<GgufInfo> model, mmproj;

  std::string unread;  // why a GGUF header could not be read: the explanation says so
  if (m.backend == Backend::kLlamaServer && !m.model_path.empty()) {
    if (auto g = ReadGgufInfo(m.model_path); g.ok()) model = std::move(*g);
    else unread = g.error().message;
    if (!m.mmproj.empty()) {
      if (auto g = ReadGgufInfo(m.mmproj); g.ok()) mmproj = std::move(*g);
      else if (unread.empty()) unread = g.error().message;
    }
  }
  e.initial = InitialFootprint(m, m.memory_bytes, model ? &*model : nullptr, mmproj ? &*mmproj : nullptr);
  if (e.initial.basis == FootprintBasis::kUnknown && !unread.empty())
    e.initial.explanation = "no estimate: " + unread;
  if (m.backend != Backend::kOllama)  // an Ollama model's memory is the Ollama daemon's
    e.key = MakeFootprintKey(m, StampOrEmpty(m.model_path), StampOrEmpty(m.mmproj),
                             StampOrEmpty(EnginePath(m)));
  e.learned = e.key ? store_.Lookup(*e.key, now) : std::nullopt;
  spdlog::info("model '{}'{}: expected footprint {}{}", m.id,
               m.rung > 0 ? " at downgrade rung " + std::to_string(m.rung) : std::string(),
               e.initial.basis == FootprintBasis::kUnknown ? std::string("unknown")
                                                           : FormatBytes(e.initial.total_bytes),
               (e.initial.explanation.empty() ? "" : " (" + e.initial.explanation + ")") +
                   (e.learned ? "; learned " + FormatBytes(*e.learned) + " from an earlier run" : ""));
}

ModelMemory MemoryLedger::model(const ModelConfig& m) const { return model(EntryName(m)); }

ModelMemory MemoryLedger::model(const std::string& id) const {
  ModelMemory mm;
  auto it = entries_.find(id);
  if (it == entries_.end()) return mm;
  const Entry& e = it->second;
  mm.explanation = e.initial.explanation;
  if (e.initial.basis != FootprintBasis::kUnknown) mm.estimate_bytes = e.initial.total_bytes;
  mm.learned_bytes = e.learned;
  if (e.learned) {
    mm.expected_bytes = e.learned;
    mm.basis = "learned";
  } else if (mm.estimate_bytes) {
    mm.expected_bytes = mm.estimate_bytes;
    mm.basis = std::string(FootprintBasisName(e.initial.basis));
  }
  if (mm.estimate_bytes && e.learned && *e.learned > 0)
    mm.estimate_error = (static_cast<double>(*mm.estimate_bytes) - static_cast<double>(*e.learned)) /
                        static_cast<double>(*e.learned);
  return mm;
}

std::optional<uint64_t> MemoryLedger::measured_bytes(int pgid) {
  if (!sampler_) return std::nullopt;
  auto g = sampler_->get(pgid);
  if (!g) return std::nullopt;
  return g->host_bytes();
}

std::optional<uint64_t> MemoryLedger::measured_gpu_bytes(int pgid) {
  if (!sampler_) return std::nullopt;
  auto g = sampler_->get(pgid);
  if (!g || !g->gpu_available) return std::nullopt;
  return g->gpu_bytes;
}

std::optional<uint64_t> MemoryLedger::expected_bytes(const ModelConfig& m) {
  auto it = entries_.find(EntryName(m));
  if (it == entries_.end()) return std::nullopt;
  const Entry& e = it->second;
  if (e.learned) return e.learned;
  if (e.initial.basis == FootprintBasis::kUnknown) return std::nullopt;
  return e.initial.total_bytes;
}

std::optional<TimePoint> MemoryLedger::sampled_at() {
  return sampler_ ? sampler_->sampled_at() : std::nullopt;
}

std::optional<SystemFigures> MemoryLedger::system() {
  if (!sampler_) return std::nullopt;
  auto s = sampler_->system();
  if (!s) return std::nullopt;
  SystemFigures f = ToSystemFigures(s->memory);
  f.workers_bytes = s->groups_host_bytes;
  return f;
}

void MemoryLedger::read_system(std::function<void(std::optional<SystemFigures>)> done) {
  std::weak_ptr<MemoryLedger*> weak = self_;
  MemoryProbe* probe = env_.memory;
  Clock* clock = env_.clock;
  env_.blocking->post([weak, probe, clock, done = std::move(done)]() mutable {
    auto got = probe->system();
    std::optional<SystemFigures> figures;
    if (got.ok()) figures = ToSystemFigures(*got);
    clock->post([weak, figures, done = std::move(done)] {
      auto self = weak.lock();
      if (self && *self) done(figures);
    });
  });
}

void MemoryLedger::record_run(const WorkerEvent& gone, const GroupPeak& peak) {
  owner_.check("MemoryLedger::record_run");
  // Only a run sampled while loaded counts: samples before its ready saw part of a load,
  // samples after its stop began saw part of a teardown (one stopped as soon as it became
  // ready was never seen whole). A crash has no stop: its samples since ready count.
  auto ready = runs_.find(gone.pid);
  const bool seen_ready = ready != runs_.end() &&
                          (ready->second.stopping ? ready->second.settled
                                                  : peak.samples > 0 && peak.last_seen >= ready->second.ready_at);
  const int rung = ready != runs_.end() ? ready->second.rung : 0;
  if (ready != runs_.end()) runs_.erase(ready);
  auto it = entries_.find(EntryName(gone.model_id, rung));
  if (it == entries_.end() || !it->second.key || !seen_ready || peak.host_bytes == 0) return;
  Entry& e = it->second;
  const WallTime now = env_.clock->wall_now();
  store_.Record(*e.key, peak.host_bytes, now);
  e.learned = store_.Lookup(*e.key, now);
  std::string vs;
  if (e.initial.basis != FootprintBasis::kUnknown && peak.host_bytes > 0) {
    const double err = (static_cast<double>(e.initial.total_bytes) - static_cast<double>(peak.host_bytes)) /
                       static_cast<double>(peak.host_bytes);
    char buf[96];
    snprintf(buf, sizeof buf, "; the %s was %s, %+.1f%%", FootprintBasisName(e.initial.basis).data(),
             FormatBytes(e.initial.total_bytes).c_str(), err * 100);
    vs = buf;
  }
  spdlog::info("model '{}': this run's peak was {} over {} samples{}; planning with {} from now on",
               gone.model_id, FormatBytes(peak.host_bytes), peak.samples, vs,
               FormatBytes(e.learned.value_or(peak.host_bytes)));
  save();
}

void MemoryLedger::save() {
  // The text is taken here (the store is ours alone); the write runs on the pool, in order.
  FileSystem* fs = env_.fs;
  boost::asio::post(*save_strand_, [fs, path = store_.path(), text = store_.snapshot()] {
    if (Status st = FootprintStore::WriteSnapshot(*fs, path, text); !st)
      spdlog::warn("learned footprints: {}", st.error().message);
  });
}

}  // namespace kitty
