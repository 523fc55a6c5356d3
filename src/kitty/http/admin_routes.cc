#include "kitty/http/admin_routes.h"

#include <spdlog/spdlog.h>

#include <cmath>

#include "kitty/http/events_route.h"
#include "kitty/http/memory_routes.h"
#include "kitty/http/ollama_admin_routes.h"
#include "kitty/http/reply.h"
#include "kitty/http/status_json.h"

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

// `{"<key>": true}` in a JSON body (the query form ?key=1 works too).
bool BodyFlag(const Exchange& ex, const char* key) {
  if (ex.req.body().empty()) return false;
  auto body = nlohmann::json::parse(ex.req.body(), nullptr, false);
  return body.is_object() && body.contains(key) && body[key].is_boolean() && body[key].get<bool>();
}

long Number(const std::map<std::string, std::string>& q, const char* key, long fallback) {
  auto it = q.find(key);
  if (it == q.end()) return fallback;
  char* end = nullptr;
  const long v = std::strtol(it->second.c_str(), &end, 10);
  return (end && *end == 0 && v >= 0) ? v : fallback;
}

}  // namespace

namespace {

// W for each of `ws`. Control thread.
nlohmann::json WorkerList(const RouteContext& ctx, const std::vector<std::shared_ptr<Worker>>& ws) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& w : ws) list.push_back(WorkerJson(SnapshotOf(ctx, *w), w->config()));
  return list;
}

}  // namespace

WorkerSnapshot SnapshotOf(const RouteContext& ctx, const Worker& w) {
  WorkerSnapshot s;
  s.info = w.info();
  if (s.info.pid > 0 && ctx.memory) {
    s.memory = ctx.memory->get(s.info.pid);
    s.peak = ctx.memory->peak(s.info.pid);
  }
  if (ctx.ledger) s.footprint = ctx.ledger->model(w.config());
  // A stopped model has no class: nothing of it could be evicted.
  if (ctx.scheduler && w.sched_view().stage != SchedView::Stage::kNone)
    s.eviction_class = sched::EvictionClassName(ctx.scheduler->class_of(w));
  s.policy = w.policy();
  return s;
}

AdminRoutes::AdminRoutes(const RouteContext& ctx) : ctx_(ctx), started_(ctx.clock->now()) {}

net::awaitable<void> AdminRoutes::health(Exchange& ex) {
  Reply(ex, 200,
        {{"status", *ctx_.shutting_down ? "shutting_down" : "ok"},
         {"version", ctx_.version},
         {"uptime_seconds", std::round(ToSeconds(ctx_.clock->now() - started_) * 10) / 10},
         {"models", ctx_.manager->workers().size()}});
  co_return;
}

