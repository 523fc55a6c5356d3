#include "kitty/http/request_log.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <cmath>
#include <random>

#include "kitty/daemon/log_format.h"

namespace kitty::web {
namespace {

bool UsableId(std::string_view v) {
  if (v.empty() || v.size() > 128) return false;
  for (char c : v)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '-')) return false;
  return true;
}

spdlog::logger& RequestLogger() {
  // A clone shares the default logger's sinks, so it has its format (log_format.h) and level.
  static const std::shared_ptr<spdlog::logger> logger = spdlog::default_logger()->clone("request");
  return *logger;
}

}  // namespace

std::string RequestIdOf(const http::request<http::string_body>& req) {
  if (auto h = req.find("X-Request-Id"); h != req.end()) {
    const std::string_view v(h->value().data(), h->value().size());
    if (UsableId(v)) return std::string(v);
  }
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

void LogRequest(const RequestRecord& r) {
  auto& log = RequestLogger();
  if (!log.should_log(spdlog::level::info)) return;
  if (CurrentLogFormat() == LogFormat::kJson) {
    nlohmann::ordered_json j;
    j["request_id"] = r.id;
    j["method"] = r.method;
    j["path"] = r.path;
    j["model"] = r.model.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.model);
    j["status"] = r.status;
    j["duration_seconds"] = std::round(r.seconds * 1e6) / 1e6;
    j["first_byte_seconds"] = r.first_byte_seconds ? nlohmann::ordered_json(std::round(*r.first_byte_seconds * 1e6) / 1e6)
                                                   : nlohmann::ordered_json(nullptr);
    j["request_bytes"] = r.request_bytes;
    j["response_bytes"] = r.response_bytes;
    log.info("{}", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return;
  }
  const std::string model = r.model.empty() ? "-" : "'" + std::string(r.model) + "'";
  if (r.status == 0)
    log.info("request {} {} {} {}: client left after {:.3f}s", r.id, r.method, r.path, model, r.seconds);
  else
    log.info("request {} {} {} {}: {} in {:.3f}s, {} B in, {} B out", r.id, r.method, r.path, model, r.status,
             r.seconds, r.request_bytes, r.response_bytes);
}

}  // namespace kitty::web
