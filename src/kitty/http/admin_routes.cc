// The admin routes of the Gateway (docs/API.md): status, ensure, release, logs, holds.
#include <spdlog/spdlog.h>

#include <cmath>

#include "kitty/http/async_worker.h"
#include "kitty/http/errors.h"
#include "kitty/http/gateway.h"

namespace kitty::web {
namespace {

bool IsTrue(const std::map<std::string, std::string>& q, const std::string& key) {
  auto it = q.find(key);
  return it != q.end() &&
         (it->second.empty() || it->second == "true" || it->second == "1" || it->second == "yes");
}

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return parts;
}

}  // namespace

net::awaitable<void> Gateway::admin(Exchange& ex, std::string_view path) {
  const auto split = SplitTarget(ex.req.target());
  const auto& query = split.second;
  const auto parts = SplitPath(path);  // "kitty", ...
  const auto method = ex.req.method();
  auto not_allowed = [&]() {
    reply_error(ex, MakeError(std::string(ex.req.method_string()) + " is not allowed on " +
                                  std::string(path),
                              ErrorCode::kMethodNotAllowed));
  };

  if (parts.size() == 3 && parts[1] == "system" && parts[2] == "workers") {
    if (method != http::verb::get) co_return not_allowed();
    co_return co_await workers(ex);
  }
  if (parts.size() == 3 && parts[1] == "workers" && parts[2] == "release-all") {
    if (method != http::verb::post) co_return not_allowed();
    co_return co_await release_all(ex, IsTrue(query, "force"));
  }
  if (parts.size() >= 3 && parts[1] == "workers") {
    auto w = deps_.manager->find(parts[2]);
    if (!w) {
      nlohmann::json body_ = {{"available", deps_.manager->model_ids()}};
      co_return reply_error(ex, deps_.manager->not_found(parts[2]), body_);
    }
    if (parts.size() == 3) {
      if (method != http::verb::get) co_return not_allowed();
      co_return reply(ex, 200, worker_json(*w));
    }
    if (parts.size() == 4) {
      const std::string& op = parts[3];
      if (op == "logs") {
        if (method != http::verb::get) co_return not_allowed();
        co_return co_await logs(ex, *w, query);
      }
      if (method != http::verb::post) co_return not_allowed();
      if (op == "ensure") co_return co_await ensure(ex, *w);
      if (op == "release") co_return co_await release(ex, *w, IsTrue(query, "force"));
      if (op == "hold") co_return co_await hold(ex, *w);
    }
  }
  if (parts.size() >= 3 && parts[1] == "holds") {
    if (parts.size() == 3 && method == http::verb::delete_)
      co_return co_await hold_op(ex, parts[2], /*renew=*/false);
    if (parts.size() == 4 && parts[3] == "renew" && method == http::verb::post)
      co_return co_await hold_op(ex, parts[2], /*renew=*/true);
  }
  co_return reply_error(
      ex, MakeError("no route for " + std::string(ex.req.method_string()) + " " + std::string(path),
                    ErrorCode::kRouteNotFound));
}

net::awaitable<void> Gateway::workers(Exchange& ex) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& w : deps_.manager->workers()) list.push_back(worker_json(*w));
  {
    nlohmann::json body_ = {{"workers", list}};
    reply(ex, 200, body_);
  }
  co_return;
}

net::awaitable<void> Gateway::ensure(Exchange& ex, Worker& w) {
  if (shutting_down_)
    co_return reply_error(ex, MakeError("kittyd is shutting down", ErrorCode::kShuttingDown));
  auto r = co_await AsyncEnsure(w, net::use_awaitable);
  if (!r) co_return reply_error(ex, r.error(), start_error_extra(w, r.error()));
  reply(ex, 200, worker_json(w));
}

net::awaitable<void> Gateway::release(Exchange& ex, Worker& w, bool force) {
  spdlog::info("model '{}': release requested{}", w.id(), force ? " (force)" : "");
  co_await AsyncRelease(w, force, net::use_awaitable);
  reply(ex, 200, worker_json(w));
}

