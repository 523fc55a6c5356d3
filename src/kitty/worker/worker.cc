#include "kitty/worker/worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "kitty/base/bytes.h"
#include "kitty/events/bus.h"
#include "kitty/worker/start_admission.h"
#include "kitty/process/port_allocator.h"

namespace kitty {
namespace {

// Readiness is noticed within ~10 ms for the first seconds (most loads), then probes back
// off to at most 250 ms for the long loads of big models. A line from the engine that says
// it is up ("listening", "loaded") triggers a probe at once, so a ready worker is usually
// noticed within a millisecond or two.
constexpr Duration kFirstProbeDelay = std::chrono::milliseconds(2);
constexpr Duration kFastProbeDelay = std::chrono::milliseconds(10);
constexpr Duration kFastProbePhase = std::chrono::seconds(10);
constexpr Duration kMaxProbeDelay = std::chrono::milliseconds(250);
constexpr Duration kProbeTimeout = std::chrono::seconds(2);
constexpr int kMaxPortRetries = 3;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// What engines print once they serve: llama-server "main: server is listening on ...",
// "model loaded", "all slots are idle"; uvicorn-based servers (llama_cpp.server, vLLM)
// "Uvicorn running on", "Application startup complete"; our fake_engine "ready". A line that
// matches too early only costs one probe more.
bool LooksReady(const std::string& line) {
  const std::string l = Lower(line);
  for (const char* p : {"listening", "loaded", "ready", "all slots are idle", "running on",
                        "startup complete"})
    if (l.find(p) != std::string::npos) return true;
  return false;
}

// What a worker prints when its port was taken between our check and its bind.
bool SaysAddressInUse(const std::string& line) {
  const std::string l = Lower(line);
  for (const char* p : {"address already in use", "address in use", "eaddrinuse",
                        "couldn't bind", "could not bind", "failed to bind"})
    if (l.find(p) != std::string::npos) return true;
  return false;
}

}  // namespace

const char* WorkerStateName(WorkerState s) {
  switch (s) {
    case WorkerState::kStopped: return "stopped";
    case WorkerState::kStarting: return "starting";
    case WorkerState::kReady: return "ready";
    case WorkerState::kStopping: return "stopping";
    case WorkerState::kFailed: return "failed";
  }
  return "unknown";
}

std::shared_ptr<Worker> Worker::Create(ModelConfig config, const Env& env, PortPicker pick_port) {
  auto w = std::shared_ptr<Worker>(new Worker(std::move(config), env, std::move(pick_port)));
  std::weak_ptr<Worker> weak = w;
  w->gate_ = ReadyGate::Create(
      env.clock,
      [weak] {
        if (auto s = weak.lock()) s->on_gate_drained();
      },
      [weak](int pid, const std::string& why) {
        if (auto s = weak.lock()) s->on_request_hung(pid, why);
      });
  return w;
}

Worker::Worker(ModelConfig config, const Env& env, PortPicker pick_port)
    : id_(config.id),
      base_(std::move(config)),
      cfg_(std::make_shared<const ModelConfig>(base_)),
      env_(env),
      pick_port_(std::move(pick_port)),
      log_(std::make_shared<LogTail>()) {
  policy_.pinned = base_.pinned;
  policy_.pressure_evict_only = base_.pressure_evict_only;
  policy_.priority = base_.priority;
}

std::shared_ptr<const ModelConfig> Worker::config_snapshot() const {
  std::lock_guard lock(cfg_mu_);
  return cfg_;
}

void Worker::set_config(ModelConfig c) {
  auto next = std::make_shared<const ModelConfig>(std::move(c));
  std::lock_guard lock(cfg_mu_);
  cfg_ = std::move(next);
}

Worker::~Worker() { log_->set_line_observer(nullptr); }

WorkerState Worker::state() const {
  owner_.check("Worker::state");
  switch (phase_) {
    case Phase::kStopped: return WorkerState::kStopped;
    case Phase::kAdmitting:
    case Phase::kStarting:
    case Phase::kRetryingPort: return WorkerState::kStarting;
    case Phase::kReady: return WorkerState::kReady;
    case Phase::kDraining:
    case Phase::kStopping:
    case Phase::kAbortingStart:
    case Phase::kCleaningCrash: return WorkerState::kStopping;
    case Phase::kFailed: return WorkerState::kFailed;
  }
  return WorkerState::kFailed;
}

int Worker::pid() const { return process_ ? process_->pid() : 0; }

SchedView Worker::sched_view() const {
  owner_.check("Worker::sched_view");
  SchedView v;
  switch (phase_) {
    case Phase::kStopped:
    case Phase::kFailed: v.stage = SchedView::Stage::kNone; break;
    case Phase::kAdmitting: v.stage = SchedView::Stage::kAdmitting; break;
    case Phase::kStarting:
    case Phase::kRetryingPort: v.stage = SchedView::Stage::kStarting; break;
    case Phase::kReady: v.stage = SchedView::Stage::kRunning; break;
    case Phase::kDraining:
    case Phase::kStopping:
    case Phase::kAbortingStart:
    case Phase::kCleaningCrash: v.stage = SchedView::Stage::kStopping; break;
  }
  v.pid = pid();
  const ReadyGate::Stats g = gate_->stats();
  v.in_flight = g.in_flight;
  v.holds = static_cast<int>(holds_.size());
  v.last_end = std::max(g.last_end, hold_dropped_at_);
  if (g.requests_total > 0) v.last_used = g.last_end;
  v.policy = policy_;
  v.ready_at = ready_at_;
  return v;
}

void Worker::set_pinned(bool pinned, std::string source) {
  owner_.check("Worker::set_pinned");
  policy_.pinned = pinned;
  policy_.pinned_source = std::move(source);
  update_idle_timer();  // a pinned model is never idled out; unpinned, the countdown resumes
}

void Worker::set_priority(int priority, std::string source) {
  owner_.check("Worker::set_priority");
  policy_.priority = priority;
  policy_.priority_source = std::move(source);
}

WorkerInfo Worker::info() const {
  owner_.check("Worker::info");
  WorkerInfo i;
  i.model_id = id_;
  i.state = state();
  i.pid = pid();
  if (process_) i.port = probe_port_;
  if (process_) i.backend_status = backend_status_;
  i.restarts_total = restarts_total_;
  i.idle_stops = idle_stops_;
  const ReadyGate::Stats g = gate_->stats();
  i.in_flight = g.in_flight;
  i.waiting = static_cast<int>(waiters_.size());
  i.requests_total = g.requests_total;
  i.last_used = g.last_used;
  i.started_at = started_at_wall_;
  if (phase_ == Phase::kReady && g.in_flight == 0)
    i.idle_seconds = ToSeconds(env_.clock->now() - g.last_end);
  i.load_seconds = load_seconds_;
  i.progress = progress();
  if (last_error_) i.last_error = last_error_->message;
  i.last_exit = last_exit_;
  i.exits = exits_;
  i.restart = restart_info();
  i.downgrade.rung = rung_;
  i.downgrade.rungs = static_cast<int>(base_.downgrade.size());
  if (rung_ > 0) i.downgrade.overrides = base_.downgrade[static_cast<size_t>(rung_ - 1)].text;
  i.config_pending = pending_.has_value();
  i.keep_alive_seconds = keep_alive_;
  if (phase_ == Phase::kReady && holds_.empty() && !policy_.pinned && !policy_.pressure_evict_only) {
    if (const auto idle = idle_after()) i.idles_out_in_seconds = std::max(0.0, *idle - i.idle_seconds.value_or(0));
  }
  const TimePoint now = env_.clock->now();
  for (const auto& [id, h] : holds_)
    i.holds.push_back({id, h.owner, std::max(0.0, ToSeconds(h.expires - now))});
  return i;
}

std::string Worker::log_tail_text() const {
  std::string out;
  for (const auto& l : log_->current_run(kErrorTailLines)) {
    if (!out.empty()) out += '\n';
    out += l;
  }
  return out;
}

Duration Worker::backoff() const {
  if (consecutive_failures_ <= 0) return Duration::zero();
  const int shift = std::min(consecutive_failures_ - 1, 5);
  return std::min<Duration>(std::chrono::seconds(1) * (1 << shift), std::chrono::seconds(30));
}

// ---- acquire / ensure -----------------------------------------------------------------

std::optional<Error> Worker::unavailable() const {
  owner_.check("Worker::unavailable");
  // Also while ready: its agent notices a dead upstream only after a while, and a request sent
  // to it meanwhile would fail instead of going to a fallback.
  if (env_.upstream_unavailable)
    if (auto e = env_.upstream_unavailable(config())) return e;
  if (phase_ != Phase::kFailed || !last_error_) return std::nullopt;
  const bool backing_off = consecutive_failures_ > 0 && env_.clock->now() < failed_at_ + backoff();
  if (!gave_up_ && restart_due_ == TimePoint{} && !backing_off) return std::nullopt;
  return last_error_;
}

void Worker::acquire(LeaseCallback cb) {
  owner_.check("Worker::acquire");
  if (phase_ == Phase::kFailed && consecutive_failures_ > 0) {
    const Duration left = failed_at_ + backoff() - env_.clock->now();
    if (left > Duration::zero()) {
      Error e = *last_error_;
      e.message += " (next start attempt allowed in " + FormatSeconds(ToSeconds(left)) + ")";
      env_.clock->post([cb = std::move(cb), e = std::move(e)] { cb(e); });
      return;
    }
  }
  waiters_.push_back(Waiter{std::move(cb), nullptr});
  if (phase_ == Phase::kReady) return wake_waiters();
  if (phase_ == Phase::kStopped || phase_ == Phase::kFailed) start();
  // Otherwise a start or a stop is under way: its end wakes the waiters (and a stop that
  // ends with waiters left starts the worker again).
}

void Worker::ensure(ReadyCallback cb, bool reset) {
  owner_.check("Worker::ensure");
  if (gave_up_) cancel_restart();  // an explicit ask: the count of failed runs starts again
  if (reset && rung_ > 0) {
    spdlog::info("model '{}': back to the top of its downgrade ladder (was at rung {})", id_, rung_);
    rung_ = 0;
    if (!pending_ && (phase_ == Phase::kStopped || phase_ == Phase::kFailed)) {
      set_config(base_);
    } else {
      pending_ = base_;
      restart_for_config(/*force=*/false);
    }
  }
  waiters_.push_back(Waiter{nullptr, std::move(cb)});
  if (phase_ == Phase::kReady) return wake_waiters();
  if (phase_ == Phase::kStopped || phase_ == Phase::kFailed) start();
}

// ---- start ----------------------------------------------------------------------------

void Worker::publish(EventKind kind, std::string reason, std::string message,
                     std::optional<double> fraction) const {
  if (!env_.events) return;
  // A start is asked for before there is a process: process_ may still be the last run's.
  const int pid = process_ && kind != EventKind::kStarting ? process_->pid() : 0;
  WorkerEvent e{kind, id_, pid, env_.clock->now(), config().rung};
  e.reason = std::move(reason);
  e.message = std::move(message);
  e.fraction = fraction;
  env_.events->publish(e);
}

void Worker::start() {
  ++run_;
  start_asked_at_ = env_.clock->now();
  publish(EventKind::kStarting);
  if (env_.admission) {
    // The scheduler decides first: the model may need room made (others stopped) or may not
    // fit at all. Requests keep waiting meanwhile; the public state is "starting".
    phase_ = Phase::kAdmitting;
    std::weak_ptr<Worker> weak = weak_from_this();
    const uint64_t run = run_;
    env_.admission->request(shared_from_this(), [weak, run](Status decision) {
      if (auto w = weak.lock()) w->on_admitted(run, std::move(decision));
    });
    return;
  }
  spawn();
}

void Worker::on_admitted(uint64_t run, Status decision) {
  if (run != run_ || phase_ != Phase::kAdmitting) return;
  if (decision.ok()) return spawn();
  // Not the model's fault: no failure is counted and no backoff follows.
  last_error_ = decision.error();
  phase_ = Phase::kStopped;
  spdlog::warn("model '{}': not started: {}", id_, last_error_->message);
  wake_waiters();
}

void Worker::spawn() {
  phase_ = Phase::kStarting;
  last_probe_.clear();
  load_seconds_.reset();
  load_progress_ = LoadProgress{};  // a new process: its own output says how far it is
  probe_in_flight_ = false;
  ready_hint_ = false;
  log_->mark_run("--- kittyd: starting model '" + id_ + "' ---");

  if (env_.upstream_unavailable) {
    if (auto e = env_.upstream_unavailable(config())) {
      // Not the model's fault, as with no room: no failure counted, no backoff after.
      last_error_ = MakeError("model '" + id_ + "' cannot start: " + e->message, e->code);
      phase_ = Phase::kStopped;
      spdlog::warn("{}", last_error_->message);
      return wake_waiters();
    }
  }
  auto port = pick_port_(config());
  if (!port) return fail_without_spawn(port.error());
  auto plan = env_.plan_launch ? env_.plan_launch(config(), *port) : PlanLaunch(config(), *port);
  if (!plan) return fail_without_spawn(plan.error());
  plan->spawn.tail = log_;
  if (!env_.logs_dir.empty()) plan->spawn.log_path = env_.logs_dir + "/" + id_ + ".log";

  std::weak_ptr<Worker> weak = weak_from_this();
  const uint64_t run = run_;
  auto proc = env_.spawner->spawn(plan->spawn, [weak, run](ExitStatus st) {
    if (auto w = weak.lock()) w->on_exit(run, st);
  });
  if (!proc) return fail_without_spawn(proc.error());

  process_ = std::move(proc.value());
  probe_host_ = plan->host;
  probe_port_ = plan->port;
  endpoint_ = Endpoint{plan->host, plan->port, process_->pid()};
  if (const auto& up = plan->upstream)
    endpoint_ = Endpoint{up->host, up->port, process_->pid(), up->model, up->prefix, up->authorization};
  agent_ = plan->upstream.has_value();
  evicted_exit_code_ = plan->evicted_exit_code;
  backend_status_.clear();
  health_path_ = plan->health_path;
  shutdown_path_ = plan->shutdown_path;
  spawned_at_ = env_.clock->now();
  ready_at_.reset();
  oom_at_spawn_ = env_.oom_counts ? env_.oom_counts() : OomCounts{};
  started_at_wall_ = env_.clock->wall_now();
  spdlog::info("model '{}': started pid {} on {}:{}", id_, process_->pid(), probe_host_, probe_port_);
  publish(EventKind::kSpawned);

  log_->set_line_observer([weak, run](const std::string& line) {
    if (auto w = weak.lock()) w->on_output_line(run, line);
  });
  start_deadline_ = env_.clock->start_timer(FromSeconds(config().start_timeout_seconds),
                                            [this, run] { on_start_timeout(run); });
  probe_delay_ = kFirstProbeDelay;
  schedule_probe(probe_delay_);
}

void Worker::fail_without_spawn(const Error& e) {
  last_error_ = MakeError("model '" + id_ + "' failed to start: " + e.message,
                          AsStartFailure(e.code));
  ++consecutive_failures_;
  failed_at_ = env_.clock->now();
  phase_ = Phase::kFailed;
  spdlog::error("{}", last_error_->message);
  publish(EventKind::kFailed, "start_failure", last_error_->message);
  wake_waiters();
}

void Worker::schedule_probe(Duration delay) {
  const uint64_t run = run_;
  probe_timer_ = env_.clock->start_timer(delay, [this, run] {
    if (run == run_ && phase_ == Phase::kStarting) probe();
  });
}

void Worker::probe() {
  probe_timer_.reset();
  probe_in_flight_ = true;
  ready_hint_ = false;
  std::weak_ptr<Worker> weak = weak_from_this();
  const uint64_t run = run_;
  env_.worker_http->call("GET", probe_host_, probe_port_, health_path_, kProbeTimeout,
                         [weak, run](WorkerHttpResult r) {
                           if (auto w = weak.lock()) w->on_probe(run, std::move(r));
                         });
}

void Worker::on_output_line(uint64_t run, const std::string& line) {
  if (run != run_ || phase_ != Phase::kStarting) return;
  if (load_progress_.feed(line)) {
    const auto f = load_progress_.fraction(ToSeconds(env_.clock->now() - spawned_at_), last_load_seconds_);
    publish(EventKind::kLoading, load_progress_.phase(), {}, f);
  }
  if (!LooksReady(line)) return;
  if (probe_in_flight_) {
    ready_hint_ = true;  // probe again as soon as this one answers
    return;
  }
  probe();
}

void Worker::on_probe(uint64_t run, WorkerHttpResult r) {
  if (run != run_ || phase_ != Phase::kStarting) return;
  probe_in_flight_ = false;
  if (process_->exited()) return;  // on_exit decides
  // An agent says what it is doing while it starts (waiting for Ollama, creating, pulling,
  // loading): status shows it.
  if (agent_ && !r.body.empty()) backend_status_ = std::move(r.body);
  if (r.status >= 200 && r.status < 300) return become_ready();
  // 503 while loading, connection refused before the listener is up: keep waiting.
  last_probe_ = r.describe();
  if (ready_hint_) return probe();
  probe_delay_ = env_.clock->now() - spawned_at_ < kFastProbePhase
                     ? kFastProbeDelay
                     : std::min<Duration>(probe_delay_ * 2, kMaxProbeDelay);
  schedule_probe(probe_delay_);
}

void Worker::become_ready() {
  phase_ = Phase::kReady;
  port_retries_ = 0;
  consecutive_failures_ = 0;
  start_deadline_.reset();
  probe_timer_.reset();
  log_->set_line_observer(nullptr);
  ready_at_ = env_.clock->now();
  load_seconds_ = ToSeconds(*ready_at_ - spawned_at_);
  last_load_seconds_ = load_seconds_;
  spdlog::info("model '{}': ready in {:.3f}s (pid {}, port {})", id_, *load_seconds_,
               process_->pid(), probe_port_);
  gate_->open(endpoint_);
  requests_at_ready_ = gate_->stats().requests_total;
  publish(EventKind::kReady);
  wake_waiters();
  update_idle_timer();
  liveness_failures_ = 0;
  schedule_liveness();
}

void Worker::on_start_timeout(uint64_t run) {
  if (run != run_ || phase_ != Phase::kStarting) return;
  fail_start("did not become healthy within " + FormatSeconds(config().start_timeout_seconds) +
                 " (last health probe of http://" + probe_host_ + ":" +
                 std::to_string(probe_port_) + health_path_ + ": " +
                 (last_probe_.empty() ? "none answered" : last_probe_) + ")",
             ErrorCode::kStartTimeout, /*kill_group=*/true);
}

void Worker::fail_start(std::string reason, ErrorCode code, bool kill_group) {
  std::string message = "model '" + id_ + "' failed to start: " + reason;
  const std::string tail = log_tail_text();
  if (!tail.empty()) message += "\nlast log lines:\n" + tail;
  last_error_ = MakeError(std::move(message), code);
  port_retries_ = 0;
  ++consecutive_failures_;
  failed_at_ = env_.clock->now();
  spdlog::error("{}", last_error_->message);
  publish(EventKind::kFailed, "start_failure", last_error_->message);
  // Callers learn at once; the process group is cleaned up behind them.
  fail_waiters(*last_error_);
  stop_group(Phase::kAbortingStart, kill_group);
}

bool Worker::lost_auto_port() const {
  if (config().port != 0 || port_retries_ >= kMaxPortRetries) return false;
  // The port is held now (a listener), or the worker said its bind failed: a port held by
  // a live connection of another process looks free to a probe but fails the bind (issue 8).
  if (!env_.ports->check_free(probe_host_, probe_port_).ok()) return true;
  for (const auto& line : log_->current_run(kErrorTailLines))
    if (SaysAddressInUse(line)) return true;
  return false;
}

}  // namespace kitty
