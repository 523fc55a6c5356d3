// The per-backend planners behind PlanLaunch (backend.h), with the environment passed in so
// tests control $KITTY_LLAMA_SERVER and $PATH. Callers outside backends/ use backend.h.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kitty/backends/backend.h"
#include "kitty/config/env_expand.h"

namespace kitty {

/// kitty-agent: $KITTY_AGENT (kittyd sets it to the one beside itself), else PATH.
Result<std::string> FindAgent(const EnvLookup& env);

/// PlanLaunch with an explicit environment.
Result<LaunchPlan> PlanLaunchWithEnv(const ModelConfig& m, int port, const EnvLookup& env);

/// FindLlamaServer with an explicit environment.
Result<std::string> FindLlamaServerWithEnv(const ModelConfig& m, const EnvLookup& env);

/// llama-server's argv for `m` (no filesystem checks): [bin, --host, H, --port, P, --model, M],
/// then each set option's flag, then extra_args verbatim.
std::vector<std::string> LlamaServerArgv(const ModelConfig& m, const std::string& bin, int port);

/// The plan of an engine that serves itself on host:port (llama-server, mlx_lm.server): `argv`,
/// the model's env and cwd, its health path (/health unless set) and shutdown path.
LaunchPlan EnginePlan(const ModelConfig& m, std::vector<std::string> argv, int port);

/// mlx_lm.server's argv for `m`: [bin, --model, M, --host, H, --port, P], then extra_args.
std::vector<std::string> MlxServerArgv(const ModelConfig& m, const std::string& bin, int port);

/// Replaces ${PORT} ${HOST} ${MODEL_PATH} ${MODEL_ID} ${THREADS} ${CTX} (and their
/// ${NAME:-default} forms) in `s`. Any other ${...} is left as it is. Error when a placeholder
/// has no value and no default (MODEL_PATH, THREADS or CTX not set in the config).
Result<std::string> ExpandLaunchPlaceholders(std::string_view s, const ModelConfig& m, int port);

}  // namespace kitty
