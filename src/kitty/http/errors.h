// OpenAI-shaped error responses: {"error": {"message", "type", "code"}}. One place maps an
// Error's code to an HTTP status, so every route answers the same way.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "kitty/base/result.h"
#include "kitty/http/beast.h"

namespace kitty::web {

/// The HTTP status for an Error code ("model_not_found" → 404, "start_timeout" → 504, ...).
int StatusForCode(const std::string& code);

/// The error body; `extra` fields (e.g. "available", "log_tail") are merged into "error".
nlohmann::json ErrorBody(const std::string& message, const std::string& code,
                         const nlohmann::json& extra = nullptr);

Response MakeJsonResponse(int status, const nlohmann::json& body, unsigned version,
                          bool keep_alive);
Response MakeErrorResponse(const Error& e, unsigned version, bool keep_alive,
                           const nlohmann::json& extra = nullptr);

}  // namespace kitty::web
