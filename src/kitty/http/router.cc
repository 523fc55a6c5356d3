#include "kitty/http/router.h"

#include <spdlog/spdlog.h>

#include "kitty/http/auth.h"
#include "kitty/http/metrics_route.h"
#include "kitty/http/ui_route.h"
#include "kitty/http/reply.h"
#include "kitty/http/request_log.h"
#include "kitty/metrics/request_metrics.h"

namespace kitty::web {

Router::Router(RouteContext ctx) : ctx_(std::move(ctx)), openai_(ctx_), ollama_(ctx_), admin_(ctx_) {}

net::awaitable<void> Router::handle(Exchange& ex) {
  const auto began = std::chrono::steady_clock::now();
  ex.request_id = RequestIdOf(ex.req);
  // The one place a route's exception is caught: the client gets a 500 naming it instead of a
  // dropped connection (or, mid-answer, the connection ends: its answer cannot be finished).
  std::optional<std::string> failure;
  try {
    co_await route(ex);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (failure) {
    spdlog::error("http: {} {} failed: {}", std::string(ex.req.method_string()), std::string(ex.req.target()), *failure);
    if (ex.response_started) ex.keep_alive = false;
    else ReplyError(ex, MakeError("kittyd could not answer this request: " + *failure, ErrorCode::kInternal));
  }
  if (ex.response) ex.response->set("X-Request-Id", ex.request_id);  // the proxy sends its own
  if (ex.model.empty() && !ex.inference) co_return;
  // Requests that reached a model are counted for /metrics (an unknown model's are not: its
  // name is the client's), and every gateway request is logged: the status the client got
  // (the proxy's, or kittyd's own answer), the time to the worker's first byte, SSE events.
  const int status = ex.response ? static_cast<int>(ex.response->result_int()) : ex.proxied_status;
  std::optional<double> ttfb;
  if (ex.first_byte) ttfb = std::chrono::duration<double>(*ex.first_byte - began).count();
  if (ctx_.metrics && !ex.model.empty()) ctx_.metrics->request(ex.model, status, ttfb, ex.sse_events);
  RequestRecord r;
  r.id = ex.request_id;
  r.method = std::string_view(ex.req.method_string().data(), ex.req.method_string().size());
  const std::string_view target(ex.req.target().data(), ex.req.target().size());
  r.path = target.substr(0, target.find('?'));  // a query may carry what is not ours to log
  r.model = ex.model;
  r.status = status;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  r.first_byte_seconds = ttfb;
  r.request_bytes = ex.req.body().size();
  r.response_bytes = ex.response ? ex.response->body().size() : ex.response_bytes;
  LogRequest(r);
}

net::awaitable<void> Router::route(Exchange& ex) {
  auto target = ParseTarget(ex.req.target());
  if (!target) co_return ReplyError(ex, target.error());
  const Target& t = *target;
  const std::string_view auth = ex.req[http::field::authorization];

  if (t.path == "/health" || t.path == "/kitty/health") {  // always open, as docs/API.md says
    if (ex.req.method() != http::verb::get && ex.req.method() != http::verb::head)
      co_return ReplyError(ex, MakeError("use GET /health", ErrorCode::kMethodNotAllowed));
    co_return co_await admin_.health(ex);
  }
  // An admin key may do what an API key may (kittyctl carries one key: `kittyctl models`
  // reads /v1/models with it).
  auto may_infer = [&] {
    return Authorized(ctx_.server.api_keys, auth) ||
           (!ctx_.server.admin_keys.empty() && Authorized(ctx_.server.admin_keys, auth));
  };
  // The admin routes' keys: admin_keys, else api_keys.
  auto may_administer = [&] {
    return Authorized(ctx_.server.admin_keys.empty() ? ctx_.server.api_keys : ctx_.server.admin_keys, auth);
  };
  if (openai_.owns(t)) {
    ex.inference = true;
    if (!may_infer())
      co_return ReplyError(ex, MakeError("missing or invalid API key (send 'Authorization: Bearer <key>')",
                                         ErrorCode::kInvalidApiKey));
    co_return co_await openai_.handle(ex, t);
  }
  if (ollama_.owns(t)) {
    ex.inference = true;
    if (!may_infer())
      co_return ReplyError(ex, MakeError("missing or invalid API key (send 'Authorization: Bearer <key>')",
                                         ErrorCode::kInvalidApiKey));
    co_return co_await ollama_.handle(ex, t);
  }
  if (t.path == "/metrics") {  // Prometheus scrapes it with the admin key as its bearer token
    if (!ctx_.server.open_metrics && !may_administer())
      co_return ReplyError(ex, MakeError("missing or invalid admin key (send 'Authorization: Bearer <key>')",
                                         ErrorCode::kInvalidApiKey));
    if (ex.req.method() != http::verb::get && ex.req.method() != http::verb::head)
      co_return ReplyError(ex, MakeError("use GET /metrics", ErrorCode::kMethodNotAllowed));
    co_return co_await MetricsRoute(ctx_, ex);
  }
  if (IsUiPath(t.path)) {  // a static page: what it shows comes through the keyed API
    ServeUi(ex, t.path, ctx_.ui_dir);
    co_return;
  }
  if (t.path.starts_with("/kitty/")) {
    if (!may_administer())
      co_return ReplyError(ex, MakeError("missing or invalid admin key (send 'Authorization: Bearer <key>')",
                                         ErrorCode::kInvalidApiKey));
    co_return co_await admin_.handle(ex, t);
  }
  ReplyError(ex, MakeError("no route for " + std::string(ex.req.method_string()) + " " + t.path,
                           ErrorCode::kRouteNotFound));
}

}  // namespace kitty::web
