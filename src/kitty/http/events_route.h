// GET /kitty/events (issue 12): the event journal as server-sent events. Each event is
// `id: N`, `event: <kind>`, `data: {"id", "time", "kind", "model", "pid", "reason", "message"}`.
// On connect it replays what the journal still has after `Last-Event-ID` (the header, or
// ?last_event_id=N; none: the whole ring), then follows; `?model=ID` keeps one model's events
// (and drops those of no model); `?follow=false` ends after the replay; a comment line every
// `?heartbeat=S` seconds (15) keeps proxies from closing it. A reader that falls 1,024 events
// behind gets a last `dropped` event and is closed.
#pragma once

#include "kitty/http/routes.h"
#include "kitty/http/server.h"
#include "kitty/http/target.h"

namespace kitty::web {

net::awaitable<void> EventsRoute(const RouteContext& ctx, Exchange& ex, const Target& t);

}  // namespace kitty::web
