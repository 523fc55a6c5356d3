// Small pure pieces of the proxy's work on text: where a request goes on an upstream with a
// path prefix, how many SSE events a piece of a worker's body holds (for /metrics), and the
// framing kittyd writes itself (a chunk's head, a stream's last error event).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kitty/base/result.h"

namespace kitty::web {

/// `target` under the upstream's path prefix; a prefix ending in /v1 (an OpenAI-style base URL)
/// takes the target's own /v1 off first.
std::string UpstreamTarget(const std::string& prefix, const std::string& target);

/// SSE events in a piece of a worker's body, counted by their "data:" lines (llama-server and the
/// OpenAI API send one per event); an event cut between two reads is counted where its "data:" is.
uint64_t CountSseEvents(std::string_view piece);

/// The head of one chunk of `n` bytes in HTTP/1.1 chunked coding: "1a\r\n".
std::string ChunkHeader(size_t n);

/// `e` as an SSE event, `data: {"error": {...}}` and the blank line: how a stream that has begun
/// ends when it cannot go on (the OpenAI SDKs raise it).
std::string SseErrorEvent(const Error& e, const nlohmann::json& extra = nullptr);

}  // namespace kitty::web
