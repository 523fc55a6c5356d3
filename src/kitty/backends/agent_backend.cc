// Backends ollama and remote: kittyd runs kitty-agent (src/kitty_agent/agent.h) for the model,
// which loads it upstream and answers health for it, while requests go straight to the upstream
// (LaunchPlan::upstream), with the model name that upstream knows and, for a remote, its key.
#include <string>
#include <vector>

#include "kitty/backends/executable.h"
#include "kitty/base/http_url.h"
#include "kitty/backends/plan.h"

namespace kitty {
namespace {

Error LaunchInvalid(std::string message) { return MakeError(std::move(message), ErrorCode::kLaunchInvalid); }

// The agent's own exit code for "the upstream unloaded the model on its own" (agent.h).
constexpr int kAgentEvictedExit = 3;
// How long the agent's keep_alive lease in Ollama lasts, renewed at a third: a kittyd that dies
// leaves the model loaded this long at most.
constexpr const char* kOllamaLease = "300s";

}  // namespace

Result<std::string> FindAgent(const EnvLookup& env) {
  std::vector<std::string> looked;
  if (auto p = env("KITTY_AGENT"); p && !p->empty()) {
    if (CheckExecutable(*p).ok()) return *p;
    looked.push_back("$KITTY_AGENT=" + *p);
  }
  auto path = env("PATH");
  if (auto p = FindInPath("kitty-agent", path ? *path : ""); p.ok()) return *p;
  looked.push_back("PATH");
  std::string where;
  for (const auto& l : looked) where += (where.empty() ? "" : ", ") + l;
  return LaunchInvalid("kitty-agent (which kittyd runs for ollama and remote models) was not found (looked at " +
                       where + "); install it beside kittyd");
}

Result<LaunchPlan> PlanAgent(const ModelConfig& m, int port, const EnvLookup& env) {
  auto agent = FindAgent(env);
  if (!agent) return agent.error();
  const bool ollama = m.backend == Backend::kOllama;
  const std::string& url = ollama ? m.ollama_url : m.remote_url;
  auto u = ParseHttpUrl(url);
  if (!u) return LaunchInvalid("model '" + m.id + "': " + (ollama ? "ollama_url " : "remote_url ") + u.error().message);

  LaunchPlan plan;
  plan.host = m.host;
  plan.port = port;
  plan.health_path = "/health";
  LaunchPlan::Upstream up{u->host, u->port, ollama ? m.ollama_model : (m.remote_model.empty() ? m.id : m.remote_model),
                          u->prefix, ""};
  auto& argv = plan.spawn.argv;
  argv = {*agent, ollama ? "ollama" : "remote", "--url", url, "--model", up.model, "--host", m.host,
          "--port", std::to_string(port)};
  if (ollama) {
    argv.insert(argv.end(), {"--lease", kOllamaLease});
    if (auto bin = env("KITTY_OLLAMA_BIN"); bin && !bin->empty()) plan.spawn.env["KITTY_OLLAMA_BIN"] = *bin;
    if (m.ollama_pull) argv.push_back("--pull");
    if (!m.ollama_modelfile.empty()) argv.insert(argv.end(), {"--modelfile", m.ollama_modelfile});
    plan.evicted_exit_code = kAgentEvictedExit;
  } else if (!m.remote_api_key_env.empty()) {
    auto key = env(m.remote_api_key_env);
    if (!key || key->empty())
      return LaunchInvalid("model '" + m.id + "': the environment variable " + m.remote_api_key_env +
                           " (remote_api_key_env) is not set in kittyd's environment");
    // Passed in the agent's environment, never on its command line (ps shows argv).
    plan.spawn.env["KITTY_REMOTE_API_KEY"] = *key;
    up.authorization = "Bearer " + *key;
  }
  for (const auto& [k, v] : m.env) plan.spawn.env[k] = v;
  plan.spawn.cwd = m.cwd;
  plan.upstream = std::move(up);
  return plan;
}

}  // namespace kitty
