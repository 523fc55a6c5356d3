// Worker: how a run ends when kittyd did not ask it to (issue 10). The end is classified (crash,
// OOM kill, start failure, clean, hung: process/exit_class.h) and kept with its log tail for
// status; the requests it served are cut; an OOM kill steps down the downgrade ladder; the
// cleanup of its group follows (worker_stop.cc), then the restart policy (worker_restart.cc).
#include <spdlog/spdlog.h>

#include "kitty/process/exit_class.h"
#include "kitty/worker/worker.h"

namespace kitty {
namespace {

// A run that stayed ready this long proved the model can run (see run_proven_).
constexpr Duration kProvenAfter = std::chrono::seconds(60);

}  // namespace

bool Worker::proven() const {
  if (!ready_at_) return false;
  const ReadyGate::Stats g = gate_->stats();
  return env_.clock->now() - *ready_at_ >= kProvenAfter ||
         g.requests_total - requests_at_ready_ > static_cast<uint64_t>(g.in_flight);
}

void Worker::record_exit(const ExitStatus& status) {
  ExitFacts f;
  f.status = status;
  f.became_ready = ready_at_.has_value();
  f.oom_before = oom_at_spawn_;
  f.oom_after = env_.oom_counts ? env_.oom_counts() : OomCounts{};
  const ExitVerdict v = ClassifyExit(f);
  WorkerInfo::Exit e;
  e.kind = ExitKindName(v.kind);
  e.message = "model '" + id_ + "': worker " + v.why;
  e.code = status.code;
  e.signal = status.signal;
  keep_exit(std::move(e));
  if (v.kind == ExitKind::kOomKill) step_down();
}

void Worker::keep_exit(WorkerInfo::Exit e) {
  e.at = env_.clock->wall_now();
  e.log_tail = log_->current_run(kErrorTailLines);
  ++exits_[e.kind];
  spdlog::warn("{} [{}]", e.message, e.kind);
  publish(EventKind::kExited, e.kind, e.message);
  last_exit_ = std::move(e);
}

void Worker::on_exit(uint64_t run, ExitStatus status) {
  if (run != run_) return;
  if (evicted_exit_code_ != 0 && status.code == evicted_exit_code_ && phase_ == Phase::kReady) {
    // The upstream (Ollama's own keep_alive or scheduler) dropped the model: not a failure,
    // and not "ready" any more. Kept as the last end, then stopped like an idle-out; the next
    // request loads it again.
    WorkerInfo::Exit e;
    e.kind = "evicted";
    e.message = "model '" + id_ + "': " + BackendName(config().backend) +
                " unloaded it on its own (its keep_alive or its scheduler)";
    e.code = status.code;
    keep_exit(std::move(e));
    gate_->cut(MakeError("model '" + id_ + "' was unloaded by " + BackendName(config().backend) + " while serving this request",
                         ErrorCode::kWorkerCrashed));
    return stop_group(Phase::kStopping, /*kill_at_once=*/true);
  }
  // Whether this run proved the model can run, read before the crash cuts the leases.
  run_proven_ = (phase_ == Phase::kReady || phase_ == Phase::kDraining) && proven();
  // Ends kittyd did not cause are classified and kept; its own stops are not failures.
  // (A start that lost its auto port to another process is retried, not a failure.)
  if ((phase_ == Phase::kStarting && !lost_auto_port()) || phase_ == Phase::kReady ||
      phase_ == Phase::kDraining)
    record_exit(status);
  switch (phase_) {
    case Phase::kStarting:
      if (lost_auto_port()) {
        // Not the worker's fault: clean up and start again on another port, unseen by the
        // requests waiting for it.
        ++port_retries_;
        spdlog::warn("model '{}': port {} was taken by another process during start; retrying "
                     "on another port",
                     id_, probe_port_);
        return stop_group(Phase::kRetryingPort, /*kill_at_once=*/true);
      }
      return fail_start(status.describe() + " while starting", ErrorCode::kWorkerExited,
                        /*kill_group=*/false);
    case Phase::kReady:
    case Phase::kDraining: {
      std::string message =
          "model '" + id_ + "': worker " + status.describe() + " unexpectedly";
      const std::string tail = log_tail_text();
      if (!tail.empty()) message += "\nlast log lines:\n" + tail;
      spdlog::error("{}", message);
      gate_->cut(MakeError("model '" + id_ + "': worker " + status.describe() +
                               " while serving this request",
                           ErrorCode::kWorkerCrashed));
      if (phase_ == Phase::kDraining) return stop_group(Phase::kStopping, true);  // asked for
      last_error_ = MakeError(std::move(message), ErrorCode::kWorkerCrashed);
      return stop_group(Phase::kCleaningCrash, /*kill_at_once=*/true);
    }
    case Phase::kStopping:
    case Phase::kAbortingStart:
    case Phase::kCleaningCrash:
    case Phase::kRetryingPort:
      spdlog::info("model '{}': worker {}", id_, status.describe());
      if (terminator_) terminator_->leader_exited();
      return;
    case Phase::kStopped:
    case Phase::kAdmitting:
    case Phase::kFailed:
      return;
  }
}

}  // namespace kitty
