#include "kitty/http/ollama_routes.h"

#include <sys/stat.h>

#include <cstdio>

#include "kitty/http/admin_routes.h"
#include "kitty/http/reply.h"
#include "kitty/http/status_json.h"

namespace kitty::web {
namespace {

// A stable digest for a model (Ollama's is its manifest's sha256): FNV-1a of what identifies
// its weights, as 64 hex digits.
std::string Digest(const ModelConfig& c, int64_t size, int64_t mtime) {
  std::string hex;
  uint64_t h = 1469598103934665603ull;
  const std::string key = c.id + '\0' + c.model_path + '\0' + std::to_string(size) + '\0' + std::to_string(mtime);
  for (int round = 0; round < 4; ++round) {
    for (char ch : key + static_cast<char>(round)) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
    char buf[17];
    snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    hex += buf;
  }
  return hex;
}

// What Ollama says of a model's weights: the GGUF's size, family, parameters and quantization.
nlohmann::json Describe(const RouteContext& ctx, const ModelConfig& c, WallTime now) {
  int64_t size = 0, mtime = 0;
  WallTime modified = now;
  struct stat st{};
  if (!c.model_path.empty() && ::stat(c.model_path.c_str(), &st) == 0) {
    size = st.st_size;
    mtime = st.st_mtime;
    modified = WallTime(std::chrono::seconds(st.st_mtime));
  }
  const nlohmann::json g = ctx.model_info ? ctx.model_info(c) : nlohmann::json(nullptr);
  auto str = [&](const char* key) {
    return g.is_object() && g.contains(key) && g[key].is_string() ? g[key].get<std::string>() : std::string();
  };
  const std::string family = str("architecture");
  std::string params = str("size_label");
  if (params.empty() && g.is_object() && g.contains("parameter_count") && g["parameter_count"].is_number()) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.1fB", g["parameter_count"].get<double>() / 1e9);
    params = buf;
  }
  nlohmann::json details = {{"parent_model", ""},
                            {"format", c.backend == Backend::kLlamaServer ? "gguf" : BackendName(c.backend)},
                            {"family", family},
                            {"families", family.empty() ? nlohmann::json(nullptr) : nlohmann::json::array({family})},
                            {"parameter_size", params},
                            {"quantization_level", str("file_type_name")}};
  return {{"name", c.id},
          {"model", c.id},
          {"modified_at", IsoTime(modified)},
          {"size", size},
          {"digest", Digest(c, size, mtime)},
          {"details", details}};
}

}  // namespace

net::awaitable<void> OllamaRoutes::handle(Exchange& ex, const Target& t) {
  const auto method = ex.req.method();
  const bool get = method == http::verb::get || method == http::verb::head;
  if (t.path == "/api/version") {
    if (!get) co_return ReplyError(ex, MakeError("use GET /api/version", ErrorCode::kMethodNotAllowed));
    co_return Reply(ex, 200, {{"version", kOllamaApiVersion}, {"kitty_version", ctx_.version}});
  }
  if (t.path == "/api/tags" || t.path == "/api/ps") {
    if (!get) co_return ReplyError(ex, MakeError("use GET " + t.path, ErrorCode::kMethodNotAllowed));
    co_return co_await models(ex, t.path == "/api/ps");
  }
  ReplyError(ex, MakeError(std::string(ex.req.method_string()) + " " + t.path +
                               ": kittyd serves Ollama's /api/version, /api/tags and /api/ps so far; "
                               "for inference use its OpenAI routes (/v1/chat/completions, /v1/completions, "
                               "/v1/embeddings)",
                           ErrorCode::kUnsupported));
}

net::awaitable<void> OllamaRoutes::models(Exchange& ex, bool running_only) {
  // Snapshots on the control thread; the model list is the registry's (a reload may change it).
  struct Row {
    std::shared_ptr<const ModelConfig> config;
    WorkerSnapshot snap;
    std::optional<double> idle_after;  // seconds it stays once idle; nullopt: for ever
  };
  auto take = [&ctx = ctx_, running_only] {
    std::vector<Row> rows;
    for (const auto& w : ctx.manager->workers()) {
      if (running_only && w->state() != WorkerState::kReady) continue;
      Row r{w->config_snapshot(), SnapshotOf(ctx, *w), std::nullopt};
      const WorkerInfo& i = r.snap.info;
      const double configured = r.config->idle_shutdown_seconds;
      if (i.keep_alive_seconds) r.idle_after = *i.keep_alive_seconds < 0 ? std::nullopt : i.keep_alive_seconds;
      else if (configured > 0) r.idle_after = configured;
      if (r.snap.policy.pinned || r.snap.policy.pressure_evict_only || !i.holds.empty()) r.idle_after.reset();
      rows.push_back(std::move(r));
    }
    return rows;
  };
  auto rows = co_await RunOn(ctx_.control, take);
  const WallTime now = ctx_.clock->wall_now();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json m = Describe(ctx_, *r.config, now);
    if (running_only) {
      const auto& mem = r.snap.memory;
      // What it holds as last measured; before the first sample, what it is expected to hold.
      if (mem) m["size"] = mem->host_bytes() + (mem->gpu_available ? mem->gpu_bytes : 0);
      else m["size"] = r.snap.footprint.expected_bytes.value_or(0);
      m["size_vram"] = mem && mem->gpu_available ? mem->gpu_bytes : 0;
      // When it idles out if nothing comes: far in the future when it never does.
      WallTime expires = now + std::chrono::hours(24 * 365 * 100);
      if (r.idle_after) {
        const double left = *r.idle_after - r.snap.info.idle_seconds.value_or(0);
        expires = now + std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(std::max(0.0, left)));
      }
      m["expires_at"] = IsoTime(expires);
    }
    list.push_back(std::move(m));
  }
  Reply(ex, 200, {{"models", list}});
}

}  // namespace kitty::web
