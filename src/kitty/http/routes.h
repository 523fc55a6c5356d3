// What every route needs: the registry, the control loop that owns the workers, the latest
// memory figures and the server's settings. Built once by the daemon (or a test); read-only after.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "kitty/base/clock.h"
#include "kitty/config/config.h"
#include "kitty/http/control.h"
#include "kitty/manager/manager.h"
#include "kitty/manager/memory_ledger.h"
#include "kitty/manager/scheduler.h"
#include "kitty/memory/memory_sampler.h"

namespace kitty {
class EventJournal;
class OllamaSupervisor;
class RequestMetrics;
}

namespace kitty::web {

struct RouteContext {
  WorkerManager* manager = nullptr;
  ControlExecutor control;
  /// Latest memory of the workers' groups (control thread); null: no figures.
  MemorySampler* memory = nullptr;
  /// Footprints (expected, estimate, learned) and the scheduler (classes, budget, pressure,
  /// headroom); control thread; null in tests without memory.
  MemoryLedger* ledger = nullptr;
  Scheduler* scheduler = nullptr;
  MemoryConfig memory_config;
  Clock* clock = nullptr;  // now()/wall_now() only: safe from any thread for the real clock
  ServerConfig server;
  std::string version;
  /// GGUF summary of a model file, or null; thread-safe (the daemon caches it).
  std::function<nlohmann::json(const ModelConfig&)> model_info;
  /// Re-reads the config file and applies it (control thread): the answer of POST
  /// /kitty/config/reload, or the error that kept the old config. Null where unsupported.
  std::function<Result<nlohmann::json>(bool force)> reload;
  /// The numbered, replayable lifecycle events (GET /kitty/events; any thread); null: none.
  EventJournal* journal = nullptr;
  /// What the gateway counts per model for GET /metrics (any thread); null: not counted.
  RequestMetrics* metrics = nullptr;
  /// The Ollama daemon's supervisor (control thread); null without an `ollama:` section.
  OllamaSupervisor* ollama = nullptr;
  /// Serve the dashboard's files from this directory instead of the copy in the binary
  /// (KITTY_UI_DIR: for work on the page); empty: the embedded files.
  std::string ui_dir;
  std::shared_ptr<std::atomic<bool>> shutting_down = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace kitty::web
