// The admin routes (docs/API.md): /health, status, ensure, release, release-all, logs, holds,
// config reload.
// They run on the connection's I/O thread and reach the workers through the control loop;
// memory figures are read on the blocking pool.
#pragma once

#include "kitty/http/routes.h"
#include "kitty/http/server.h"
#include "kitty/http/status_json.h"
#include "kitty/http/target.h"

namespace kitty::web {

/// What status shows of `w`. Control thread.
WorkerSnapshot SnapshotOf(const RouteContext& ctx, const Worker& w);

class AdminRoutes {
 public:
  explicit AdminRoutes(const RouteContext& ctx);
  net::awaitable<void> health(Exchange& ex);
  /// Everything under /kitty/.
  net::awaitable<void> handle(Exchange& ex, const Target& t);

 private:
  net::awaitable<void> workers(Exchange& ex);
  net::awaitable<void> one_worker(Exchange& ex, std::shared_ptr<Worker> w);
  net::awaitable<void> ensure(Exchange& ex, std::shared_ptr<Worker> w, bool reset);
  net::awaitable<void> reload(Exchange& ex, bool force);
  net::awaitable<void> release(Exchange& ex, std::shared_ptr<Worker> w, bool force);
  net::awaitable<void> release_all(Exchange& ex, bool force);
  /// pin, unpin, priority {"priority": N}: runtime policy changes; answer W.
  net::awaitable<void> set_policy(Exchange& ex, std::shared_ptr<Worker> w, std::string op);
  net::awaitable<void> logs(Exchange& ex, std::shared_ptr<Worker> w, const Target& t);
  net::awaitable<void> hold(Exchange& ex, std::shared_ptr<Worker> w);
  net::awaitable<void> hold_op(Exchange& ex, const std::string& hold_id, bool renew);
  /// The W objects of docs/API.md for `ws`, with memory read off the event loops.
  net::awaitable<nlohmann::json> worker_views(std::vector<std::shared_ptr<Worker>> ws);
  void reply_start_error(Exchange& ex, const Error& e, const std::string& model_id,
                         std::vector<std::string> tail);

  const RouteContext& ctx_;
  TimePoint started_;
};

}  // namespace kitty::web
