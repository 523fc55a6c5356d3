// Worker: restarts after an end kittyd did not ask for (issue 10). A pinned, preloaded or
// pressure-only model is wanted hot (seed 002: "the main LLM cannot die"), so by default it is
// started again after a crash, an OOM kill or a failed start, without waiting for a request:
// 5 s after the first failure, doubling to 300 s, and kittyd gives up after `max_restarts`
// failed runs in a row (state failed, the reason in last_error) until an `ensure`. A run that
// answered a request or stayed ready a minute resets the count. One restart is queued at most;
// a release cancels it. Other models restart on their next request, as before.
#include <spdlog/spdlog.h>

#include "kitty/base/bytes.h"
#include "kitty/worker/worker.h"

namespace kitty {
namespace {

constexpr Duration kFirstRestartDelay = std::chrono::seconds(5);
constexpr Duration kMaxRestartDelay = std::chrono::seconds(300);

const char* RestartName(ModelConfig::Restart r) {
  switch (r) {
    case ModelConfig::Restart::kNever: return "never";
    case ModelConfig::Restart::kOnCrash: return "on-crash";
    case ModelConfig::Restart::kAlways: return "always";
    case ModelConfig::Restart::kDefault: break;
  }
  return "never";
}

}  // namespace

ModelConfig::Restart Worker::restart_policy() const {
  if (config().restart != ModelConfig::Restart::kDefault) return config().restart;
  return policy_.pinned || config().preload || policy_.pressure_evict_only ? ModelConfig::Restart::kOnCrash
                                                                          : ModelConfig::Restart::kNever;
}

void Worker::after_unasked_end() {
  if (run_proven_) restarts_ = 0;
  const ModelConfig::Restart policy = restart_policy();
  const bool clean = last_exit_ && last_exit_->kind == ExitKindName(ExitKind::kClean);
  if (policy == ModelConfig::Restart::kNever || (policy == ModelConfig::Restart::kOnCrash && clean)) return;
  if (restarts_ >= config().max_restarts) {
    gave_up_ = true;
    std::string why = "model '" + id_ + "': gave up restarting it after " + std::to_string(restarts_) +
                      " failed run(s) in a row (max_restarts " + std::to_string(config().max_restarts) +
                      "); an ensure or a request starts it again";
    if (last_error_) why += "; the last: " + last_error_->message;
    spdlog::error("{}", why);
    last_error_ = MakeError(std::move(why), last_error_ ? last_error_->code : ErrorCode::kWorkerCrashed);
    return;
  }
  Duration delay = kFirstRestartDelay;
  for (int i = 0; i < restarts_ && delay < kMaxRestartDelay; ++i) delay *= 2;
  delay = std::min(delay, kMaxRestartDelay);
  ++restarts_;
  restart_due_ = env_.clock->now() + delay;
  spdlog::warn("model '{}': restarting it in {:.0f}s (attempt {} of {}, restart: {})", id_,
               ToSeconds(delay), restarts_, config().max_restarts, RestartName(policy));
  publish(EventKind::kRestartScheduled, RestartName(policy),
          "restart in " + FormatSeconds(ToSeconds(delay)) + " (attempt " + std::to_string(restarts_) + " of " +
              std::to_string(config().max_restarts) + ")");
  // One restart queued at most: a new timer replaces the old one.
  restart_timer_ = env_.clock->start_timer(delay, [this] {
    restart_due_ = {};
    if (phase_ == Phase::kFailed || phase_ == Phase::kStopped) {
      ++restarts_total_;
      start();
    }
  });
}

void Worker::cancel_restart() {
  restart_timer_.reset();
  restart_due_ = {};
  restarts_ = 0;
  gave_up_ = false;
}

WorkerInfo::Restart Worker::restart_info() const {
  WorkerInfo::Restart r;
  r.policy = RestartName(restart_policy());
  r.attempts = restarts_;
  if (restart_due_ != TimePoint{})
    r.next_in_seconds = std::max(0.0, ToSeconds(restart_due_ - env_.clock->now()));
  r.gave_up = gave_up_;
  return r;
}

}  // namespace kitty
