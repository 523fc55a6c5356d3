#include "kitty/http/errors.h"

#include <map>

namespace kitty::web {

int StatusForCode(const std::string& code) {
  static const std::map<std::string, int> kStatus = {
      {"invalid_json", 400},        {"missing_model", 400},      {"invalid_request", 400},
      {"invalid_api_key", 401},     {"model_not_found", 404},    {"not_found", 404},
      {"hold_not_found", 404},      {"method_not_allowed", 405}, {"body_too_large", 413},
      {"unsupported", 501},         {"upstream_error", 502},     {"worker_crashed", 502},
      {"worker_start_failed", 503}, {"launch_invalid", 503},     {"model_file_invalid", 503},
      {"port_in_use", 503},         {"no_free_port", 503},       {"worker_stopping", 503},
      {"shutting_down", 503},       {"start_timeout", 504},      {"upstream_timeout", 504},
  };
  auto it = kStatus.find(code);
  return it == kStatus.end() ? 500 : it->second;
}

static const char* TypeForStatus(int status) {
  switch (status) {
    case 400:
    case 404:
    case 405:
    case 413:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 501:
      return "not_implemented_error";
    default:
      return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

nlohmann::json ErrorBody(const std::string& message, const std::string& code,
                         const nlohmann::json& extra) {
  const std::string c = code.empty() ? "internal_error" : code;
  nlohmann::json err = {
      {"message", message}, {"type", TypeForStatus(StatusForCode(c))}, {"code", c}};
  if (extra.is_object())
    for (auto& [k, v] : extra.items()) err[k] = v;
  return {{"error", std::move(err)}};
}

Response MakeJsonResponse(int status, const nlohmann::json& body, unsigned version,
                          bool keep_alive) {
  Response res{static_cast<http::status>(status), version};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

Response MakeErrorResponse(const Error& e, unsigned version, bool keep_alive,
                           const nlohmann::json& extra) {
  return MakeJsonResponse(StatusForCode(e.code), ErrorBody(e.message, e.code, extra), version,
                          keep_alive);
}

}  // namespace kitty::web
