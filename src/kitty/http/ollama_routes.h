// Ollama's API on kittyd (issue 11), so tools that speak only Ollama (Open WebUI, the `ollama`
// clients, editor plugins) use kittyd's models: GET /api/version, /api/tags (every configured
// model), /api/ps (the running ones, with their memory and when they idle out), /api/show (its
// GGUF facts); POST /api/chat,
// /api/generate, /api/embed and /api/embeddings, translated to the workers' OpenAI routes
// (ollama_translate.h) with keep_alive honoured per request. Keys: server.api_keys, as the
// OpenAI routes. Errors are Ollama's shape: {"error": "message"}.
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
  net::awaitable<void> infer(Exchange& ex, int call);  // an OllamaCall
  void show(Exchange& ex);

  const RouteContext& ctx_;
};

}  // namespace kitty::web
