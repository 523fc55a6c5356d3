// The OpenAI-compatible routes: the inference routes that kittyd forwards to a model's worker
// (chosen by the body's "model"), and the model list. Run on the connection's I/O thread.
#pragma once

#include <string_view>

#include "kitty/http/routes.h"
#include "kitty/http/server.h"
#include "kitty/http/target.h"

namespace kitty::web {

/// Whether kittyd forwards POSTs to `path` (normalised) to a worker. Any other path never
/// reaches a worker (issue 8: "POST /v1/../../shutdown" was forwarded as it came).
bool IsForwardedRoute(std::string_view path);

class OpenAiRoutes {
 public:
  explicit OpenAiRoutes(const RouteContext& ctx) : ctx_(ctx) {}
  /// True when `t.path` is one of these routes (answered, possibly with 404/405 for a model).
  bool owns(const Target& t) const;
  net::awaitable<void> handle(Exchange& ex, const Target& t);

 private:
  net::awaitable<void> forward(Exchange& ex, const Target& t);
  net::awaitable<void> list_models(Exchange& ex);
  net::awaitable<void> one_model(Exchange& ex, const std::string& name);

  const RouteContext& ctx_;
};

}  // namespace kitty::web
