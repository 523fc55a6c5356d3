// Daemon: assembles kittyd from a Config — state directory lock, orphan cleanup, spawner,
// manager, gateway, HTTP server, signals — and runs the event loop until SIGTERM/SIGINT,
// when every worker is stopped before run() returns.
#pragma once

#include <string>

#include "kitty/config/config.h"

namespace kitty {

struct DaemonOptions {
  std::string version = "dev";
};

/// Runs kittyd; returns the process exit code (0 after a clean shutdown).
int RunDaemon(const Config& config, const DaemonOptions& opts);

}  // namespace kitty
