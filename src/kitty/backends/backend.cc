#include "kitty/backends/backend.h"

#include <sys/stat.h>

#include "kitty/backends/plan.h"

namespace kitty {

// Defined in llama_server.cc, command_backend.cc, agent_backend.cc and mlx_backend.cc.
Result<LaunchPlan> PlanLlamaServer(const ModelConfig& m, int port, const EnvLookup& env);
Result<LaunchPlan> PlanCommand(const ModelConfig& m, int port, const EnvLookup& env);
Result<LaunchPlan> PlanAgent(const ModelConfig& m, int port, const EnvLookup& env);
Result<LaunchPlan> PlanMlx(const ModelConfig& m, int port, const EnvLookup& env);

LaunchPlan EnginePlan(const ModelConfig& m, std::vector<std::string> argv, int port) {
  LaunchPlan plan;
  plan.spawn.argv = std::move(argv);
  plan.spawn.env = m.env;
  plan.spawn.cwd = m.cwd;
  plan.host = m.host;
  plan.port = port;
  plan.health_path = m.health_path.empty() ? "/health" : m.health_path;
  plan.shutdown_path = m.shutdown_path;  // none by default: these engines stop on SIGTERM
  return plan;
}

Result<LaunchPlan> PlanLaunchWithEnv(const ModelConfig& m, int port, const EnvLookup& env) {
  if (port < 1 || port > 65535)
    return MakeError("model '" + m.id + "': port " + std::to_string(port) + " is outside 1..65535",
                     ErrorCode::kLaunchInvalid);
  if (!m.cwd.empty()) {
    struct stat st;
    if (stat(m.cwd.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return MakeError("model '" + m.id + "': cwd '" + m.cwd + "' is not a directory", ErrorCode::kLaunchInvalid);
  }
  Result<LaunchPlan> plan = MakeError("unreachable");
  switch (m.backend) {
    case Backend::kLlamaServer:
      plan = PlanLlamaServer(m, port, env);
      break;
    case Backend::kCommand:
      plan = PlanCommand(m, port, env);
      break;
    case Backend::kOllama:
    case Backend::kRemote:
      plan = PlanAgent(m, port, env);
      break;
    case Backend::kMlx:
      plan = PlanMlx(m, port, env);
      break;
  }
  if (!plan.ok()) return plan;
  // The seed's worker contract: a worker learns who it is from its environment.
  plan->spawn.env["KITTY_MODEL_ID"] = m.id;
  plan->spawn.env["KITTY_PORT"] = std::to_string(port);
  return plan;
}

Result<LaunchPlan> PlanLaunch(const ModelConfig& m, int port) { return PlanLaunchWithEnv(m, port, ProcessEnv()); }

}  // namespace kitty
