#include "kitty/http/memory_routes.h"

#include <spdlog/spdlog.h>

#include "kitty/http/control.h"
#include "kitty/http/reply.h"
#include "kitty/http/status_json.h"
#include "kitty/sched/capacity.h"

namespace kitty::web {
namespace {

nlohmann::json OptBytes(const std::optional<uint64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// What the control loop knows, copied out for formatting on the I/O thread.
struct MemorySnapshot {
  std::optional<SystemSample> sample;
  std::optional<WallTime> sampled_at;
  Scheduler::Status sched;
};

nlohmann::json ToJson(const MemorySnapshot& s, const MemoryConfig& config) {
  const SystemMemory* m = s.sample ? &s.sample->memory : nullptr;
  nlohmann::json gpus = nlohmann::json::array();
  if (m)
    for (const auto& g : m->gpus) {
      std::optional<uint64_t> budget;
      if (g.index >= 0 && static_cast<size_t>(g.index) < config.gpu_budgets.size())
        budget = config.gpu_budgets[g.index].Resolve(g.total_bytes);
      gpus.push_back({{"index", g.index}, {"name", g.name}, {"total_bytes", g.total_bytes},
                      {"used_bytes", g.used_bytes}, {"budget_bytes", OptBytes(budget)}});
    }
  nlohmann::json cgroup = nullptr;
  if (m && m->cgroup)
    cgroup = {{"path", m->cgroup->path}, {"max_bytes", OptBytes(m->cgroup->max_bytes)},
              {"current_bytes", m->cgroup->current_bytes}};
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : s.sched.pressure.events)
    events.push_back({{"kind", e.kind}, {"at", IsoTime(e.at)}, {"message", e.message}});
  return {
      {"total_bytes", m ? nlohmann::json(m->total_bytes) : nlohmann::json(nullptr)},
      {"available_bytes", m ? nlohmann::json(m->available_bytes) : nlohmann::json(nullptr)},
      {"budget", config.budget.Describe()},
      {"budget_bytes", OptBytes(s.sched.budget_bytes)},
      {"reserve_bytes", config.reserve_bytes},
      {"workers_bytes", s.sched.workers_bytes},
      {"max_models", config.max_models > 0 ? nlohmann::json(config.max_models) : nlohmann::json(nullptr)},
      {"capacity_bytes", OptBytes(s.sched.capacity_bytes)},
      {"usage_fraction", s.sched.capacity_bytes
                             ? nlohmann::json(sched::UsageFraction(s.sched.workers_bytes, *s.sched.capacity_bytes))
                             : nlohmann::json(nullptr)},
      {"max_resident_models", s.sched.max_resident},
      {"swap_total_bytes", m ? nlohmann::json(m->swap_total_bytes) : nlohmann::json(nullptr)},
      {"swap_used_bytes", m ? nlohmann::json(m->swap_used_bytes) : nlohmann::json(nullptr)},
      {"cgroup", cgroup},
      {"unified_memory", m ? m->unified_memory : false},
      {"gpus", gpus},
      {"pressure",
       {{"ram", s.sched.pressure.ram}, {"gpu", s.sched.pressure.gpu}, {"cpu", s.sched.pressure.cpu},
        {"disk", s.sched.pressure.disk}, {"events", events}}},
      {"restore_queue", s.sched.restore_queue},
      {"waiting", s.sched.waiting},
      {"sampled_at", s.sampled_at ? nlohmann::json(IsoTime(*s.sampled_at)) : nlohmann::json(nullptr)},
  };
}

}  // namespace

net::awaitable<void> SystemMemoryRoute(const RouteContext& ctx, Exchange& ex) {
  auto snapshot = [&ctx] {
    MemorySnapshot s;
    if (ctx.memory) s.sample = ctx.memory->system();
    if (s.sample)  // steady time to wall time: how long ago, from now
      s.sampled_at = ctx.clock->wall_now() - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                                 ctx.clock->now() - s.sample->sampled_at);
    if (ctx.scheduler) s.sched = ctx.scheduler->status();
    return s;
  };
  auto s = co_await RunOn(ctx.control, snapshot);
  Reply(ex, 200, ToJson(s, ctx.memory_config));
}

net::awaitable<void> HeadroomRoute(const RouteContext& ctx, Exchange& ex) {
  auto body = nlohmann::json::parse(ex.req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object())
    co_return ReplyError(ex, MakeError("headroom body must be a JSON object like {\"bytes\": 4294967296}",
                                       ErrorCode::kInvalidJson));
  const auto& b = body["bytes"];
  if (!b.is_number_integer() || b.get<int64_t>() <= 0)
    co_return ReplyError(ex, MakeError("bytes must be a positive integer (the bytes to make free)",
                                       ErrorCode::kInvalidRequest));
  if (!ctx.scheduler)
    co_return ReplyError(ex, MakeError("this kittyd has no memory scheduler", ErrorCode::kRouteNotFound));
  const auto bytes = b.get<uint64_t>();
  auto make_room = [s = ctx.scheduler, bytes](std::function<void(Result<Scheduler::HeadroomResult>)> done) {
    s->make_headroom(bytes, std::move(done));
  };
  auto r = co_await UntilCallback<Result<Scheduler::HeadroomResult>>(ctx.control, make_room);
  if (!r) co_return ReplyError(ex, r.error());
  Reply(ex, 200,
        {{"requested_bytes", r->requested_bytes},
         {"freed_bytes", r->freed_bytes},
         {"evicted", r->evicted},
         {"available_bytes", OptBytes(r->available_bytes)}});
}

}  // namespace kitty::web
