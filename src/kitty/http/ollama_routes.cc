#include "kitty/http/ollama_routes.h"

#include <sys/stat.h>

#include <cstdio>

#include "kitty/http/admin_routes.h"
#include "kitty/http/chain_lease.h"
#include "kitty/http/fallback.h"
#include "kitty/http/model_field.h"
#include "kitty/http/control.h"
#include "kitty/http/ollama_translate.h"
#include "kitty/http/proxy.h"
#include "kitty/http/reply.h"
#include "kitty/http/status_json.h"
#include "kitty/worker/upstream_status.h"

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
nlohmann::json ModelEntry(const RouteContext& ctx, const ModelConfig& c, WallTime now) {
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

std::optional<OllamaCall> InferenceCall(std::string_view path) {
  if (path == "/api/chat") return OllamaCall::kChat;
  if (path == "/api/generate") return OllamaCall::kGenerate;
  if (path == "/api/embed") return OllamaCall::kEmbed;
  if (path == "/api/embeddings") return OllamaCall::kEmbeddings;
  return std::nullopt;
}

// Ollama's error shape ({"error": "message"}), with kittyd's status, and its code and reason
// beside it for clients that tell errors apart (Ollama's own clients read only "error").
void ReplyOllamaError(Exchange& ex, const Error& e, nlohmann::json extra = nlohmann::json::object()) {
  const ErrorCodeInfo info = Describe(e.code);
  extra["error"] = e.message;
  extra["code"] = info.code;
  if (!info.reason.empty()) extra["reason"] = info.reason;
  Response res = MakeJsonResponse(info.http_status, extra, ex.req.version(), ex.keep_alive);
  SetRetryAfter(res, e.code);
  ex.respond(std::move(res));
}

}  // namespace

net::awaitable<void> OllamaRoutes::infer(Exchange& ex, int call_int) {
  const auto call = static_cast<OllamaCall>(call_int);
  const auto started = std::chrono::steady_clock::now();
  if (*ctx_.shutting_down) co_return ReplyOllamaError(ex, MakeError("kittyd is shutting down", ErrorCode::kShuttingDown));
  auto req = TranslateOllama(call, ex.req.body());
  if (!req) co_return ReplyOllamaError(ex, req.error());
  auto w = ctx_.manager->find(req->model);
  if (!w) co_return ReplyOllamaError(ex, ctx_.manager->not_found(req->model), {{"available", ctx_.manager->model_ids()}});
  if (req->load_only) {
    // Ollama's load (and, with keep_alive 0, unload) without a prompt.
    const bool unload = req->keep_alive && *req->keep_alive == 0;
    if (unload) {
      auto release_it = [w](std::function<void()> done) { w->release(false, std::move(done)); };
      co_await UntilDone(ctx_.control, release_it);
    } else {
      auto r = co_await EnsureReady(ctx_.control, w);
      if (!r) co_return ReplyOllamaError(ex, r.error());
      co_await SetKeepAlive(ctx_.control, w, req->keep_alive);
    }
    co_return Reply(ex, 200, OllamaLoadAnswer(call, w->id(), unload));
  }
  ex.model = w->id();
  // The model asked for, then its fallbacks, as on the OpenAI routes.
  const auto primary = w->config_snapshot();
  const auto chain = FallbackChain(*ctx_.manager, w, *primary, ex.req.body());
  AcquireFn acquire = [control = ctx_.control](std::shared_ptr<Worker> cand) {
    return AcquireLease(control, std::move(cand));
  };
  std::function<bool()> gone;
  ChainLease got = co_await LeaseFromChain(ctx_.control, chain, acquire, gone);
  if (!got.lease) co_return ReplyOllamaError(ex, got.error);
  const auto& served = chain[got.index];
  co_await SetKeepAlive(ctx_.control, served, req->keep_alive);
  const auto cfg = got.index == 0 ? primary : served->config_snapshot();
  ex.model = served->id();
  ProxyOptions po;
  po.model_id = served->id();
  po.busy_timeout = std::chrono::milliseconds(static_cast<int64_t>(cfg->busy_timeout_seconds * 1000));
  std::string target = req->target;
  if (cfg->backend == Backend::kOllama) {
    // An Ollama backend speaks this API itself: the request goes through as it came (the
    // proxy renames the model), without the keep_alive, which is kittyd's to apply.
    target = std::string(ex.req.target());
    ex.req.body() = WithoutKeepAlive(ex.req.body());
  } else {
    ex.req.body() = req->openai_body;
    // The answer names the model asked for, as Ollama's do (a fallback serves in its place).
    po.rewrite = OllamaAnswer(call, req->model, req->stream, started);
  }
  if (got.index > 0) ex.req.body() = WithModel(ex.req.body(), served->id());
  ex.req.set(http::field::content_type, "application/json");
  co_await ProxyToWorker(ex, *got.lease, target, po);
}

