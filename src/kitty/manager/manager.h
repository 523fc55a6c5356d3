// WorkerManager: the registry of configured models and their Workers. Resolves names (ids and
// aliases), hands out ports, runs operations over every worker (preload, release-all, the
// daemon's shutdown), and applies a reloaded config (issue 10).
//
// Threads: the registry (find, workers, model_ids, not_found) is an immutable snapshot that a
// reload replaces whole; any thread may read it. Everything else runs on the control thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "kitty/base/env.h"
#include "kitty/base/thread_owner.h"
#include "kitty/config/config.h"
#include "kitty/worker/worker.h"

namespace kitty {

class WorkerManager {
 public:
  /// `env` outlives the manager. Built on (and owned by) the control thread.
  WorkerManager(const std::vector<ModelConfig>& models, const Env& env, PortRange auto_ports);
  ~WorkerManager();

  // ---- any thread
  /// The worker serving `name` (a model id or alias, or either with Ollama's ":latest" tag), or null.
  std::shared_ptr<Worker> find(const std::string& name) const;
  /// The one "unknown model" error: it names the model and lists the ones that exist.
  Error not_found(const std::string& name) const;
  /// The configured models' workers, in config order.
  std::vector<std::shared_ptr<Worker>> workers() const;
  std::vector<std::string> model_ids() const;

  // ---- control thread
  /// workers() and those of removed models still stopping (they hold memory and processes).
  std::vector<std::shared_ptr<Worker>> all_workers() const;
  /// Applies a reloaded model list: unchanged workers are kept as they are; changed ones are
  /// reconfigured (Worker::reconfigure); removed ones stop gracefully and leave the registry
  /// at once; added ones become available. Returns model id → what happened.
  std::map<std::string, std::string> reload(const std::vector<ModelConfig>& models, bool force);

  // ---- control thread
  /// Starts every model with `preload: true`.
  void preload();
  /// Releases every worker at once; `done` runs when all are stopped and their groups gone.
  /// `why` is what cut requests and waiters are told (kShuttingDown for the daemon's stop).
  void release_all(bool force, std::function<void()> done, ErrorCode why = ErrorCode::kWorkerStopping);
  /// SIGKILL to every worker's group now; `done` as release_all.
  void kill_all(std::function<void()> done, ErrorCode why = ErrorCode::kWorkerStopping);
  /// The worker holding `hold_id`, or null.
  std::shared_ptr<Worker> find_hold(const std::string& hold_id) const;

 private:
  struct Registry {
    std::vector<std::shared_ptr<Worker>> workers;
    std::map<std::string, std::shared_ptr<Worker>> by_name;
  };
  std::shared_ptr<const Registry> registry() const;
  std::shared_ptr<Worker> make_worker(const ModelConfig& m);
  /// Makes `workers` (models[i]'s worker at i) the registry.
  void publish(std::vector<std::shared_ptr<Worker>> workers, const std::vector<ModelConfig>& models);
  Result<int> pick_port(const ModelConfig& m);
  void for_all(std::function<void(Worker&, Worker::DoneCallback)> op, std::function<void()> done);

  const Env& env_;
  const PortRange auto_ports_;
  ThreadOwner owner_;
  mutable std::mutex mu_;  // guards registry_ (the pointer; the Registry is immutable)
  std::shared_ptr<const Registry> registry_;
  std::vector<std::shared_ptr<Worker>> retiring_;  // removed by a reload, still stopping
};

}  // namespace kitty
