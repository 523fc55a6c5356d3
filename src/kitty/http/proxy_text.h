// Small pure pieces of the proxy's work on text: where a request goes on an upstream with a
// path prefix, and how many SSE events a piece of a worker's body holds (for /metrics).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kitty::web {

/// `target` under the upstream's path prefix; a prefix ending in /v1 (an OpenAI-style base URL)
/// takes the target's own /v1 off first.
std::string UpstreamTarget(const std::string& prefix, const std::string& target);

/// SSE events in a piece of a worker's body, counted by their "data:" lines (llama-server and the
/// OpenAI API send one per event); an event cut between two reads is counted where its "data:" is.
uint64_t CountSseEvents(std::string_view piece);

}  // namespace kitty::web
