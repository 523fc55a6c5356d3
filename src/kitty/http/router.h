// Router: the first stop of every request. It normalises the target (so every route and every
// worker sees one canonical path), checks the API keys (gateway keys for /v1 and the forwarded
// routes, admin keys for /kitty), and hands the request to the OpenAI or the admin routes.
// Runs on the connection's I/O thread.
#pragma once

#include "kitty/http/admin_routes.h"
#include "kitty/http/ollama_routes.h"
#include "kitty/http/openai_routes.h"
#include "kitty/http/routes.h"
#include "kitty/http/server.h"

namespace kitty::web {

class Router {
 public:
  explicit Router(RouteContext ctx);
  net::awaitable<void> handle(Exchange& ex);
  /// From now on new inference requests get 503 shutting_down. Any thread.
  void set_shutting_down() { *ctx_.shutting_down = true; }
  const RouteContext& context() const { return ctx_; }

 private:
  net::awaitable<void> route(Exchange& ex);

  RouteContext ctx_;
  OpenAiRoutes openai_;
  OllamaRoutes ollama_;
  AdminRoutes admin_;
};

}  // namespace kitty::web
