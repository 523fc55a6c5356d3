#include "kitty/http/openai_routes.h"

#include <spdlog/spdlog.h>

#include <array>
#include <cstring>

#include "kitty/config/value_parse.h"
#include "kitty/http/chain_lease.h"
#include "kitty/http/fallback.h"
#include "kitty/http/model_field.h"
#include "kitty/http/progress_stream.h"
#include "kitty/http/proxy.h"
#include "kitty/http/reply.h"

namespace kitty::web {
namespace {

// The routes of llama-server, vLLM and OpenAI that take a JSON body with "model". The
// non-/v1 forms are llama-server's own names for the same endpoints.
constexpr std::array<std::string_view, 17> kForwarded = {
    "/v1/chat/completions", "/v1/completions",     "/v1/embeddings",
    "/v1/responses",        "/v1/rerank",          "/v1/reranking",
    "/v1/messages",         "/v1/messages/count_tokens",
    "/v1/audio/speech",     "/v1/images/generations",
    "/chat/completions",    "/completions",        "/completion",
    "/embeddings",          "/embedding",          "/rerank",
    "/infill",
};

bool IsModelList(std::string_view p) { return p == "/v1/models" || p == "/models"; }

// OpenAI's "created": Unix seconds.
int64_t UnixSeconds(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.wall_now().time_since_epoch()).count();
}

}  // namespace

bool IsForwardedRoute(std::string_view path) {
  for (auto r : kForwarded)
    if (path == r) return true;
  return false;
}

bool OpenAiRoutes::owns(const Target& t) const {
  return IsForwardedRoute(t.path) || IsModelList(t.path) || t.path.starts_with("/v1/");
}

net::awaitable<void> OpenAiRoutes::handle(Exchange& ex, const Target& t) {
  const auto method = ex.req.method();
  if (IsModelList(t.path)) {
    if (method != http::verb::get && method != http::verb::head)
      co_return ReplyError(ex, MakeError("use GET " + t.path, ErrorCode::kMethodNotAllowed));
    co_return co_await list_models(ex);
  }
  if (t.path.starts_with("/v1/models/")) {
    if (method != http::verb::get && method != http::verb::head)
      co_return ReplyError(ex, MakeError("use GET " + t.path, ErrorCode::kMethodNotAllowed));
    co_return co_await one_model(ex, t.path.substr(strlen("/v1/models/")));
  }
  if (IsForwardedRoute(t.path)) {
    if (method != http::verb::post)
      co_return ReplyError(ex, MakeError("use POST " + t.path, ErrorCode::kMethodNotAllowed));
    co_return co_await forward(ex, t);
  }
  co_return ReplyError(ex, MakeError("no route for " + std::string(ex.req.method_string()) + " " +
                                         t.path + " (kittyd forwards the OpenAI inference routes: "
                                         "/v1/chat/completions, /v1/completions, /v1/embeddings, ...)",
                                     ErrorCode::kRouteNotFound));
}

