// Fallback chains (issue 10): a model's `fallback:` list serves its requests while it is failed
// and waiting for a restart, has given up, cannot start, or cannot fit. The chain is the list
// in order, then each fallback's own list, breadth first, never a model twice (a config may
// loop: a → b → a is tried as a, b). A request with "fallback": false is never switched.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kitty/base/error_code.h"
#include "kitty/manager/manager.h"

namespace kitty::web {

/// `primary` first, then its fallbacks as above; only `primary` when the request's JSON `body`
/// says "fallback": false. `primary_config` is the route's snapshot of the primary's config (one
/// per request). Any thread.
std::vector<std::shared_ptr<Worker>> FallbackChain(const WorkerManager& m, const std::shared_ptr<Worker>& primary,
                                                   const ModelConfig& primary_config, std::string_view body);

/// False when the JSON body says "fallback": false.
bool FallbackAllowed(std::string_view body);

/// Whether a request that failed to get a worker with `code` may try the next model: the
/// model could not be started or could not fit; not a stop or a shutdown someone asked for.
bool FallsBack(ErrorCode code);

}  // namespace kitty::web