net::awaitable<void> Gateway::release_all(Exchange& ex, bool force) {
  spdlog::info("release of every model requested{}", force ? " (force)" : "");
  for (const auto& w : deps_.manager->workers()) {
    // Start every stop at once; then wait for each.
    w->release(force, nullptr);
  }
  for (const auto& w : deps_.manager->workers())
    co_await AsyncRelease(*w, force, net::use_awaitable);
  co_await workers(ex);
}

net::awaitable<void> Gateway::logs(Exchange& ex, Worker& w,
                                   const std::map<std::string, std::string>& q) {
  auto log = w.log();
  std::vector<std::string> lines;
  auto number = [&](const char* key, long fallback) {
    auto it = q.find(key);
    if (it == q.end()) return fallback;
    char* end = nullptr;
    const long v = std::strtol(it->second.c_str(), &end, 10);
    return (end && *end == 0 && v >= 0) ? v : fallback;
  };
  if (q.count("since")) {
    lines = log->since(static_cast<size_t>(number("since", 0)));
  } else {
    lines = log->last(static_cast<size_t>(std::min(number("tail", 100), 100000L)));
  }
  {
    nlohmann::json body_ = {{"model_id", w.id()}, {"lines", lines}, {"next", log->total()}};
    reply(ex, 200, body_);
  }
  co_return;
}

net::awaitable<void> Gateway::hold(Exchange& ex, Worker& w) {
  double lease = 30;
  std::string owner;
  if (!ex.req.body().empty()) {
    auto body = nlohmann::json::parse(ex.req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object())
      co_return reply_error(ex, MakeError("hold body must be a JSON object", ErrorCode::kInvalidJson));
    if (body.contains("lease_seconds")) {
      if (!body["lease_seconds"].is_number() || body["lease_seconds"].get<double>() < 0.1 ||
          body["lease_seconds"].get<double>() > 86400)
        co_return reply_error(
            ex, MakeError("lease_seconds must be a number from 0.1 to 86400", ErrorCode::kInvalidRequest));
      lease = body["lease_seconds"].get<double>();
    }
    if (body.contains("owner") && body["owner"].is_string()) owner = body["owner"];
  }
  if (shutting_down_)
    co_return reply_error(ex, MakeError("kittyd is shutting down", ErrorCode::kShuttingDown));
  // Hold first, so the model cannot idle out between becoming ready and the hold.
  const std::string id = w.add_hold(lease, owner);
  auto r = co_await AsyncEnsure(w, net::use_awaitable);
  if (!r) {
    w.drop_hold(id);
    co_return reply_error(ex, r.error(), start_error_extra(w, r.error()));
  }
  if (!w.has_hold(id))
    co_return reply_error(
        ex, MakeError("model '" + w.id() + "' was released while the hold was being set up",
                      ErrorCode::kWorkerStopping));
  spdlog::info("model '{}': hold {} for {}s{}", w.id(), id, lease,
               owner.empty() ? "" : " by " + owner);
  {
    nlohmann::json body_ = {{"hold_id", id},
                            {"model_id", w.id()},
                            {"lease_seconds", lease},
                            {"expires_in_seconds", lease}};
    reply(ex, 200, body_);
  }
}

net::awaitable<void> Gateway::hold_op(Exchange& ex, const std::string& hold_id, bool renew) {
  auto w = deps_.manager->find_hold(hold_id);
  if (!w)
    co_return reply_error(
        ex,
        MakeError("hold '" + hold_id + "' not found (expired, dropped, or the model was released)",
                  ErrorCode::kHoldNotFound));
  if (!renew) {
    w->drop_hold(hold_id);
    {
      nlohmann::json body_ = {{"released", true}, {"hold_id", hold_id}, {"model_id", w->id()}};
      co_return reply(ex, 200, body_);
    }
  }
  w->renew_hold(hold_id);
  double lease = 0;
  for (const auto& h : w->info().holds)
    if (h.id == hold_id) lease = h.expires_in_seconds;
  {
    nlohmann::json body_ = {{"hold_id", hold_id},
                            {"model_id", w->id()},
                            {"lease_seconds", lease},
                            {"expires_in_seconds", lease}};
    reply(ex, 200, body_);
  }
}

}  // namespace kitty::web