net::awaitable<void> OpenAiRoutes::forward(Exchange& ex, const Target& t) {
  if (*ctx_.shutting_down)
    co_return ReplyError(ex, MakeError("kittyd is shutting down", ErrorCode::kShuttingDown));
  auto model = ReadModelField(ex.req.body());
  if (!model) co_return ReplyError(ex, model.error());
  auto w = ctx_.manager->find(*model);
  if (!w) co_return ReplyModelNotFound(ex, *ctx_.manager, *model);
  if (ctx_.server.log_bodies)
    spdlog::info("request to '{}' {}: {}", w->id(), t.path, ex.req.body());

  // X-Kitty-Keep-Alive: Ollama's per-request keep_alive on the OpenAI routes.
  std::optional<double> keep_alive;
  if (auto h = ex.req.find("X-Kitty-Keep-Alive"); h != ex.req.end()) {
    auto d = ParseDuration(std::string_view(h->value().data(), h->value().size()));
    if (!d) co_return ReplyError(ex, MakeError("X-Kitty-Keep-Alive: " + d.error().message, ErrorCode::kInvalidRequest));
    keep_alive = *d;
  }

  // The model asked for, then its fallbacks: each is tried while the ones before it are
  // failed, backing off, or cannot start or fit.
  const auto primary = w->config_snapshot();
  const auto chain = FallbackChain(*ctx_.manager, w, *primary, ex.req.body());
  // X-Kitty-Progress: a streamed request that waits for a start sees the load as comments.
  const bool show_progress = ProgressStream::Wanted(ex);
  ProgressStream progress(ex, w->id());
  AcquireFn acquire = [control = ctx_.control, &progress, show_progress](std::shared_ptr<Worker> cand) {
    return show_progress ? AcquireShowingProgress(control, std::move(cand), progress)
                         : AcquireLease(control, std::move(cand));
  };
  std::function<bool()> gone = [&progress] { return progress.client_gone(); };
  ChainLease got = co_await LeaseFromChain(ctx_.control, chain, acquire, gone);
  if (got.client_gone) {
    ex.model = chain[got.index]->id();
    ex.keep_alive = false;
    co_return;
  }
  if (got.lease) {
    const auto& cand = chain[got.index];
    const auto cfg = got.index == 0 ? primary : cand->config_snapshot();
    co_await SetKeepAlive(ctx_.control, cand, keep_alive);
    if (got.index > 0) ex.req.body() = WithModel(ex.req.body(), cand->id());
    ex.model = cand->id();
    ProxyOptions po;
    po.model_id = cand->id();
    po.busy_timeout = std::chrono::milliseconds(static_cast<int64_t>(cfg->busy_timeout_seconds * 1000));
    if (progress.started()) {
      po.head_sent = true;
      po.rewrite = progress.relay();
    }
    co_return co_await ProxyToWorker(ex, *got.lease, t.forward(), po);
  }
  // Nobody could serve it: the error of the model asked for, with what its fallbacks said.
  ex.model = w->id();
  const Error& e = got.error;
  nlohmann::json extra = nullptr;
  if (Describe(e.code).code == "worker_start_failed" || e.code == ErrorCode::kStartTimeout) {
    auto log_tail = [w] { return w->log()->current_run(20); };
    auto tail = co_await RunOn(ctx_.control, log_tail);
    extra = {{"model_id", w->id()}, {"log_tail", tail}};
  } else if (e.code == ErrorCode::kNoRoom || e.code == ErrorCode::kNoRoomBusy) {
    extra = {{"model_id", w->id()}};
  }
  if (progress.started()) co_return co_await EndStreamWithError(ex, e, extra);
  co_return ReplyError(ex, e, extra);
}

net::awaitable<void> OpenAiRoutes::list_models(Exchange& ex) {
  const int64_t created = UnixSeconds(*ctx_.clock);
  const auto workers = ctx_.manager->workers();  // one snapshot: a reload may come meanwhile
  auto states_of = [workers] {
    std::vector<std::string> s;
    for (const auto& w : workers) s.push_back(WorkerStateName(w->state()));
    return s;
  };
  auto states = co_await RunOn(ctx_.control, states_of);
  nlohmann::json data = nlohmann::json::array();
  for (size_t i = 0; i < workers.size(); ++i) {
    const auto cfg = workers[i]->config_snapshot();
    const ModelConfig& c = *cfg;
    data.push_back({{"id", c.id},
                    {"object", "model"},
                    {"created", created},
                    {"owned_by", "kitty"},
                    {"status", states[i]},
                    {"aliases", c.aliases},  // `alias` is among them (the config folds it in)
                    {"backend", BackendName(c.backend)},
                    {"gguf", ctx_.model_info ? ctx_.model_info(c) : nlohmann::json(nullptr)}});
  }
  Reply(ex, 200, {{"object", "list"}, {"data", data}});
}

net::awaitable<void> OpenAiRoutes::one_model(Exchange& ex, const std::string& name) {
  auto w = ctx_.manager->find(name);
  if (!w) co_return ReplyModelNotFound(ex, *ctx_.manager, name);
  auto state_of = [w] { return std::string(WorkerStateName(w->state())); };
  auto state = co_await RunOn(ctx_.control, state_of);
  // OpenAI's Model object (id, object, created, owned_by), with what the list says of it.
  const auto cfg = w->config_snapshot();
  Reply(ex, 200, {{"id", w->id()},
                  {"object", "model"},
                  {"created", UnixSeconds(*ctx_.clock)},
                  {"owned_by", "kitty"},
                  {"status", state},
                  {"aliases", cfg->aliases},
                  {"backend", BackendName(cfg->backend)}});
}

}  // namespace kitty::web
