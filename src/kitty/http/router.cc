#include "kitty/http/router.h"

#include "kitty/http/auth.h"
#include "kitty/http/reply.h"

namespace kitty::web {

Router::Router(RouteContext ctx) : ctx_(std::move(ctx)), openai_(ctx_), ollama_(ctx_), admin_(ctx_) {}

net::awaitable<void> Router::handle(Exchange& ex) {
  auto target = ParseTarget(ex.req.target());
  if (!target) co_return ReplyError(ex, target.error());
  const Target& t = *target;
  const std::string_view auth = ex.req[http::field::authorization];

  if (t.path == "/health" || t.path == "/kitty/health") {  // always open, as docs/API.md says
    if (ex.req.method() != http::verb::get && ex.req.method() != http::verb::head)
      co_return ReplyError(ex, MakeError("use GET /health", ErrorCode::kMethodNotAllowed));
    co_return co_await admin_.health(ex);
  }
  if (openai_.owns(t)) {
    if (!Authorized(ctx_.server.api_keys, auth))
      co_return ReplyError(ex, MakeError("missing or invalid API key (send 'Authorization: Bearer <key>')",
                                         ErrorCode::kInvalidApiKey));
    co_return co_await openai_.handle(ex, t);
  }
  if (ollama_.owns(t)) {
    if (!Authorized(ctx_.server.api_keys, auth))
      co_return ReplyError(ex, MakeError("missing or invalid API key (send 'Authorization: Bearer <key>')",
                                         ErrorCode::kInvalidApiKey));
    co_return co_await ollama_.handle(ex, t);
  }
  if (t.path.starts_with("/kitty/")) {
    const auto& keys = ctx_.server.admin_keys.empty() ? ctx_.server.api_keys : ctx_.server.admin_keys;
    if (!Authorized(keys, auth))
      co_return ReplyError(ex, MakeError("missing or invalid admin key (send 'Authorization: Bearer <key>')",
                                         ErrorCode::kInvalidApiKey));
    co_return co_await admin_.handle(ex, t);
  }
  ReplyError(ex, MakeError("no route for " + std::string(ex.req.method_string()) + " " + t.path,
                           ErrorCode::kRouteNotFound));
}

}  // namespace kitty::web
