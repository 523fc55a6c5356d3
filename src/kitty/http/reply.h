// Answers the routes give through the server (Exchange::respond): JSON, OpenAI-shaped errors,
// and the one "unknown model" answer. Any thread.
#pragma once

#include <nlohmann/json.hpp>

#include "kitty/http/errors.h"
#include "kitty/http/server.h"
#include "kitty/manager/manager.h"

namespace kitty::web {

inline void Reply(Exchange& ex, int status, const nlohmann::json& body) {
  ex.respond(MakeJsonResponse(status, body, ex.req.version(), ex.keep_alive));
}

/// `body` is JSON text already (serialised off the I/O thread).
inline void ReplyJsonText(Exchange& ex, int status, std::string body) {
  ex.respond(MakeJsonTextResponse(status, std::move(body), ex.req.version(), ex.keep_alive));
}

inline void ReplyError(Exchange& ex, const Error& e, const nlohmann::json& extra = nullptr) {
  ex.respond(MakeErrorResponse(e, ex.req.version(), ex.keep_alive, extra));
}

/// 404 model_not_found naming the model, with the configured ids in error.available.
inline void ReplyModelNotFound(Exchange& ex, const WorkerManager& manager, const std::string& name) {
  ReplyError(ex, manager.not_found(name), {{"available", manager.model_ids()}});
}

}  // namespace kitty::web