void OllamaRoutes::show(Exchange& ex) {
  auto body = nlohmann::json::parse(ex.req.body(), nullptr, false);
  std::string name;
  for (const char* key : {"model", "name"})
    if (name.empty() && body.is_object() && body.contains(key) && body[key].is_string()) name = body[key];
  if (name.empty()) return ReplyOllamaError(ex, MakeError("\"model\" is required", ErrorCode::kMissingModel));
  auto w = ctx_.manager->find(name);
  if (!w) return ReplyOllamaError(ex, ctx_.manager->not_found(name), {{"available", ctx_.manager->model_ids()}});
  const auto cfg = w->config_snapshot();
  nlohmann::json m = ModelEntry(ctx_, *cfg, ctx_.clock->wall_now());
  // The GGUF header's facts, under Ollama's "general." / "<arch>." names where they exist.
  nlohmann::json info = nlohmann::json::object();
  const nlohmann::json g = ctx_.model_info ? ctx_.model_info(*cfg) : nlohmann::json(nullptr);
  if (g.is_object()) {
    const std::string arch = g.value("architecture", nlohmann::json(nullptr)).is_string() ? g["architecture"].get<std::string>() : "";
    if (!arch.empty()) info["general.architecture"] = arch;
    if (g.contains("parameter_count") && g["parameter_count"].is_number()) info["general.parameter_count"] = g["parameter_count"];
    for (const char* k : {"context_length", "block_count", "embedding_length", "head_count", "head_count_kv"})
      if (!arch.empty() && g.contains(k) && g[k].is_number()) info[arch + "." + k] = g[k];
  }
  std::vector<std::string> caps = {"completion"};
  if (!cfg->mmproj.empty()) caps.push_back("vision");
  Reply(ex, 200, {{"modelfile", ""},
                  {"parameters", ""},
                  {"template", ""},
                  {"details", m["details"]},
                  {"model_info", info},
                  {"capabilities", caps},
                  {"modified_at", m["modified_at"]}});
}

net::awaitable<void> OllamaRoutes::handle(Exchange& ex, const Target& t) {
  const auto method = ex.req.method();
  const bool get = method == http::verb::get || method == http::verb::head;
  if (t.path == "/api/version") {
    if (!get) co_return ReplyOllamaError(ex, MakeError("use GET /api/version", ErrorCode::kMethodNotAllowed));
    co_return Reply(ex, 200, {{"version", kOllamaApiVersion}, {"kitty_version", ctx_.version}});
  }
  if (t.path == "/api/tags" || t.path == "/api/ps") {
    if (!get) co_return ReplyOllamaError(ex, MakeError("use GET " + t.path, ErrorCode::kMethodNotAllowed));
    co_return co_await models(ex, t.path == "/api/ps");
  }
  if (t.path == "/api/show") {
    if (method != http::verb::post) co_return ReplyOllamaError(ex, MakeError("use POST /api/show", ErrorCode::kMethodNotAllowed));
    co_return show(ex);
  }
  if (const auto call = InferenceCall(t.path)) {
    if (method != http::verb::post)
      co_return ReplyOllamaError(ex, MakeError("use POST " + t.path, ErrorCode::kMethodNotAllowed));
    co_return co_await infer(ex, static_cast<int>(*call));
  }
  ReplyOllamaError(ex, MakeError(std::string(ex.req.method_string()) + " " + t.path +
                                     ": not served by kittyd (it serves Ollama's /api/version, /api/tags, /api/ps, "
                                     "/api/show, /api/chat, /api/generate, /api/embed and /api/embeddings; models "
                                     "are managed in its config, not pulled)",
                                 ErrorCode::kUnsupported));
}

net::awaitable<void> OllamaRoutes::models(Exchange& ex, bool running_only) {
  // Snapshots on the control thread; the model list is the registry's (a reload may change it).
  struct Row {
    std::shared_ptr<const ModelConfig> config;
    WorkerSnapshot snap;
  };
  auto take = [&ctx = ctx_, running_only] {
    std::vector<Row> rows;
    for (const auto& w : ctx.manager->workers())
      if (!running_only || w->state() == WorkerState::kReady) rows.push_back({w->config_snapshot(), SnapshotOf(ctx, *w)});
    return rows;
  };
  auto rows = co_await RunOn(ctx_.control, take);
  const WallTime now = ctx_.clock->wall_now();
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json m = ModelEntry(ctx_, *r.config, now);
    if (running_only) {
      const auto& mem = r.snap.memory;
      // What it holds as last measured; before the first sample, what it is expected to hold.
      if (mem) m["size"] = mem->host_bytes() + (mem->gpu_available ? mem->gpu_bytes : 0);
      else m["size"] = r.snap.footprint.expected_bytes.value_or(0);
      m["size_vram"] = mem && mem->gpu_available ? mem->gpu_bytes : 0;
      // A model inside Ollama: Ollama's own figures (its agent's process holds next to nothing).
      if (auto up = UpstreamMemoryOf(r.snap.info)) {
        m["size"] = up->size_bytes;
        m["size_vram"] = up->size_vram_bytes;
      }
      // When it idles out if nothing comes: far in the future when it never does.
      WallTime expires = now + std::chrono::hours(24 * 365 * 100);
      if (const auto left = r.snap.info.idles_out_in_seconds)
        expires = now + std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(*left));
      m["expires_at"] = IsoTime(expires);
    }
    list.push_back(std::move(m));
  }
  Reply(ex, 200, {{"models", list}});
}

}  // namespace kitty::web
