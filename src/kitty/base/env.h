// Env: what the daemon's parts need from the outside world, in one place, so a test swaps the
// whole world for fakes (fake clock, fake spawner, fake ports...) in one line and the daemon
// wires the real ones once (daemon/daemon.cc). Every pointer outlives the parts that use it.
//
// Thread rules: clock, spawner, worker_http, ports and events belong to the control loop; the
// blocking pool is thread-safe; memory and fs are blocking calls, made from the blocking pool.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "kitty/base/result.h"

namespace kitty {

class Clock;
class Spawner;
class WorkerHttp;
class PortAllocator;
class EventBus;
class BlockingPool;
class MemoryProbe;
class FileSystem;
class StartAdmission;
struct LaunchPlan;
struct OomCounts;
struct ModelConfig;

struct Env {
  Clock* clock = nullptr;
  Spawner* spawner = nullptr;
  WorkerHttp* worker_http = nullptr;
  PortAllocator* ports = nullptr;
  EventBus* events = nullptr;
  BlockingPool* blocking = nullptr;
  MemoryProbe* memory = nullptr;
  FileSystem* fs = nullptr;
  /// Decides whether a start fits the memory budget (the manager's Scheduler); null: always.
  StartAdmission* admission = nullptr;
  /// How a model is launched; PlanLaunch (backends/backend.h) when empty.
  std::function<Result<LaunchPlan>(const ModelConfig&, int port)> plan_launch;
  /// The kernel's OOM-kill counters (process/oom_counts.h), read at each spawn and exit to tell
  /// an OOM kill from another SIGKILL; empty: none (a kill kittyd did not send is then a
  /// probable OOM kill).
  std::function<OomCounts()> oom_counts;
  /// Why a model cannot be served now for a reason outside its worker (the Ollama daemon is
  /// down and nobody restarts it): its start fails at once and its requests go to fallbacks.
  /// Empty: never.
  std::function<std::optional<Error>(const ModelConfig&)> upstream_unavailable;
  /// <logs_dir>/<model id>.log; empty: no log files.
  std::string logs_dir;
};

}  // namespace kitty
