// WorkerManager: the registry of configured models and their Workers. Resolves names
// (ids and aliases), hands out ports, and runs operations over every worker (preload,
// release-all, daemon shutdown). All methods run on the event-loop thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "kitty/config/config.h"
#include "kitty/worker/worker.h"

namespace kitty {

struct ManagerDeps {
  Clock* clock = nullptr;
  Spawner* spawner = nullptr;
  WorkerHttp* http = nullptr;
  std::string logs_dir;
  PortRange auto_ports;
  /// OS port checks (process/port_probe.h in the daemon; fakes in tests).
  std::function<Status(const std::string& host, int port)> check_port_free;
  std::function<Result<int>(const std::string& host, PortRange range, const std::set<int>& exclude)>
      pick_free_port;
  std::function<Result<LaunchPlan>(const ModelConfig&, int port)> plan_launch;  // optional
  std::function<void(const std::string&model_id, int pid)> on_spawned, on_gone;
};

class WorkerManager {
 public:
  WorkerManager(const std::vector<ModelConfig>& models, ManagerDeps deps);
  ~WorkerManager();

  /// The worker serving `name` (a model id or alias), or null.
  std::shared_ptr<Worker> find(const std::string& name) const;
  /// The error for an unknown model, listing the ones that exist.
  Error not_found(const std::string& name) const;
  const std::vector<std::shared_ptr<Worker>>& workers() const { return workers_; }
  std::vector<std::string> model_ids() const;

  /// Starts every model with `preload: true`.
  void preload();
  /// Releases every worker; `done` runs when all are stopped.
  void release_all(bool force, std::function<void()> done);

  /// The worker holding `hold_id`, or null.
  std::shared_ptr<Worker> find_hold(const std::string& hold_id) const;

 private:
  Result<int> pick_port(const ModelConfig& m);

  ManagerDeps deps_;
  std::vector<std::shared_ptr<Worker>> workers_;
  std::map<std::string, std::shared_ptr<Worker>> by_name_;
};

}  // namespace kitty
