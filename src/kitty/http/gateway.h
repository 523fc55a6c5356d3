// Gateway: every HTTP route of kittyd. The OpenAI-compatible routes (gateway_routes.cc)
// read the model from the body, acquire its worker and proxy; the admin routes
// (admin_routes.cc) show and drive the WorkerManager. Runs on the loop thread.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "kitty/config/config.h"
#include "kitty/http/proxy.h"
#include "kitty/http/server.h"
#include "kitty/manager/manager.h"
#include "kitty/memory/process_memory.h"

namespace kitty::web {

struct GatewayDeps {
  WorkerManager* manager = nullptr;
  Clock* clock = nullptr;
  ServerConfig server;
  std::string version;
  /// Memory of a worker's process group (process_memory.h by default).
  std::function<Result<GroupMemory>(int pgid)> read_memory;
  /// GGUF summary of a model file, or null (cached by the caller).
  std::function<nlohmann::json(const ModelConfig&)> model_info;
};

class Gateway {
 public:
  explicit Gateway(GatewayDeps deps);
  net::awaitable<void> handle(Exchange& ex);
  /// From now on new requests get 503 shutting_down.
  void set_shutting_down() { shutting_down_ = true; }
  UpstreamPool& pool() { return pool_; }

 private:
  // OpenAI-compatible routes.
  net::awaitable<void> proxy_inference(Exchange& ex);
  net::awaitable<void> list_models(Exchange& ex);
  // Admin routes.
  net::awaitable<void> health(Exchange& ex);
  net::awaitable<void> admin(Exchange& ex, std::string_view path);
  net::awaitable<void> workers(Exchange& ex);
  net::awaitable<void> ensure(Exchange& ex, Worker& w);
  net::awaitable<void> release(Exchange& ex, Worker& w, bool force);
  net::awaitable<void> release_all(Exchange& ex, bool force);
  net::awaitable<void> logs(Exchange& ex, Worker& w, const std::map<std::string, std::string>& q);
  net::awaitable<void> hold(Exchange& ex, Worker& w);
  net::awaitable<void> hold_op(Exchange& ex, const std::string& hold_id, bool renew);

  // Set the answer the server writes once the route returns (no co_await on temporaries:
  // GCC 12 mis-destroys some temporaries that live across a suspension).
  void reply(Exchange& ex, int status, const nlohmann::json& body);
  void reply_error(Exchange& ex, const Error& e, const nlohmann::json& extra = nullptr);
  nlohmann::json worker_json(const Worker& w);
  nlohmann::json start_error_extra(const Worker& w, const Error& e);

  GatewayDeps deps_;
  UpstreamPool pool_;
  bool shutting_down_ = false;
  TimePoint started_;
};

/// Splits "/a/b?x=1&y" into path and decoded query parameters.
std::pair<std::string, std::map<std::string, std::string>> SplitTarget(std::string_view target);

}  // namespace kitty::web