net::awaitable<void> AdminRoutes::handle(Exchange& ex, const Target& t) {
  const auto parts = SplitPath(t.path);  // "kitty", ...
  const auto method = ex.req.method();
  auto not_allowed = [&] {
    ReplyError(ex, MakeError(std::string(ex.req.method_string()) + " is not allowed on " + t.path,
                             ErrorCode::kMethodNotAllowed));
  };

  if (parts.size() == 3 && parts[1] == "system" && parts[2] == "workers") {
    if (method != http::verb::get) co_return not_allowed();
    co_return co_await workers(ex);
  }
  if (parts.size() == 3 && parts[1] == "system" && parts[2] == "memory") {
    if (method != http::verb::get) co_return not_allowed();
    co_return co_await SystemMemoryRoute(ctx_, ex);
  }
  if (parts.size() == 3 && parts[1] == "memory" && parts[2] == "headroom") {
    if (method != http::verb::post) co_return not_allowed();
    co_return co_await HeadroomRoute(ctx_, ex);
  }
  if (parts.size() == 3 && parts[1] == "workers" && parts[2] == "release-all") {
    if (method != http::verb::post) co_return not_allowed();
    co_return co_await release_all(ex, IsTrue(t.params, "force"));
  }
  if (parts.size() >= 3 && parts.size() <= 4 && parts[1] == "workers") {
    auto w = ctx_.manager->find(parts[2]);
    if (!w) co_return ReplyModelNotFound(ex, *ctx_.manager, parts[2]);
    if (parts.size() == 3) {
      if (method != http::verb::get) co_return not_allowed();
      co_return co_await one_worker(ex, w);
    }
    const std::string& op = parts[3];
    if (op == "logs") {
      if (method != http::verb::get) co_return not_allowed();
      co_return co_await logs(ex, w, t);
    }
    if (op == "pin" || op == "unpin" || op == "priority") {
      if (method != http::verb::post) co_return not_allowed();
      co_return co_await set_policy(ex, w, op);
    }
    if (op == "restart") {  // the dashboard's button: a release, then a start
      if (method != http::verb::post) co_return not_allowed();
      const bool force = IsTrue(t.params, "force");
      spdlog::info("model '{}': restart requested{}", w->id(), force ? " (force)" : "");
      auto release_it = [w, force](std::function<void()> done) { w->release(force, std::move(done)); };
      co_await UntilDone(ctx_.control, release_it);
      co_return co_await ensure(ex, w, false);
    }
    if (op == "ensure" || op == "release" || op == "hold") {
      if (method != http::verb::post) co_return not_allowed();
      if (op == "ensure") co_return co_await ensure(ex, w, IsTrue(t.params, "reset") || BodyFlag(ex, "reset"));
      if (op == "release") co_return co_await release(ex, w, IsTrue(t.params, "force"));
      co_return co_await hold(ex, w);
    }
  }
  if (parts.size() == 3 && parts[1] == "config" && parts[2] == "reload") {
    if (method != http::verb::post) co_return not_allowed();
    co_return co_await reload(ex, IsTrue(t.params, "force") || BodyFlag(ex, "force"));
  }
  if (parts.size() == 2 && parts[1] == "events") {
    if (method != http::verb::get) co_return not_allowed();
    co_return co_await EventsRoute(ctx_, ex, t);
  }
  if (parts.size() == 2 && parts[1] == "ollama") {
    if (method != http::verb::get) co_return not_allowed();
    co_return co_await OllamaStatusRoute(ctx_, ex);
  }
  if (parts.size() == 3 && parts[1] == "ollama" && parts[2] == "restart") {
    if (method != http::verb::post) co_return not_allowed();
    co_return co_await OllamaRestartRoute(ctx_, ex);
  }
  if (parts.size() == 3 && parts[1] == "holds") {
    if (method != http::verb::delete_) co_return not_allowed();
    co_return co_await hold_op(ex, parts[2], /*renew=*/false);
  }
  if (parts.size() == 4 && parts[1] == "holds" && parts[3] == "renew") {
    if (method != http::verb::post) co_return not_allowed();
    co_return co_await hold_op(ex, parts[2], /*renew=*/true);
  }
  ReplyError(ex, MakeError("no route for " + std::string(ex.req.method_string()) + " " + t.path,
                           ErrorCode::kRouteNotFound));
}

net::awaitable<nlohmann::json> AdminRoutes::worker_views(std::vector<std::shared_ptr<Worker>> ws) {
  // Snapshots on the control loop, with the sampler's latest memory figures (no /proc scan
  // per status call: the sampler reads them on the blocking pool).
  // The JSON is built there too: a W is large, and building it on the I/O thread would hold up
  // the requests it relays (a dashboard polling status moved a client's p99 by a third).
  auto snapshot = [ws, &ctx = ctx_] { return WorkerList(ctx, ws); };
  co_return co_await RunOn(ctx_.control, snapshot);
}

net::awaitable<void> AdminRoutes::workers(Exchange& ex) {
  // Serialised on the control thread as well, for the same reason.
  auto text = [&ctx = ctx_] {
    JsonText j;
    j.begin_object().key("workers").begin_array();
    for (const auto& w : ctx.manager->workers()) WriteWorker(j, SnapshotOf(ctx, *w), w->config());
    j.end_array().end_object();
    return j.take();
  };
  ReplyJsonText(ex, 200, co_await RunOn(ctx_.control, text));
}

net::awaitable<void> AdminRoutes::one_worker(Exchange& ex, std::shared_ptr<Worker> w) {
  // Named first: a braced list inside a co_await is the GCC 12 "array used as initializer" bug.
  std::vector<std::shared_ptr<Worker>> one(1, w);
  auto list = co_await worker_views(std::move(one));
  Reply(ex, 200, list[0]);
}

