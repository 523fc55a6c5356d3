// The llama_server backend: llama.cpp's llama-server with flags from the config (seed 001 §3.3).
#include <algorithm>
#include <string>
#include <vector>

#include "kitty/backends/executable.h"
#include "kitty/backends/plan.h"
#include "kitty/gguf/gguf.h"

namespace kitty {
namespace {

Error LaunchInvalid(std::string message) { return MakeError(std::move(message), ErrorCode::kLaunchInvalid); }

}  // namespace

std::vector<std::string> LlamaServerArgv(const ModelConfig& m, const std::string& bin, int port) {
  std::vector<std::string> argv = {bin, "--host", m.host, "--port", std::to_string(port), "--model", m.model_path};
  auto add = [&](const char* flag, const std::optional<int>& v) {
    if (v) {
      argv.push_back(flag);
      argv.push_back(std::to_string(*v));
    }
  };
  add("--threads", m.threads);
  add("--n-gpu-layers", m.ngl);
  add("--ctx-size", m.ctx);
  add("--batch-size", m.batch);
  add("--ubatch-size", m.ubatch);
  add("--parallel", m.parallel);
  if (m.flash_attn) {
    argv.push_back("--flash-attn");
    argv.push_back(*m.flash_attn ? "on" : "off");
  }
  if (m.jinja) argv.push_back("--jinja");
  if (!m.mmproj.empty()) {
    argv.push_back("--mmproj");
    argv.push_back(m.mmproj);
  }
  // Without --alias llama-server puts the model file's path in every answer's "model";
  // clients asked for the model id, so that is the default name.
  const std::string& alias = m.alias.empty() ? m.id : m.alias;
  const bool alias_in_extra = std::any_of(m.extra_args.begin(), m.extra_args.end(),
                                          [](const std::string& a) { return a == "--alias" || a == "-a"; });
  if (!alias.empty() && !alias_in_extra) {
    argv.push_back("--alias");
    argv.push_back(alias);
  }
  argv.insert(argv.end(), m.extra_args.begin(), m.extra_args.end());
  return argv;
}

Result<std::string> FindLlamaServerWithEnv(const ModelConfig& m, const EnvLookup& env) {
  // A configured path that is missing falls through: the default config's
  // ~/.cache/kitty/bin/llama-server still finds a llama-server on PATH.
  return FindEngineBinary("llama-server", m.llama_server_bin, "llama_server_bin", "KITTY_LLAMA_SERVER", env,
                          "run scripts/install_engine.sh or set llama_server_bin");
}

Result<std::string> FindLlamaServer(const ModelConfig& m) { return FindLlamaServerWithEnv(m, ProcessEnv()); }

// Builds the llama_server plan; PlanLaunchWithEnv adds what every backend shares.
Result<LaunchPlan> PlanLlamaServer(const ModelConfig& m, int port, const EnvLookup& env) {
  if (m.model_path.empty()) return LaunchInvalid("model '" + m.id + "' has no model_path");
  // A bad model file keeps its own code (model_file_invalid), not the generic launch_invalid.
  if (Status st = CheckGgufFile(m.model_path); !st.ok()) return st.error();
  if (!m.mmproj.empty())
    if (Status st = CheckGgufFile(m.mmproj); !st.ok())
      return MakeError("mmproj: " + st.error().message, st.error().code);
  auto bin = FindLlamaServerWithEnv(m, env);
  if (!bin.ok()) return bin.error();
  // llama-server has no shutdown endpoint; it stops on SIGTERM (one configured is honoured).
  return EnginePlan(m, LlamaServerArgv(m, *bin, port), port);
}

}  // namespace kitty
