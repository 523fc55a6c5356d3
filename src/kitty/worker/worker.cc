#include "kitty/worker/worker.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace kitty {
namespace {

// Readiness is noticed within ~10 ms for the first seconds (most loads), then probes back
// off to at most 250 ms for the long loads of big models.
constexpr Duration kFirstProbeDelay = std::chrono::milliseconds(2);
constexpr Duration kFastProbeDelay = std::chrono::milliseconds(10);
constexpr Duration kFastProbePhase = std::chrono::seconds(10);
constexpr Duration kMaxProbeDelay = std::chrono::milliseconds(250);
constexpr Duration kProbeTimeout = std::chrono::seconds(2);
constexpr Duration kGonePoll = std::chrono::milliseconds(5);
constexpr size_t kErrorTailLines = 20;

Error ForcedReleaseError(const std::string& id) {
  return MakeError("model '" + id + "' was released (forced) while serving this request",
                   ErrorCode::kWorkerStopping);
}

std::string FormatSeconds(double s) {
  char buf[32];
  snprintf(buf, sizeof buf, s == static_cast<long long>(s) ? "%.0fs" : "%.1fs", s);
  return buf;
}

}  // namespace

const char* WorkerStateName(WorkerState s) {
  switch (s) {
    case WorkerState::kStopped:
      return "stopped";
    case WorkerState::kStarting:
      return "starting";
    case WorkerState::kReady:
      return "ready";
    case WorkerState::kStopping:
      return "stopping";
    case WorkerState::kFailed:
      return "failed";
  }
  return "unknown";
}

// ---- Lease ----------------------------------------------------------------------------

Lease::Lease(Lease&& o) noexcept
    : worker_(std::move(o.worker_)), id_(std::exchange(o.id_, 0)), endpoint_(o.endpoint_) {}

Lease& Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    reset();
    worker_ = std::move(o.worker_);
    id_ = std::exchange(o.id_, 0);
    endpoint_ = o.endpoint_;
  }
  return *this;
}

Lease::~Lease() { reset(); }

void Lease::reset() {
  if (id_ == 0) return;
  if (auto w = worker_.lock()) w->end_lease(id_);
  id_ = 0;
  worker_.reset();
}

void Lease::on_cut(std::function<void()> fn) {
  on_cut(std::function<void(const Error&)>([fn = std::move(fn)](const Error&) { fn(); }));
}

void Lease::on_cut(std::function<void(const Error&)> fn) {
  auto w = worker_.lock();
  if (!w || id_ == 0) return;
  auto it = w->leases_.find(id_);
  if (it != w->leases_.end()) {
    it->second = std::move(fn);
  } else {
    // Already cut before the handler was installed: tell the caller now.
    Error why = w->last_cut_ ? *w->last_cut_ : MakeError("request was cut", ErrorCode::kWorkerStopping);
    w->deps_.clock->post([fn = std::move(fn), why] { fn(why); });
  }
}

// ---- Worker ---------------------------------------------------------------------------

std::shared_ptr<Worker> Worker::Create(ModelConfig config, WorkerDeps deps) {
  return std::shared_ptr<Worker>(new Worker(std::move(config), std::move(deps)));
}

Worker::Worker(ModelConfig config, WorkerDeps deps)
    : config_(std::move(config)), deps_(std::move(deps)), log_(std::make_shared<LogTail>()) {
  if (!deps_.plan_launch) deps_.plan_launch = PlanLaunch;
}

Worker::~Worker() = default;

WorkerInfo Worker::info() const {
  WorkerInfo i;
  i.model_id = config_.id;
  i.state = state_;
  if (process_) i.pid = process_->pid();
  if (state_ == WorkerState::kStarting || state_ == WorkerState::kReady ||
      state_ == WorkerState::kStopping)
    i.port = endpoint_.port;
  i.in_flight = static_cast<int>(leases_.size());
  i.requests_total = requests_total_;
  i.last_used = last_used_wall_;
  i.started_at = started_at_wall_;
  if (state_ == WorkerState::kReady && leases_.empty())
    i.idle_seconds = ToSeconds(deps_.clock->now() - last_end_);
  i.load_seconds = load_seconds_;
  if (last_error_) i.last_error = last_error_->message;
  const TimePoint now = deps_.clock->now();
  for (const auto& [id, h] : holds_)
    i.holds.push_back({id, h.owner, std::max(0.0, ToSeconds(h.expires - now))});
  return i;
}

