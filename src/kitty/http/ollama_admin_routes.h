// The Ollama daemon's supervision on the admin API (issue 11, seed 003's "reset daemon" hook):
// GET /kitty/ollama (health class, latency, version, restarts, who started it, log tail) and
// POST /kitty/ollama/restart (answers once it answers again, or with why it could not).
#pragma once

#include "kitty/http/routes.h"
#include "kitty/http/server.h"

namespace kitty::web {

net::awaitable<void> OllamaStatusRoute(const RouteContext& ctx, Exchange& ex);
net::awaitable<void> OllamaRestartRoute(const RouteContext& ctx, Exchange& ex);

}  // namespace kitty::web
