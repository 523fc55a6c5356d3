#include "kitty/http/ollama_admin_routes.h"

#include <spdlog/spdlog.h>

#include "kitty/http/control.h"
#include "kitty/http/reply.h"
#include "kitty/ollama/supervisor.h"

namespace kitty::web {
namespace {

nlohmann::json InfoJson(const OllamaSupervisor::Info& i) {
  auto when = [](const std::optional<WallTime>& t) -> nlohmann::json {
    if (!t) return nullptr;
    return std::chrono::duration<double>(t->time_since_epoch()).count();
  };
  return {{"url", i.url},
          {"health", OllamaSupervisor::HealthName(i.health)},
          {"latency_seconds", i.latency_seconds ? nlohmann::json(*i.latency_seconds) : nlohmann::json(nullptr)},
          {"version", i.version.empty() ? nlohmann::json(nullptr) : nlohmann::json(i.version)},
          {"manage", i.manage},
          {"started_by_kittyd", i.started_by_kittyd},
          {"pid", i.pid ? nlohmann::json(i.pid) : nlohmann::json(nullptr)},
          {"restarts_last_hour", i.restarts_last_hour},
          {"max_restarts_per_hour", i.max_restarts_per_hour},
          {"gave_up", i.gave_up},
          {"last_check", when(i.last_check)},
          {"last_restart", when(i.last_restart)},
          {"last_error", i.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(i.last_error)},
          {"log_tail", i.log_tail}};
}

Error NotSupervised() {
  return MakeError("kittyd does not watch an Ollama daemon: add an `ollama:` section to the config (url, manage)",
                   ErrorCode::kRouteNotFound);
}

}  // namespace

net::awaitable<void> OllamaStatusRoute(const RouteContext& ctx, Exchange& ex) {
  if (!ctx.ollama) co_return ReplyError(ex, NotSupervised());
  auto read = [s = ctx.ollama] { return s->info(); };
  auto info = co_await RunOn(ctx.control, read);
  Reply(ex, 200, InfoJson(info));
}

net::awaitable<void> OllamaRestartRoute(const RouteContext& ctx, Exchange& ex) {
  if (!ctx.ollama) co_return ReplyError(ex, NotSupervised());
  spdlog::info("Ollama daemon restart requested");
  auto start = [s = ctx.ollama](std::function<void(Status)> done) { s->restart(std::move(done)); };
  auto st = co_await UntilCallback<Status>(ctx.control, start);
  if (!st) co_return ReplyError(ex, st.error());
  auto read = [s = ctx.ollama] { return s->info(); };
  auto info = co_await RunOn(ctx.control, read);
  Reply(ex, 200, InfoJson(info));
}

}  // namespace kitty::web