std::string Worker::log_tail_text() const {
  auto lines = log_->current_run(kErrorTailLines);
  std::string out;
  for (const auto& l : lines) {
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

void Worker::acquire(LeaseCallback cb) {
  if (state_ == WorkerState::kFailed && consecutive_failures_ > 0) {
    const Duration left = failed_at_ + backoff() - deps_.clock->now();
    if (left > Duration::zero()) {
      Error e = *last_error_;
      e.message += " (next start attempt allowed in " + FormatSeconds(ToSeconds(left)) + ")";
      deps_.clock->post([cb = std::move(cb), e = std::move(e)] { cb(e); });
      return;
    }
  }
  waiters_.push_back(Waiter{true, std::move(cb), nullptr});
  if (state_ == WorkerState::kReady) {
    wake_waiters();
  } else if (state_ == WorkerState::kStopped || state_ == WorkerState::kFailed) {
    start();
  } else if (state_ == WorkerState::kStopping) {
    restart_after_stop_ = true;
  }
}

void Worker::ensure(ReadyCallback cb) {
  waiters_.push_back(Waiter{false, nullptr, std::move(cb)});
  if (state_ == WorkerState::kReady) {
    wake_waiters();
  } else if (state_ == WorkerState::kStopped || state_ == WorkerState::kFailed) {
    start();
  } else if (state_ == WorkerState::kStopping) {
    restart_after_stop_ = true;
  }
}

void Worker::serve_waiter(Waiter& w) {
  if (w.wants_lease) {
    deps_.clock->post([cb = std::move(w.on_lease), l = std::make_shared<Lease>(make_lease())] {
      cb(std::move(*l));
    });
  } else {
    deps_.clock->post([cb = std::move(w.on_ready), e = endpoint_] { cb(e); });
  }
}

void Worker::wake_waiters() {
  if (state_ == WorkerState::kReady) {
    for (auto& w : std::exchange(waiters_, {})) serve_waiter(w);
    return;
  }
  fail_waiters(last_error_
                   ? *last_error_
                   : MakeError("model '" + config_.id + "' is not running", ErrorCode::kWorkerStopping));
}

void Worker::fail_waiters(const Error& e) {
  for (auto& w : std::exchange(waiters_, {})) {
    if (w.wants_lease)
      deps_.clock->post([cb = std::move(w.on_lease), e] { cb(e); });
    else
      deps_.clock->post([cb = std::move(w.on_ready), e] { cb(e); });
  }
}

// ---- start ----------------------------------------------------------------------------

void Worker::start() {
  state_ = WorkerState::kStarting;
  ++run_;
  exited_ = false;
  last_probe_.clear();
  load_seconds_.reset();
  log_->mark_run("--- kittyd: starting model '" + config_.id + "' ---");

  auto fail_now = [this](const Error& e) {
    // Nothing was spawned: straight to failed.
    last_error_ = MakeError("model '" + config_.id + "' failed to start: " + e.message,
                            AsStartFailure(e.code));
    ++consecutive_failures_;
    failed_at_ = deps_.clock->now();
    state_ = WorkerState::kFailed;
    spdlog::error("{}", last_error_->message);
    wake_waiters();
  };

  auto port = deps_.pick_port(config_);
  if (!port) return fail_now(port.error());
  auto plan = deps_.plan_launch(config_, *port);
  if (!plan) return fail_now(plan.error());
  plan->spawn.tail = log_;
  if (!deps_.logs_dir.empty()) plan->spawn.log_path = deps_.logs_dir + "/" + config_.id + ".log";

  std::weak_ptr<Worker> weak = weak_from_this();
  const uint64_t run = run_;
  auto proc = deps_.spawner->spawn(plan->spawn, [weak, run](ExitStatus st) {
    if (auto w = weak.lock()) w->on_exit(run, st);
  });
  if (!proc) return fail_now(proc.error());

  process_ = std::move(proc.value());
  endpoint_ = Endpoint{plan->host, plan->port, process_->pid()};
  health_path_ = plan->health_path;
  shutdown_path_ = plan->shutdown_path;
  spawned_at_ = deps_.clock->now();
  started_at_wall_ = deps_.clock->wall_now();
  spdlog::info("model '{}': started pid {} on {}:{}", config_.id, process_->pid(), endpoint_.host,
               endpoint_.port);
  if (deps_.on_spawned) deps_.on_spawned(config_.id, process_->pid());

  start_deadline_ = deps_.clock->start_timer(FromSeconds(config_.start_timeout_seconds),
                                             [this, run] { on_start_timeout(run); });
  probe_delay_ = kFirstProbeDelay;
  schedule_probe(probe_delay_);
}

void Worker::schedule_probe(Duration delay) {
  const uint64_t run = run_;
  probe_timer_ = deps_.clock->start_timer(delay, [this, run] {
    if (run == run_ && state_ == WorkerState::kStarting) probe();
  });
}

void Worker::probe() {
  std::weak_ptr<Worker> weak = weak_from_this();
  const uint64_t run = run_;
  deps_.http->call("GET", endpoint_.host, endpoint_.port, health_path_, kProbeTimeout,
                   [weak, run](WorkerHttpResult r) {
                     if (auto w = weak.lock()) w->on_probe(run, std::move(r));
                   });
}

void Worker::on_probe(uint64_t run, WorkerHttpResult r) {
  if (run != run_ || state_ != WorkerState::kStarting || exited_) return;
  if (r.status >= 200 && r.status < 300) return become_ready();
  // 503 while loading, connection refused before the listener is up: keep waiting.
  last_probe_ = r.describe();
  probe_delay_ = deps_.clock->now() - spawned_at_ < kFastProbePhase
                     ? kFastProbeDelay
                     : std::min<Duration>(probe_delay_ * 2, kMaxProbeDelay);
  schedule_probe(probe_delay_);
}

void Worker::become_ready() {
  state_ = WorkerState::kReady;
  port_retries_ = 0;
  start_deadline_.reset();
  probe_timer_.reset();
  consecutive_failures_ = 0;
  load_seconds_ = ToSeconds(deps_.clock->now() - spawned_at_);
  last_end_ = deps_.clock->now();
  spdlog::info("model '{}': ready in {:.3f}s (pid {}, port {})", config_.id, *load_seconds_,
               process_->pid(), endpoint_.port);
  wake_waiters();
  update_idle_timer();
}

void Worker::on_start_timeout(uint64_t run) {
  if (run != run_ || state_ != WorkerState::kStarting) return;
  fail_start("did not become healthy within " + FormatSeconds(config_.start_timeout_seconds) +
                 " (last health probe of http://" + endpoint_.host + ":" +
                 std::to_string(endpoint_.port) + health_path_ + ": " +
                 (last_probe_.empty() ? "none answered" : last_probe_) + ")",
             ErrorCode::kStartTimeout, /*kill_group=*/true);
}

void Worker::fail_start(std::string reason, ErrorCode code, bool kill_group) {
  std::string message = "model '" + config_.id + "' failed to start: " + reason;
  const std::string tail = log_tail_text();
  if (!tail.empty()) message += "\nlast log lines:\n" + tail;
  last_error_ = MakeError(std::move(message), code);
  port_retries_ = 0;
  ++consecutive_failures_;
  failed_at_ = deps_.clock->now();
  spdlog::error("{}", last_error_->message);
  probe_timer_.reset();
  start_deadline_.reset();
  // Callers learn at once; the process group is cleaned up behind them.
  state_ = WorkerState::kFailed;
  wake_waiters();
  after_stop_ = AfterStop::kFailedStart;
  state_ = WorkerState::kStopping;
  if (kill_group && process_ && !exited_) process_->signal_group(SIGKILL);
  wait_group_gone();
}

void Worker::on_exit(uint64_t run, ExitStatus status) {
  if (run != run_) return;
  exited_ = true;
  switch (state_) {
    case WorkerState::kStarting:
      if (config_.port == 0 && port_retries_ < 3 && deps_.check_port_free &&
          !deps_.check_port_free(endpoint_.host, endpoint_.port)) {
        // Another process bound the auto port between our check and the worker's bind:
        // not the worker's fault, so try again on another port.
        ++port_retries_;
        spdlog::warn(
            "model '{}': port {} was taken by another process during start; retrying "
            "on another port",
            config_.id, endpoint_.port);
        probe_timer_.reset();
        start_deadline_.reset();
        after_stop_ = AfterStop::kRetryStart;
        state_ = WorkerState::kStopping;
        wait_group_gone();
        return;
      }
      fail_start(status.describe() + " while starting", ErrorCode::kWorkerExited,
                 /*kill_group=*/false);
      return;
    case WorkerState::kReady: {
      std::string message =
          "model '" + config_.id + "': worker " + status.describe() + " unexpectedly";
      const std::string tail = log_tail_text();
      if (!tail.empty()) message += "\nlast log lines:\n" + tail;
      spdlog::error("{}", message);
      last_error_ = MakeError(std::move(message), ErrorCode::kWorkerCrashed);
      after_stop_ = AfterStop::kCrashed;
      state_ = WorkerState::kStopping;
      idle_timer_.reset();
      cut_leases(MakeError(
          "model '" + config_.id + "': worker " + status.describe() + " while serving this request",
          ErrorCode::kWorkerCrashed));
      wait_group_gone();
      return;
    }
    case WorkerState::kStopping:
      spdlog::info("model '{}': worker {}", config_.id, status.describe());
      wait_group_gone();
      return;
    case WorkerState::kStopped:
    case WorkerState::kFailed:
      return;
  }
}

// ---- stop -----------------------------------------------------------------------------

void Worker::release(bool force, DoneCallback done) {
  if (done) stop_waiters_.push_back(std::move(done));
  // An explicit release overrides holds.
  holds_.clear();
  switch (state_) {
    case WorkerState::kStopped:
    case WorkerState::kFailed:
      if (state_ == WorkerState::kFailed) state_ = WorkerState::kStopped;
      consecutive_failures_ = 0;
      restart_after_stop_ = false;
      for (auto& d : std::exchange(stop_waiters_, {})) deps_.clock->post(std::move(d));
      return;
    case WorkerState::kStarting: {
      // Abandon the start: whoever waited for it learns why.
      fail_waiters(
          MakeError("model '" + config_.id + "' was released while starting", ErrorCode::kWorkerStopping));
      probe_timer_.reset();
      start_deadline_.reset();
      after_stop_ = AfterStop::kStopped;
      state_ = WorkerState::kStopping;
      stop_process();
      return;
    }
    case WorkerState::kReady:
      state_ = WorkerState::kStopping;
      after_stop_ = AfterStop::kStopped;
      idle_timer_.reset();
      if (force) cut_leases(ForcedReleaseError(config_.id));
      if (!leases_.empty()) {
        draining_ = true;
        spdlog::info("model '{}': release waits for {} request(s) in flight", config_.id,
                     leases_.size());
        return;
      }
      stop_process();
      return;
    case WorkerState::kStopping:
      if (after_stop_ == AfterStop::kRetryStart) {
        // A start was about to be retried: abandon it instead.
        after_stop_ = AfterStop::kStopped;
        fail_waiters(
            MakeError("model '" + config_.id + "' was released while starting", ErrorCode::kWorkerStopping));
        return;
      }
      if (force && draining_) {
        cut_leases(ForcedReleaseError(config_.id));
        draining_ = false;
        stop_process();
      }
      return;
  }
}

void Worker::begin_idle_stop() {
  spdlog::info("model '{}': idle for {}, stopping", config_.id,
               FormatSeconds(config_.idle_shutdown_seconds));
  state_ = WorkerState::kStopping;
  after_stop_ = AfterStop::kStopped;
  stop_process();
}

void Worker::stop_process() {
  if (!process_ || exited_) return wait_group_gone();
  const uint64_t run = run_;
  const int pid = process_->pid();
  spdlog::info("model '{}': stopping pid {}", config_.id, pid);
  stop_deadline_ = deps_.clock->start_timer(FromSeconds(config_.stop_timeout_seconds),
                                            [this, run] { on_stop_deadline(run); });
  auto sigterm = [this, run] {
    if (run != run_ || exited_ || !process_) return;
    process_->signal_group(SIGTERM);
    // llama-server stops answering but never exits on a SIGTERM that arrives with a request
    // in flight, and exits at once on a second one (docs/ENGINE.md): so a second SIGTERM
    // halfway to the deadline, before the SIGKILL.
    stop_step_timer_ =
        deps_.clock->start_timer(FromSeconds(config_.stop_timeout_seconds / 2), [this, run] {
          if (run != run_ || exited_ || !process_) return;
          spdlog::info("model '{}': still running; second SIGTERM", config_.id);
          process_->signal_group(SIGTERM);
        });
  };
  if (shutdown_path_.empty()) return sigterm();

  // The seed's contract: POST /shutdown first; SIGTERM if it does not answer, or if the
  // process is still there after a short grace.
  const Duration timeout =
      std::min<Duration>(std::chrono::seconds(1), FromSeconds(config_.stop_timeout_seconds / 2));
  std::weak_ptr<Worker> weak = weak_from_this();
  deps_.http->call("POST", endpoint_.host, endpoint_.port, shutdown_path_, timeout,
                   [weak, run, sigterm](WorkerHttpResult r) {
                     auto w = weak.lock();
                     if (!w || run != w->run_ || w->exited_) return;
                     if (r.status >= 200 && r.status < 300) {
                       const Duration grace =
                           std::min<Duration>(std::chrono::seconds(2),
                                              FromSeconds(w->config_.stop_timeout_seconds / 2));
                       w->stop_step_timer_ = w->deps_.clock->start_timer(grace, sigterm);
                     } else {
                       spdlog::info("model '{}': {} answered {}; sending SIGTERM", w->id(),
                                    w->shutdown_path_, r.describe());
                       sigterm();
                     }
                   });
}

void Worker::on_stop_deadline(uint64_t run) {
  if (run != run_ || state_ != WorkerState::kStopping || !process_) return;
  spdlog::warn("model '{}': pid {} still running after {}; sending SIGKILL to its group",
               config_.id, process_->pid(), FormatSeconds(config_.stop_timeout_seconds));
  process_->signal_group(SIGKILL);
}

void Worker::wait_group_gone() {
  gone_poll_timer_.reset();
  if (!process_) return finish_stop();
  if (!exited_) return;  // on_exit comes back here
  if (process_->group_alive()) {
    // The leader is gone but members of its group are left (grandchildren): kill them.
    process_->signal_group(SIGKILL);
    gone_poll_timer_ = deps_.clock->start_timer(kGonePoll, [this] { wait_group_gone(); });
    return;
  }
  finish_stop();
}

void Worker::finish_stop() {
  if (process_) {
    const int pid = process_->pid();
    if (deps_.on_gone) deps_.on_gone(config_.id, pid);
    spdlog::info("model '{}': pid {} and its process group are gone", config_.id, pid);
  }
  process_.reset();
  stop_deadline_.reset();
  stop_step_timer_.reset();
  gone_poll_timer_.reset();
  probe_timer_.reset();
  start_deadline_.reset();
  idle_timer_.reset();
  draining_ = false;
  const AfterStop after = std::exchange(after_stop_, AfterStop::kStopped);
  if (after == AfterStop::kRetryStart) {
    state_ = WorkerState::kStopped;
    start();
    return;
  }
  state_ = after == AfterStop::kStopped ? WorkerState::kStopped : WorkerState::kFailed;
  for (auto& d : std::exchange(stop_waiters_, {})) deps_.clock->post(std::move(d));

  const bool restart = std::exchange(restart_after_stop_, false) || !waiters_.empty();
  if (!restart) return;
  if (after == AfterStop::kFailedStart) {
    // Requests that came while a failed start was cleaned up get that failure.
    wake_waiters();
    return;
  }
  if (!waiters_.empty()) start();
}

}  // namespace kitty
