#include "kitty/http/errors.h"

namespace kitty::web {

nlohmann::json ErrorBody(const Error& e, const nlohmann::json& extra) {
  const ErrorCodeInfo info = Describe(e.code);
  nlohmann::json err = {{"message", e.message},
                        {"type", std::string(info.type)},
                        {"code", std::string(info.code)}};
  if (!info.reason.empty()) err["reason"] = std::string(info.reason);
  if (extra.is_object())
    for (auto& [k, v] : extra.items()) err[k] = v;
  return {{"error", std::move(err)}};
}

Response MakeJsonResponse(int status, const nlohmann::json& body, unsigned version,
                          bool keep_alive) {
  return MakeJsonTextResponse(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                              version, keep_alive);
}

Response MakeJsonTextResponse(int status, std::string body, unsigned version, bool keep_alive) {
  Response res{static_cast<http::status>(status), version};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response MakeErrorResponse(const Error& e, unsigned version, bool keep_alive,
                           const nlohmann::json& extra) {
  Response res = MakeJsonResponse(Describe(e.code).http_status, ErrorBody(e, extra), version, keep_alive);
  SetRetryAfter(res, e.code);
  return res;
}

void SetRetryAfter(Response& res, ErrorCode code) {
  if (const int s = RetryAfterSeconds(code)) res.set(http::field::retry_after, std::to_string(s));
}

}  // namespace kitty::web
