#include "kitty/http/gateway.h"

#include <spdlog/spdlog.h>

#include "kitty/http/auth.h"
#include "kitty/http/errors.h"
#include "kitty/http/status_json.h"

namespace kitty::web {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::pair<std::string, std::map<std::string, std::string>> SplitTarget(std::string_view target) {
  std::map<std::string, std::string> query;
  const size_t q = target.find('?');
  std::string path = PercentDecode(target.substr(0, q));
  if (q != std::string_view::npos) {
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
      const size_t amp = rest.find('&');
      std::string_view kv = rest.substr(0, amp);
      const size_t eq = kv.find('=');
      query[PercentDecode(kv.substr(0, eq))] =
          eq == std::string_view::npos ? "" : PercentDecode(kv.substr(eq + 1));
      if (amp == std::string_view::npos) break;
      rest = rest.substr(amp + 1);
    }
  }
  return {std::move(path), std::move(query)};
}

Gateway::Gateway(GatewayDeps deps) : deps_(std::move(deps)), started_(deps_.clock->now()) {}

void Gateway::reply(Exchange& ex, int status, const nlohmann::json& body) {
  ex.respond(MakeJsonResponse(status, body, ex.req.version(), ex.keep_alive));
}

void Gateway::reply_error(Exchange& ex, const Error& e, const nlohmann::json& extra) {
  ex.respond(MakeErrorResponse(e, ex.req.version(), ex.keep_alive, extra));
}

nlohmann::json Gateway::worker_json(const Worker& w) {
  std::optional<GroupMemory> mem;
  const WorkerInfo i = w.info();
  if (i.pid > 0 && deps_.read_memory) {
    auto m = deps_.read_memory(i.pid);
    if (m) mem = std::move(m.value());
  }
  return WorkerJson(w, mem);
}

nlohmann::json Gateway::start_error_extra(const Worker& w, const Error& e) {
  if (e.code == ErrorCode::kModelNotFound || e.code == ErrorCode::kWorkerStopping) return nullptr;
  return {{"model_id", w.id()}, {"log_tail", w.log()->current_run(20)}};
}

net::awaitable<void> Gateway::handle(Exchange& ex) {
  const std::string path = SplitTarget(ex.req.target()).first;
  const auto method = ex.req.method();
  const std::string_view auth = ex.req[http::field::authorization];

  if (path == "/health" || path == "/kitty/health") {
    if (method != http::verb::get && method != http::verb::head)
      co_return reply_error(ex, MakeError("use GET /health", ErrorCode::kMethodNotAllowed));
    co_return co_await health(ex);
  }

  const bool is_v1 = path.starts_with("/v1/") || path == "/completions" ||
                     path == "/chat/completions" || path == "/embeddings" || path == "/models";
  if (is_v1) {
    if (!Authorized(deps_.server.api_keys, auth))
      co_return reply_error(
          ex, MakeError("missing or invalid API key (send 'Authorization: Bearer <key>')",
                        ErrorCode::kInvalidApiKey));
    if (method == http::verb::get && (path == "/v1/models" || path == "/models"))
      co_return co_await list_models(ex);
    if (method == http::verb::get && path.starts_with("/v1/models/")) {
      auto w = deps_.manager->find(path.substr(strlen("/v1/models/")));
      if (!w) {
        Error e = deps_.manager->not_found(path.substr(strlen("/v1/models/")));
        {
          nlohmann::json body_ = {{"available", deps_.manager->model_ids()}};
          co_return reply_error(ex, e, body_);
        }
      }
      {
        nlohmann::json body_ = {{"id", w->id()},
                                {"object", "model"},
                                {"owned_by", "kitty"},
                                {"status", WorkerStateName(w->state())}};
        co_return reply(ex, 200, body_);
      }
    }
    if (method == http::verb::post) co_return co_await proxy_inference(ex);
    co_return reply_error(
        ex,
        MakeError("no route for " + std::string(ex.req.method_string()) + " " + path, ErrorCode::kRouteNotFound));
  }

  if (path.starts_with("/kitty/")) {
    const auto& keys =
        deps_.server.admin_keys.empty() ? deps_.server.api_keys : deps_.server.admin_keys;
    if (!Authorized(keys, auth))
      co_return reply_error(
          ex, MakeError("missing or invalid admin key (send 'Authorization: Bearer <key>')",
                        ErrorCode::kInvalidApiKey));
    co_return co_await admin(ex, path);
  }

  co_return reply_error(
      ex,
      MakeError("no route for " + std::string(ex.req.method_string()) + " " + path, ErrorCode::kRouteNotFound));
}

net::awaitable<void> Gateway::health(Exchange& ex) {
  {
    nlohmann::json body_ = {
        {"status", shutting_down_ ? "shutting_down" : "ok"},
        {"version", deps_.version},
        {"uptime_seconds", std::round(ToSeconds(deps_.clock->now() - started_) * 10) / 10},
        {"models", deps_.manager->workers().size()}};
    reply(ex, 200, body_);
  }
  co_return;
}

}  // namespace kitty::web
