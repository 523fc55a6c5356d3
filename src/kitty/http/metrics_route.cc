#include "kitty/http/metrics_route.h"

#include "kitty/http/admin_routes.h"
#include "kitty/http/control.h"
#include "kitty/http/errors.h"
#include "kitty/metrics/process_self.h"
#include "kitty/metrics/prom_text.h"
#include "kitty/metrics/request_metrics.h"
#include "kitty/sched/capacity.h"
#include "kitty/worker/upstream_status.h"

namespace kitty::web {
namespace {

constexpr const char* kStates[] = {"stopped", "starting", "ready", "stopping", "failed"};

struct Row {
  std::shared_ptr<const ModelConfig> config;
  WorkerSnapshot snap;
};

struct Collected {
  std::vector<Row> rows;
  std::optional<Scheduler::Status> scheduler;
};

void Models(PromText& p, const std::vector<Row>& rows) {
  auto per_model = [&](const char* name, const char* type, const char* help, auto value) {
    p.family(name, type, help);
    for (const auto& r : rows)
      if (std::optional<double> v = value(r)) p.sample(name, {{"model", r.config->id}}, *v);
  };
  p.family("kitty_model_info", "gauge", "Configured models (always 1), with their backend.");
  for (const auto& r : rows)
    p.sample("kitty_model_info", {{"model", r.config->id}, {"backend", BackendName(r.config->backend)}}, 1);
  p.family("kitty_model_state", "gauge", "The state of each model's worker: 1 for the state it is in, 0 for the others.");
  for (const auto& r : rows) {
    const std::string now = WorkerStateName(r.snap.info.state);
    for (const char* s : kStates) p.sample("kitty_model_state", {{"model", r.config->id}, {"state", s}}, now == s);
  }
  using Opt = std::optional<double>;
  per_model("kitty_model_resident_bytes", "gauge", "Resident memory of the worker's process group (RSS, summed).",
            [](const Row& r) { return r.snap.memory ? Opt(r.snap.memory->rss_bytes) : Opt(); });
  per_model("kitty_model_pss_bytes", "gauge", "Proportional set size of the worker's process group, where the kernel reports it.",
            [](const Row& r) { return r.snap.memory && r.snap.memory->pss_available ? Opt(r.snap.memory->pss_bytes) : Opt(); });
  per_model("kitty_model_gpu_bytes", "gauge", "GPU memory of the worker's process group, where the driver reports it.",
            [](const Row& r) { return r.snap.memory && r.snap.memory->gpu_available ? Opt(r.snap.memory->gpu_bytes) : Opt(); });
  per_model("kitty_model_upstream_bytes", "gauge", "What the upstream holds for the model (Ollama's size), for models kittyd does not run itself.",
            [](const Row& r) { auto u = UpstreamMemoryOf(r.snap.info); return u ? Opt(u->size_bytes) : Opt(); });
  per_model("kitty_model_expected_bytes", "gauge", "The footprint a start of the model is planned with.",
            [](const Row& r) { return r.snap.footprint.expected_bytes ? Opt(*r.snap.footprint.expected_bytes) : Opt(); });
  per_model("kitty_model_learned_bytes", "gauge", "The footprint learned from earlier runs (their measured peak).",
            [](const Row& r) { return r.snap.footprint.learned_bytes ? Opt(*r.snap.footprint.learned_bytes) : Opt(); });
  per_model("kitty_requests_in_flight", "gauge", "Requests the model's worker is serving now.",
            [](const Row& r) { return Opt(r.snap.info.in_flight); });
  per_model("kitty_model_holds", "gauge", "Holds that keep the model loaded.",
            [](const Row& r) { return Opt(static_cast<double>(r.snap.info.holds.size())); });
  per_model("kitty_restarts_total", "counter", "Restarts made by the model's restart policy.",
            [](const Row& r) { return Opt(static_cast<double>(r.snap.info.restarts_total)); });
  p.family("kitty_worker_exits_total", "counter", "Ends of a worker kittyd did not ask for, by kind (crash, oom_kill, start_failure, clean, hung, evicted).");
  for (const auto& r : rows)
    for (const auto& [kind, n] : r.snap.info.exits)
      p.sample("kitty_worker_exits_total", {{"model", r.config->id}, {"kind", kind}}, n);
}

void Requests(PromText& p, const std::map<std::string, ModelRequestFigures>& figures) {
  p.family("kitty_requests_total", "counter", "Requests that reached a model, by the status class the client got (none: it went away first).");
  for (const auto& [model, f] : figures)
    for (const auto& [cls, n] : f.requests) p.sample("kitty_requests_total", {{"model", model}, {"code", cls}}, n);
  p.family("kitty_stream_events_total", "counter", "Server-sent events relayed from the workers (about one per token streamed).");
  for (const auto& [model, f] : figures) p.sample("kitty_stream_events_total", {{"model", model}}, f.sse_events);
  p.family("kitty_time_to_first_byte_seconds", "histogram", "From the request's arrival to the worker's first byte through the proxy (a start included).");
  for (const auto& [model, f] : figures)
    if (!f.ttfb.counts.empty()) p.histogram("kitty_time_to_first_byte_seconds", {{"model", model}}, TtfbSecondsBuckets(), f.ttfb.counts, f.ttfb.sum);
  p.family("kitty_load_duration_seconds", "histogram", "From a worker's spawn to its first healthy answer.");
  for (const auto& [model, f] : figures)
    if (!f.load.counts.empty()) p.histogram("kitty_load_duration_seconds", {{"model", model}}, LoadSecondsBuckets(), f.load.counts, f.load.sum);
}

void Evictions(PromText& p, const std::vector<Row>& rows, const std::optional<Scheduler::Status>& s) {
  p.family("kitty_evictions_total", "counter", "Models stopped by kittyd, by reason: idle, room (for another model's start), pressure, headroom.");
  for (const auto& r : rows) p.sample("kitty_evictions_total", {{"model", r.config->id}, {"reason", "idle"}}, r.snap.info.idle_stops);
  if (s)
    for (const auto& [key, n] : s->evictions)
      p.sample("kitty_evictions_total", {{"model", key.first}, {"reason", key.second}}, n);
}

void Machine(PromText& p, const std::optional<Scheduler::Status>& s) {
  if (!s) return;
  if (s->system) {
    p.family("kitty_memory_total_bytes", "gauge", "The machine's memory (or kittyd's cgroup limit).");
    p.sample("kitty_memory_total_bytes", {}, s->system->total_bytes);
    p.family("kitty_memory_available_bytes", "gauge", "Memory that could be allocated without swapping.");
    p.sample("kitty_memory_available_bytes", {}, s->system->available_bytes);
    p.family("kitty_gpu_memory_total_bytes", "gauge", "Each GPU's memory.");
    for (const auto& g : s->system->gpus) p.sample("kitty_gpu_memory_total_bytes", {{"gpu", std::to_string(g.index)}}, g.total_bytes);
    p.family("kitty_gpu_memory_used_bytes", "gauge", "Each GPU's memory in use, by every process.");
    for (const auto& g : s->system->gpus) p.sample("kitty_gpu_memory_used_bytes", {{"gpu", std::to_string(g.index)}}, g.used_bytes);
  }
  p.family("kitty_memory_budget_bytes", "gauge", "The workers' memory budget (absent for an auto budget).");
  if (s->budget_bytes) p.sample("kitty_memory_budget_bytes", {}, *s->budget_bytes);
  p.family("kitty_memory_reserve_bytes", "gauge", "Memory never handed to workers under an auto budget.");
  p.sample("kitty_memory_reserve_bytes", {}, s->reserve_bytes);
  p.family("kitty_memory_workers_bytes", "gauge", "What running and starting workers hold (or are planned to).");
  p.sample("kitty_memory_workers_bytes", {}, s->workers_bytes);
  p.family("kitty_pressure", "gauge", "Whether each kind of pressure is on (1) or off (0).");
  for (const auto& [kind, on] : {std::pair{"ram", s->pressure.ram}, {"gpu", s->pressure.gpu}, {"cpu", s->pressure.cpu},
                                 {"disk", s->pressure.disk}})
    p.sample("kitty_pressure", {{"kind", kind}}, on);
  p.family("kitty_starts_waiting", "gauge", "Starts waiting for room.");
  p.sample("kitty_starts_waiting", {}, static_cast<double>(s->waiting.size()));
}

// The model-server protocol of the Gateway API inference extension (its endpoint picker reads
// these by name, set with its --total-queued-requests-metric, --total-running-requests-metric,
// --kv-cache-usage-percentage-metric and --lora-info-metric flags; docs/CLUSTER.md). Gauges, one
// unlabelled series each, as the picker takes a family's first series.
void Endpoint(PromText& p, const std::vector<Row>& rows, const std::optional<Scheduler::Status>& s, double now) {
  int waiting = 0, running = 0;
  std::string ready, starting;
  auto add = [](std::string& list, const std::string& id) { list += (list.empty() ? "" : ",") + id; };
  for (const auto& r : rows) {
    waiting += r.snap.info.waiting;
    running += r.snap.info.in_flight;
    if (r.snap.info.state == WorkerState::kReady) add(ready, r.config->id);
    else if (r.snap.info.state == WorkerState::kStarting) add(starting, r.config->id);
  }
  p.family("kitty_requests_waiting", "gauge", "Requests waiting for their model to start (or for room to start it), all models.");
  p.sample("kitty_requests_waiting", {}, waiting);
  p.family("kitty_requests_running", "gauge", "Requests the workers are serving now, all models.");
  p.sample("kitty_requests_running", {}, running);
  if (!s) return;
  p.family("kitty_memory_usage_fraction", "gauge", "What the workers hold as a share of the memory they may hold (budget, or machine less reserve), 0 to 1.");
  if (s->capacity_bytes) p.sample("kitty_memory_usage_fraction", {}, sched::UsageFraction(s->workers_bytes, *s->capacity_bytes));
  // Listed the way vLLM lists LoRA adapters (vllm:lora_requests_info): comma-separated ids in
  // labels, the value the time of the reading so the newest series wins.
  p.family("kitty_resident_models_info", "gauge", "Models ready (running_lora_adapters) and starting (waiting_lora_adapters), and how many fit together (max_lora); the value is the time of the reading.");
  p.sample("kitty_resident_models_info", {{"max_lora", std::to_string(s->max_resident)}, {"running_lora_adapters", ready}, {"waiting_lora_adapters", starting}}, now);
}

void Process(PromText& p, const std::string& version) {
  const ProcessSelf s = ReadProcessSelf();
  auto one = [&](const char* name, const char* type, const char* help, auto v) {
    if (!v) return;
    p.family(name, type, help);
    p.sample(name, {}, static_cast<double>(*v));
  };
  one("process_cpu_seconds_total", "counter", "kittyd's user and system CPU time.", s.cpu_seconds);
  one("process_resident_memory_bytes", "gauge", "kittyd's resident memory.", s.resident_bytes);
  one("process_virtual_memory_bytes", "gauge", "kittyd's virtual memory.", s.virtual_bytes);
  one("process_open_fds", "gauge", "kittyd's open file descriptors.", s.open_fds);
  one("process_max_fds", "gauge", "kittyd's open file limit.", s.max_fds);
  one("process_start_time_seconds", "gauge", "When kittyd started, in seconds since the Unix epoch.", s.start_time_seconds);
  p.family("kitty_build_info", "gauge", "kittyd's version (always 1).");
  p.sample("kitty_build_info", {{"version", version}}, 1);
}

}  // namespace

net::awaitable<void> MetricsRoute(const RouteContext& ctx, Exchange& ex) {
  auto collect = [&ctx] {
    Collected c;
    for (const auto& w : ctx.manager->workers()) c.rows.push_back({w->config_snapshot(), SnapshotOf(ctx, *w)});
    if (ctx.scheduler) c.scheduler = ctx.scheduler->status();
    return c;
  };
  Collected c = co_await RunOn(ctx.control, collect);
  std::map<std::string, ModelRequestFigures> figures;
  if (ctx.metrics) figures = ctx.metrics->snapshot();
  PromText p;
  Models(p, c.rows);
  Requests(p, figures);
  Evictions(p, c.rows, c.scheduler);
  Machine(p, c.scheduler);
  const double now = std::chrono::duration<double>(ctx.clock->wall_now().time_since_epoch()).count();
  Endpoint(p, c.rows, c.scheduler, now);
  Process(p, ctx.version);
  Response res = MakeJsonTextResponse(200, p.take(), ex.req.version(), ex.keep_alive);
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  ex.respond(std::move(res));
}

}  // namespace kitty::web
