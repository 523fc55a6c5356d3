// The memory routes (docs/API.md): GET /kitty/system/memory (the machine, the budget, pressure,
// the restore queue) and POST /kitty/memory/headroom (room for a job outside kittyd). Both
// read or act through the control loop, which owns the scheduler and the sampler.
#pragma once

#include "kitty/http/routes.h"
#include "kitty/http/server.h"

namespace kitty::web {

net::awaitable<void> SystemMemoryRoute(const RouteContext& ctx, Exchange& ex);
net::awaitable<void> HeadroomRoute(const RouteContext& ctx, Exchange& ex);

}  // namespace kitty::web
