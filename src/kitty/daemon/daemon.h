// Daemon: assembles kittyd from a Config — state directory lock, orphan cleanup, spawner,
// manager, gateway, HTTP server, signals — and runs the event loop until SIGTERM/SIGINT,
// when every worker is stopped before run() returns.
#pragma once

#include <functional>
#include <string>

#include "kitty/base/result.h"
#include "kitty/config/config.h"

namespace kitty {

struct DaemonOptions {
  std::string version = "dev";
  /// Reads the config again for a reload (SIGHUP, POST /kitty/config/reload); null: no reload.
  std::function<Result<Config>()> reload_config;
  /// kitty-agent, which runs for ollama and remote models: the one beside kittyd unless
  /// $KITTY_AGENT names another (empty: PATH).
  std::string agent_path;
};

/// Runs kittyd; returns the process exit code (0 after a clean shutdown).
int RunDaemon(const Config& config, const DaemonOptions& opts);

}  // namespace kitty
