// How each backend starts, probes and stops a worker: turns a ModelConfig into a LaunchPlan.
// Pure functions of the config plus the filesystem checks a launch needs; no process is
// started here.
#pragma once

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
};

/// Builds the launch of model `m` listening on `port`. Checks what must hold before a spawn:
/// the binary exists and is executable, the model file exists, is readable and is GGUF.
/// Errors name the path and what is wrong, with code "launch_invalid".
Result<LaunchPlan> PlanLaunch(const ModelConfig& m, int port);

/// Where the llama-server binary for `m` is: m.llama_server_bin, else $KITTY_LLAMA_SERVER,
/// else `llama-server` on PATH. The error lists every place looked at.
Result<std::string> FindLlamaServer(const ModelConfig& m);

}  // namespace kitty
