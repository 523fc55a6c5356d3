// Worker: liveness of a ready worker (issue 10). Peers notice a dead worker only when a request
// fails, and none notices one that is alive but hung. Every `liveness.interval_seconds` kittyd
// asks a ready worker's health path; `liveness.failures` failures in a row while it serves no
// request mean it is hung: kittyd kills its group and the restart policy decides what follows.
// A worker serving requests may answer health slowly (one engine thread busy generating), so a
// failed probe does not count while its requests make progress (a request began, or bytes came
// for one, within the last interval): it is not hung while it streams. One that answers neither
// health nor its requests is hung, and its requests are cut with worker_hung (else they would
// wait for ever: a frozen engine, a SIGSTOP). busy_timeout_seconds, when set, catches a request
// that gets nothing sooner (the proxy reports it here through its lease).
#include <spdlog/spdlog.h>

#include <csignal>

#include "kitty/process/exit_class.h"
#include "kitty/worker/worker.h"

namespace kitty {
namespace {

// Health answers within this, or the probe failed. Longer than the start probes' 2 s: a loaded
// engine under load is slower to answer than one that has just come up.
constexpr Duration kLivenessTimeout = std::chrono::seconds(5);

}  // namespace

void Worker::schedule_liveness() {
  if (config().liveness_interval_seconds <= 0) return;
  const uint64_t run = run_;
  liveness_timer_ = env_.clock->start_timer(FromSeconds(config().liveness_interval_seconds), [this, run] {
    if (run != run_ || phase_ != Phase::kReady) return;
    std::weak_ptr<Worker> weak = weak_from_this();
    env_.worker_http->call("GET", probe_host_, probe_port_, health_path_, kLivenessTimeout,
                           [weak, run](WorkerHttpResult r) {
                             if (auto w = weak.lock()) w->on_liveness(run, std::move(r));
                           });
  });
}

void Worker::on_liveness(uint64_t run, WorkerHttpResult r) {
  if (run != run_ || phase_ != Phase::kReady) return;
  const ReadyGate::Stats g = gate_->stats();
  const bool progressing =
      g.in_flight > 0 && env_.clock->now() - g.last_progress < FromSeconds(config().liveness_interval_seconds);
  if (r.status >= 200 && r.status < 300) {
    liveness_failures_ = 0;
    if (agent_) backend_status_ = std::move(r.body);
  } else if (!progressing) {
    ++liveness_failures_;
    spdlog::warn("model '{}': health probe failed ({}), {} of {} in a row", id_, r.describe(),
                 liveness_failures_, config().liveness_failures);
    if (liveness_failures_ >= config().liveness_failures)
      return declare_hung("model '" + id_ + "': worker hung: " + std::to_string(liveness_failures_) +
                          " health probes in a row failed while no request made progress (the last: " + r.describe() +
                          "); kittyd killed it");
  }
  schedule_liveness();
}

void Worker::on_request_hung(int pid, const std::string& why) {
  // A report about an earlier run, or one that already ended, is stale.
  if (phase_ != Phase::kReady || pid != endpoint_.pid) return;
  declare_hung("model '" + id_ + "': worker hung: " + why + "; kittyd killed it");
}

void Worker::declare_hung(std::string message) {
  WorkerInfo::Exit e;
  e.kind = ExitKindName(ExitKind::kHung);
  e.message = std::move(message);
  e.signal = SIGKILL;
  last_error_ = MakeError(e.message, ErrorCode::kWorkerHung);
  gate_->cut(MakeError(e.message, ErrorCode::kWorkerHung));
  keep_exit(std::move(e));
  run_proven_ = proven();
  stop_group(Phase::kCleaningCrash, /*kill_at_once=*/true);
}

}  // namespace kitty