void AdminRoutes::reply_start_error(Exchange& ex, const Error& e, const std::string& model_id,
                                    std::vector<std::string> tail) {
  if (e.code == ErrorCode::kWorkerStopping) return ReplyError(ex, e);
  // Not the worker's doing: its log (of an earlier run, if any) says nothing about it.
  if (e.code == ErrorCode::kNoRoom || e.code == ErrorCode::kNoRoomBusy) return ReplyError(ex, e, {{"model_id", model_id}});
  ReplyError(ex, e, {{"model_id", model_id}, {"log_tail", std::move(tail)}});
}

net::awaitable<void> AdminRoutes::reload(Exchange& ex, bool force) {
  if (!ctx_.reload)
    co_return ReplyError(ex, MakeError("this kittyd cannot reload its config", ErrorCode::kUnsupported));
  if (*ctx_.shutting_down)
    co_return ReplyError(ex, MakeError("kittyd is shutting down", ErrorCode::kShuttingDown));
  spdlog::info("config reload requested{}", force ? " (force)" : "");
  auto reload_it = [fn = ctx_.reload, force] { return fn(force); };
  auto r = co_await RunOn(ctx_.control, reload_it);
  if (!r) co_return ReplyError(ex, r.error());
  Reply(ex, 200, *r);
}

net::awaitable<void> AdminRoutes::ensure(Exchange& ex, std::shared_ptr<Worker> w, bool reset) {
  if (*ctx_.shutting_down)
    co_return ReplyError(ex, MakeError("kittyd is shutting down", ErrorCode::kShuttingDown));
  auto r = co_await EnsureReady(ctx_.control, w, reset);
  if (!r) {
    auto log_tail = [w] { return w->log()->current_run(20); };
    auto tail = co_await RunOn(ctx_.control, log_tail);
    co_return reply_start_error(ex, r.error(), w->id(), std::move(tail));
  }
  co_await one_worker(ex, w);
}

net::awaitable<void> AdminRoutes::release(Exchange& ex, std::shared_ptr<Worker> w, bool force) {
  spdlog::info("model '{}': release requested{}", w->id(), force ? " (force)" : "");
  auto release_it = [w, force](std::function<void()> done) {
    w->release(force, std::move(done));
  };
  co_await UntilDone(ctx_.control, release_it);
  co_await one_worker(ex, w);
}

net::awaitable<void> AdminRoutes::release_all(Exchange& ex, bool force) {
  spdlog::info("release of every model requested{}", force ? " (force)" : "");
  auto release_every = [m = ctx_.manager, force](std::function<void()> done) {
    m->release_all(force, std::move(done));
  };
  co_await UntilDone(ctx_.control, release_every);
  co_await workers(ex);
}

net::awaitable<void> AdminRoutes::set_policy(Exchange& ex, std::shared_ptr<Worker> w, std::string op) {
  int priority = 0;
  if (op == "priority") {
    auto body = nlohmann::json::parse(ex.req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object())
      co_return ReplyError(ex, MakeError("priority body must be a JSON object like {\"priority\": 10}",
                                         ErrorCode::kInvalidJson));
    const auto& p = body["priority"];
    if (!p.is_number_integer() || p.get<int64_t>() < -1000 || p.get<int64_t>() > 1000)
      co_return ReplyError(ex, MakeError("priority must be an integer from -1000 to 1000 (higher stays longer)",
                                         ErrorCode::kInvalidRequest));
    priority = p.get<int>();
  }
  // Set at run time: status says so (policy_source), and a config reload leaves it alone.
  auto apply = [w, op, priority] {
    if (op == "priority") w->set_priority(priority, "runtime");
    else w->set_pinned(op == "pin", "runtime");
    return true;  // RunOn needs a value
  };
  co_await RunOn(ctx_.control, apply);
  spdlog::info("model '{}': {}{}", w->id(), op == "priority" ? "priority set to " : op + "ned",
               op == "priority" ? std::to_string(priority) : "");
  co_await one_worker(ex, w);
}

net::awaitable<void> AdminRoutes::logs(Exchange& ex, std::shared_ptr<Worker> w, const Target& t) {
  const auto& q = t.params;
  const bool since = q.count("since") > 0;
  const size_t from = static_cast<size_t>(Number(q, "since", 0));
  const size_t tail = static_cast<size_t>(std::min(Number(q, "tail", 100), 100000L));
  auto read_log = [w, since, from, tail] {
    auto log = w->log();
    return std::make_pair(since ? log->since(from) : log->last(tail), log->total());
  };
  auto got = co_await RunOn(ctx_.control, read_log);
  Reply(ex, 200, {{"model_id", w->id()}, {"lines", got.first}, {"next", got.second}});
}

