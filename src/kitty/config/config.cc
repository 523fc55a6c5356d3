#include "kitty/config/config.h"

#include <algorithm>
#include <cstdio>
#include <tuple>
#include <utility>

#include "kitty/base/bytes.h"

namespace kitty {

const char* BackendName(Backend b) {
  switch (b) {
    case Backend::kLlamaServer: return "llama_server";
    case Backend::kCommand: return "command";
    case Backend::kOllama: return "ollama";
    case Backend::kRemote: return "remote";
    case Backend::kMlx: return "mlx";
  }
  return "unknown";
}

ModelConfig AtRung(const ModelConfig& base, int rung) {
  ModelConfig m = base;
  if (rung <= 0 || base.downgrade.empty()) return m;
  rung = std::min<int>(rung, static_cast<int>(base.downgrade.size()));
  const ModelRung& r = base.downgrade[static_cast<size_t>(rung - 1)];
  m.rung = rung;
  for (auto [field, value] : {std::pair{&ModelConfig::threads, r.threads}, {&ModelConfig::ngl, r.ngl},
                              {&ModelConfig::ctx, r.ctx}, {&ModelConfig::batch, r.batch},
                              {&ModelConfig::ubatch, r.ubatch}, {&ModelConfig::parallel, r.parallel}})
    if (value) m.*field = value;
  if (r.flash_attn) m.flash_attn = r.flash_attn;
  if (r.memory_bytes) m.memory_bytes = r.memory_bytes;
  if (r.extra_args) m.extra_args = *r.extra_args;
  return m;
}

ConfigChange CompareModels(const ModelConfig& a, const ModelConfig& b) {
  // What the worker process is: any change means a new process.
  auto runs = [](const ModelConfig& m) {
    return std::tie(m.id, m.backend, m.host, m.port, m.model_path, m.llama_server_bin, m.mlx_server_bin, m.threads, m.ngl,
                    m.ctx, m.batch, m.ubatch, m.parallel, m.flash_attn, m.jinja, m.mmproj, m.alias,
                    m.extra_args, m.command, m.shell, m.ollama_model, m.ollama_url, m.ollama_pull, m.ollama_modelfile,
                    m.remote_url, m.remote_model, m.remote_api_key_env, m.env, m.cwd, m.rung);
  };
  // How kittyd treats it: applied to the running worker.
  auto rungs = [](const ModelConfig& m) {
    std::vector<std::string> t;
    for (const auto& r : m.downgrade) t.push_back(r.text);
    return t;
  };
  auto treats = [](const ModelConfig& m) {
    return std::tie(m.aliases, m.health_path, m.shutdown_path, m.memory_bytes, m.pinned,
                    m.pressure_evict_only, m.priority, m.idle_shutdown_seconds, m.stop_timeout_seconds,
                    m.start_timeout_seconds, m.preload, m.restart, m.max_restarts,
                    m.liveness_interval_seconds, m.liveness_failures, m.busy_timeout_seconds, m.fallback);
  };
  if (runs(a) != runs(b)) return ConfigChange::kRestart;
  if (treats(a) != treats(b) || rungs(a) != rungs(b)) return ConfigChange::kLive;
  return ConfigChange::kNone;
}

double ServerConfig::BodyTimeout(uint64_t bytes) const {
  constexpr uint64_t kMiB = 1ull << 20;
  const uint64_t mib = std::max<uint64_t>(1, bytes / kMiB + (bytes % kMiB != 0));
  // Callers turn this into a std::chrono deadline, whose nanoseconds overflow after ~292
  // years; a huge declared length must not wrap around to a deadline in the past.
  constexpr double kMaxSeconds = 1e9;
  return std::min(kMaxSeconds, static_cast<double>(mib) * body_timeout_seconds);
}

std::optional<uint64_t> MemoryBudget::Resolve(uint64_t total) const {
  switch (kind) {
    case Kind::kAuto: return std::nullopt;
    case Kind::kBytes: return bytes;
    case Kind::kPercent: return static_cast<uint64_t>(static_cast<double>(total) * percent / 100.0);
  }
  return std::nullopt;
}

std::string MemoryBudget::Describe() const {
  switch (kind) {
    case Kind::kAuto: return "auto";
    case Kind::kBytes: return FormatBytes(bytes);
    case Kind::kPercent: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g%%", percent);
      return buf;
    }
  }
  return "?";
}

}  // namespace kitty
