// The mlx backend (seed 004): Apple's MLX through mlx-lm's OpenAI-compatible server,
// `mlx_lm.server --model M --host H --port P` (pip install mlx-lm, on Apple silicon). One model
// per process, as every kittyd worker: kittyd's scheduler does what seed 004's pool planned
// (memory limit, LRU eviction), across engines. Health: GET /v1/models (mlx_lm.server answers it
// once the model is loaded). Stop: SIGTERM (it has no shutdown route).
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "kitty/backends/executable.h"
#include "kitty/backends/plan.h"

namespace kitty {
namespace {

Error LaunchInvalid(std::string message) { return MakeError(std::move(message), ErrorCode::kLaunchInvalid); }

// A local model is a directory (the loader has expanded ~); anything else is a Hugging Face
// repo id ("org/name") that mlx-lm fetches into its own cache.
bool LooksLikeLocalPath(const std::string& p) {
  return p.starts_with('/') || p.starts_with("./") || p.starts_with("../");
}

Status CheckDirectory(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return MakeError(std::string("cannot be read: ") + strerror(errno));
  if (!S_ISDIR(st.st_mode)) return MakeError("is not a directory (an MLX model is a directory of safetensors and config.json)");
  return Status::Ok();
}

}  // namespace

std::vector<std::string> MlxServerArgv(const ModelConfig& m, const std::string& bin, int port) {
  std::vector<std::string> argv = {bin, "--model", m.model_path, "--host", m.host, "--port", std::to_string(port)};
  argv.insert(argv.end(), m.extra_args.begin(), m.extra_args.end());
  return argv;
}

Result<LaunchPlan> PlanMlx(const ModelConfig& m, int port, const EnvLookup& env) {
  if (m.model_path.empty()) return LaunchInvalid("model '" + m.id + "' has no model_path");
  if (LooksLikeLocalPath(m.model_path)) {
    if (Status st = CheckDirectory(m.model_path); !st.ok())
      return MakeError("model '" + m.id + "': model_path '" + m.model_path + "' " + st.error().message,
                       ErrorCode::kModelFileInvalid);
  }
  auto bin = FindEngineBinary("mlx_lm.server", m.mlx_server_bin, "mlx_server_bin", "KITTY_MLX_SERVER", env,
                              "pip install mlx-lm, on Apple silicon; or set mlx_server_bin");
  if (!bin.ok()) return MakeError("model '" + m.id + "': " + bin.error().message, bin.error().code);
  return EnginePlan(m, MlxServerArgv(m, *bin, port), port);  // health: the loader's /v1/models
}

}  // namespace kitty
