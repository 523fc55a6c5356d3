// GET /metrics (issue 12): the box in Prometheus' text format 0.0.4 — per model its state (a
// one-hot gauge), memory (resident, PSS, GPU, what Ollama holds), expected and learned footprint,
// requests by status class, in flight, holds, load durations, time to first byte, SSE events,
// exits, restarts and evictions by reason; the machine's memory, the budget and the pressure
// flags; kittyd's own process figures. Names follow Prometheus' conventions: `kitty_` prefix,
// base units in the names, `_total` on counters.
#pragma once

#include "kitty/http/routes.h"
#include "kitty/http/server.h"

namespace kitty::web {

net::awaitable<void> MetricsRoute(const RouteContext& ctx, Exchange& ex);

}  // namespace kitty::web
