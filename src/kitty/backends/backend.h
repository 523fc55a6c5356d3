// How each backend starts, probes and stops a worker: turns a ModelConfig into a LaunchPlan.
// Pure functions of the config plus the filesystem checks a launch needs; no process is
// started here.
#pragma once

#include <optional>
#include <string>

#include "kitty/base/result.h"
#include "kitty/config/config.h"
#include "kitty/process/spawner.h"

namespace kitty {

struct LaunchPlan {
  SpawnSpec spawn;           // argv, env, cwd; the manager fills log_path and tail
  std::string host;          // where the worker will listen
  int port = 0;
  std::string health_path;   // GET until 200
  std::string shutdown_path; // POSTed before SIGTERM when non-empty
  /// Where requests go when not to host:port: the Ollama daemon or remote server that the
  /// spawned process (kitty-agent) stands for. Unset for engines that serve themselves.
  struct Upstream {
    std::string host;
    int port = 0;
    std::string model, prefix, authorization;
  };
  std::optional<Upstream> upstream;
  /// Exit status of the process meaning "the upstream dropped the model on its own" (Ollama
  /// evicted it): recorded as an eviction and the worker goes to stopped, not failed. 0: none.
  int evicted_exit_code = 0;
};

/// Builds the launch of model `m` listening on `port`. Checks what must hold before a spawn:
/// the binary exists and is executable, the model file exists, is readable and is GGUF.
/// Errors name the path and what is wrong, with code "launch_invalid".
Result<LaunchPlan> PlanLaunch(const ModelConfig& m, int port);

/// Where the llama-server binary for `m` is: m.llama_server_bin, else $KITTY_LLAMA_SERVER,
/// else `llama-server` on PATH. The error lists every place looked at.
Result<std::string> FindLlamaServer(const ModelConfig& m);

}  // namespace kitty
