// The request log: one line per request to the gateway (OpenAI's routes, Ollama's API; "model"
// null when none was found), with its id, model, status, duration and bytes; never the prompt or the answer
// (server.log_bodies logs request bodies, separately). The id is the client's X-Request-Id when
// it sent a usable one, else kittyd's own; the client gets it back as X-Request-Id, and the
// worker gets it too, so its log can be matched with ours.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kitty/http/beast.h"

namespace kitty::web {

/// The id of a request: its X-Request-Id when that is 1-128 characters of [A-Za-z0-9._:-],
/// else 16 new hex digits.
std::string RequestIdOf(const http::request<http::string_body>& req);

struct RequestRecord {
  std::string_view id, method, path, model;
  int status = 0;  // what the client got; 0: it went away before an answer
  double seconds = 0;
  std::optional<double> first_byte_seconds;  // to the worker's first byte, through the proxy
  uint64_t request_bytes = 0, response_bytes = 0;
};

/// Logs `r` at info level on the "request" logger: a sentence in text format, its fields as
/// keys with --log-format json.
void LogRequest(const RequestRecord& r);

}  // namespace kitty::web
