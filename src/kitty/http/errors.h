// OpenAI-shaped error responses: {"error": {"message", "type", "code", "reason"?}}. Status,
// type, code and reason all come from the ErrorCode table (base/error_code.h), so every route
// answers the same way.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "kitty/base/result.h"
#include "kitty/http/beast.h"

namespace kitty::web {

/// The error body; `extra` fields (e.g. "available", "log_tail") are merged into "error".
nlohmann::json ErrorBody(const Error& e, const nlohmann::json& extra = nullptr);

Response MakeJsonResponse(int status, const nlohmann::json& body, unsigned version,
                          bool keep_alive);
/// The same for a body that is JSON text already.
Response MakeJsonTextResponse(int status, std::string body, unsigned version, bool keep_alive);
/// The OpenAI-shaped error, with Retry-After where the code asks for one.
Response MakeErrorResponse(const Error& e, unsigned version, bool keep_alive,
                           const nlohmann::json& extra = nullptr);
/// Retry-After for the codes that mean "not now, soon" (RetryAfterSeconds); nothing otherwise.
void SetRetryAfter(Response& res, ErrorCode code);

}  // namespace kitty::web
