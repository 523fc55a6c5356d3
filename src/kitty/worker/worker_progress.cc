// Worker: how far a start is (issue 12), for status and X-Kitty-Progress.
#include "kitty/worker/upstream_status.h"
#include "kitty/worker/worker.h"

namespace kitty {

std::optional<WorkerInfo::Progress> Worker::progress() const {
  owner_.check("Worker::progress");
  const bool admitting = phase_ == Phase::kAdmitting;
  if (!admitting && phase_ != Phase::kStarting && phase_ != Phase::kRetryingPort) return std::nullopt;
  WorkerInfo::Progress p;
  const TimePoint now = env_.clock->now();
  p.elapsed_seconds = ToSeconds(now - start_asked_at_);
  p.expected_seconds = last_load_seconds_;
  if (admitting) {
    p.phase = "waiting_for_room";
    return p;
  }
  p.phase = load_progress_.phase();
  // An agent's process prints nothing of the load: what it says on its health path does
  // (waiting for Ollama, creating, pulling, loading).
  if (agent_ && p.phase == "starting")
    if (auto up = UpstreamPhaseOf(backend_status_)) p.phase = *up;
  p.fraction = load_progress_.fraction(ToSeconds(now - spawned_at_), last_load_seconds_);
  return p;
}

}  // namespace kitty