net::awaitable<void> AdminRoutes::hold(Exchange& ex, std::shared_ptr<Worker> w) {
  double lease = 30;
  std::string owner;
  if (!ex.req.body().empty()) {
    auto body = nlohmann::json::parse(ex.req.body(), nullptr, false);
    if (body.is_discarded() || !body.is_object())
      co_return ReplyError(ex, MakeError("hold body must be a JSON object", ErrorCode::kInvalidJson));
    if (body.contains("lease_seconds")) {
      if (!body["lease_seconds"].is_number() || body["lease_seconds"].get<double>() < 0.1 ||
          body["lease_seconds"].get<double>() > 86400)
        co_return ReplyError(ex, MakeError("lease_seconds must be a number from 0.1 to 86400",
                                           ErrorCode::kInvalidRequest));
      lease = body["lease_seconds"].get<double>();
    }
    if (body.contains("owner") && body["owner"].is_string()) owner = body["owner"];
  }
  if (*ctx_.shutting_down)
    co_return ReplyError(ex, MakeError("kittyd is shutting down", ErrorCode::kShuttingDown));
  // Hold first, so the model cannot idle out between becoming ready and the hold.
  // Whether it was ready before this hold: a router between nodes (kitty_client.ray) counts
  // how often it found a model already hot.
  auto take_hold = [w, lease, owner] {
    const bool ready = w->state() == WorkerState::kReady;
    return std::pair<std::string, bool>(w->add_hold(lease, owner), ready);
  };
  const std::pair<std::string, bool> taken = co_await RunOn(ctx_.control, take_hold);
  const std::string id = taken.first;
  const bool was_ready = taken.second;
  auto r = co_await EnsureReady(ctx_.control, w);
  if (!r) {
    auto drop_and_tail = [w, id] {
      w->drop_hold(id);
      return w->log()->current_run(20);
    };
    auto tail = co_await RunOn(ctx_.control, drop_and_tail);
    co_return reply_start_error(ex, r.error(), w->id(), std::move(tail));
  }
  auto still_held = [w, id] { return w->has_hold(id); };
  const bool held = co_await RunOn(ctx_.control, still_held);
  if (!held)
    co_return ReplyError(ex, MakeError("model '" + w->id() +
                                           "' was released while the hold was being set up",
                                       ErrorCode::kWorkerStopping));
  spdlog::info("model '{}': hold {} for {}s{}", w->id(), id, lease, owner.empty() ? "" : " by " + owner);
  Reply(ex, 200, {{"hold_id", id}, {"model_id", w->id()}, {"lease_seconds", lease},
                  {"expires_in_seconds", lease}, {"was_ready", was_ready}});
}

net::awaitable<void> AdminRoutes::hold_op(Exchange& ex, const std::string& hold_id, bool renew) {
  struct Outcome {
    std::string model_id;  // empty: no such hold
    double lease = 0;
  };
  auto apply_op = [m = ctx_.manager, hold_id, renew] {
    Outcome o;
    auto w = m->find_hold(hold_id);
    if (!w) return o;
    o.model_id = w->id();
    if (!renew) {
      w->drop_hold(hold_id);
      return o;
    }
    w->renew_hold(hold_id);
    for (const auto& h : w->info().holds)
      if (h.id == hold_id) o.lease = h.expires_in_seconds;
    return o;
  };
  auto out = co_await RunOn(ctx_.control, apply_op);
  if (out.model_id.empty())
    co_return ReplyError(ex, MakeError("hold '" + hold_id +
                                           "' not found (expired, dropped, or the model was released)",
                                       ErrorCode::kHoldNotFound));
  if (!renew) {
    Reply(ex, 200, {{"released", true}, {"hold_id", hold_id}, {"model_id", out.model_id}});
    co_return;
  }
  Reply(ex, 200, {{"hold_id", hold_id}, {"model_id", out.model_id}, {"lease_seconds", out.lease},
                  {"expires_in_seconds", out.lease}});
}

}  // namespace kitty::web
