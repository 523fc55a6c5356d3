// Ollama's API on kittyd (issue 11), so tools that speak only Ollama (Open WebUI, the `ollama`
// clients, editor plugins) see kittyd's models: GET /api/version, /api/tags (every configured
// model), /api/ps (the running ones, with their memory and when they idle out). The inference
// routes (/api/chat, /api/generate, /api/embed, /api/show) are not served yet: 501 naming the
// OpenAI routes that are. Keys: server.api_keys, as the OpenAI routes.
#pragma once

#include "kitty/http/routes.h"
#include "kitty/http/server.h"
#include "kitty/http/target.h"

namespace kitty::web {

/// The Ollama API version kittyd answers like (clients compare it against their minimum).
inline constexpr const char* kOllamaApiVersion = "0.12.0";

class OllamaRoutes {
 public:
  explicit OllamaRoutes(const RouteContext& ctx) : ctx_(ctx) {}
  bool owns(const Target& t) const { return t.path.starts_with("/api/"); }
  net::awaitable<void> handle(Exchange& ex, const Target& t);

 private:
  net::awaitable<void> models(Exchange& ex, bool running_only);

  const RouteContext& ctx_;
};

}  // namespace kitty::web
