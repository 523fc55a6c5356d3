// Worker: stopping — release (graceful, or forced), kill, and the end of a process group.
#include <spdlog/spdlog.h>

#include "kitty/events/bus.h"
#include "kitty/worker/start_admission.h"
#include "kitty/worker/worker.h"

namespace kitty {

void Worker::stop_group(Phase phase, bool kill_at_once) {
  phase_ = phase;
  probe_timer_.reset();
  start_deadline_.reset();
  idle_timer_.reset();
  liveness_timer_.reset();
  log_->set_line_observer(nullptr);
  const uint64_t run = run_;
  if (!process_) {
    env_.clock->post([weak = weak_from_this(), run] {
      if (auto w = weak.lock()) w->on_group_gone(run);
    });
    return;
  }
  if (!terminator_) {
    publish(EventKind::kStopping);
    StopSpec spec{label(), probe_host_, probe_port_, shutdown_path_,
                  FromSeconds(config().stop_timeout_seconds)};
    terminator_ = std::make_unique<Terminator>(*env_.clock, *env_.worker_http, *process_, spec,
                                               [this, run] { on_group_gone(run); });
  }
  kill_at_once ? terminator_->kill_now() : terminator_->start();
}

void Worker::begin_stop() { stop_group(Phase::kStopping, /*kill_at_once=*/false); }

void Worker::stop_serving(bool force, const Error& cut, const char* what) {
  idle_timer_.reset();
  if (force) {
    gate_->cut(cut);
    return begin_stop();
  }
  if (phase_ == Phase::kDraining) return;  // already waiting for them
  if (int n = gate_->close(); n > 0) {
    spdlog::info("model '{}': {} waits for {} request(s) in flight", id_, what, n);
    phase_ = Phase::kDraining;
    return;
  }
  begin_stop();
}

void Worker::on_group_gone(uint64_t run) {
  if (run != run_) return;
  if (process_) {
    const int pid = process_->pid();
    spdlog::info("model '{}': pid {} and its process group are gone", id_, pid);
    if (env_.events) env_.events->publish({EventKind::kGone, id_, pid, env_.clock->now()});
  }
  // The Terminator called us: let it return before it is destroyed.
  std::shared_ptr<Terminator> t(std::move(terminator_));
  std::shared_ptr<Process> p(std::move(process_));
  env_.clock->post([t, p] {});

  const Phase ended = phase_;
  keep_alive_.reset();  // it was this run's
  if (pending_) set_config(*std::exchange(pending_, std::nullopt));  // a reload waited for this
  if (ended == Phase::kRetryingPort) return start();
  if (std::exchange(restart_after_stop_, false) && ended == Phase::kStopping) {
    // A restart for a new config: hot again at once, with its holds; waiters join the start.
    spdlog::info("model '{}': restarting with its new config", id_);
    phase_ = Phase::kStopped;
    for (auto& d : std::exchange(stop_waiters_, {})) env_.clock->post(std::move(d));
    return start();
  }
  phase_ = ended == Phase::kStopping ? Phase::kStopped : Phase::kFailed;
  for (auto& d : std::exchange(stop_waiters_, {})) env_.clock->post(std::move(d));
  // A crash or a failed start with nobody waiting: the restart policy decides.
  if (waiters_.empty() && (ended == Phase::kCleaningCrash || ended == Phase::kAbortingStart))
    return after_unasked_end();
  if (waiters_.empty()) return;
  // Requests that came while a failed start was cleaned up get that failure; those that came
  // during a stop or a crash's cleanup start the worker again.
  if (ended == Phase::kAbortingStart) return wake_waiters();
  start();
}

void Worker::release(bool force, DoneCallback done, ErrorCode why) {
  owner_.check("Worker::release");
  cancel_restart();  // asked to stop: no restart is owed
  restart_after_stop_ = false;
  if (done) stop_waiters_.push_back(std::move(done));
  holds_.clear();  // an explicit release overrides holds
  const std::string cause =
      why == ErrorCode::kShuttingDown ? "kittyd is shutting down" : "model '" + id_ + "' was released";
  const Error abandoned = MakeError(cause + " while it was starting", why);
  const Error cut = MakeError(cause + " (forced) while serving this request", why);
  switch (phase_) {
    case Phase::kStopped:
    case Phase::kFailed:
      phase_ = Phase::kStopped;
      consecutive_failures_ = 0;
      for (auto& d : std::exchange(stop_waiters_, {})) env_.clock->post(std::move(d));
      return;
    case Phase::kAdmitting:
      env_.admission->withdraw(*this);
      fail_waiters(abandoned);
      phase_ = Phase::kStopped;
      for (auto& d : std::exchange(stop_waiters_, {})) env_.clock->post(std::move(d));
      return;
    case Phase::kStarting:
      fail_waiters(abandoned);
      return begin_stop();
    case Phase::kRetryingPort:
      // A start was about to be retried: abandon it instead.
      fail_waiters(abandoned);
      phase_ = Phase::kStopping;
      return;
    case Phase::kAbortingStart:
    case Phase::kCleaningCrash:
      phase_ = Phase::kStopping;  // the cleanup goes on; it now ends in "stopped"
      return;
    case Phase::kReady:
    case Phase::kDraining:
      return stop_serving(force, cut, "release");
    case Phase::kStopping:
      return;
  }
}

void Worker::kill(DoneCallback done, ErrorCode why) {
  cancel_restart();
  owner_.check("Worker::kill");
  release(/*force=*/true, std::move(done), why);
  if (terminator_) terminator_->kill_now();
}

}  // namespace kitty
