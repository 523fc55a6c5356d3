// Worker: a new config while it runs (issue 10). A reload applies what only changes how kittyd
// treats the model (names, policy, timeouts) at once; a change of what the worker runs (argv,
// model file, env, port ...) restarts it, but never under a request: the gate closes, requests
// in flight finish, new ones wait, then the worker stops and starts again with the new config,
// keeping its holds. The OOM downgrade ladder changes the config in effect the same way, at
// the next start after an OOM kill.
#include <spdlog/spdlog.h>

#include "kitty/worker/start_admission.h"
#include "kitty/worker/worker.h"

namespace kitty {

std::string Worker::reconfigure(ModelConfig next, bool force) {
  owner_.check("Worker::reconfigure");
  // The same ladder keeps its rung; a different one starts from its top.
  auto ladder = [](const ModelConfig& m) {
    std::vector<std::string> t;
    for (const auto& r : m.downgrade) t.push_back(r.text);
    return t;
  };
  const int rung = ladder(base_) == ladder(next) ? rung_ : 0;
  ModelConfig effective = AtRung(next, rung);
  const ConfigChange change = CompareModels(pending_ ? *pending_ : config(), effective);
  const bool was_given_up = gave_up_;
  // The config's own policy values; those set at run time (admin API) stay.
  if (policy_.pinned_source == "config") policy_.pinned = next.pinned;
  if (policy_.priority_source == "config") policy_.priority = next.priority;
  policy_.pressure_evict_only = next.pressure_evict_only;
  base_ = std::move(next);
  rung_ = rung;
  // A reload is a new chance for a model kittyd gave up on, as an ensure is (its file or its
  // engine may have been fixed): the count starts again, and a model wanted hot starts now.
  if (was_given_up) cancel_restart();
  auto retry = [&](std::string outcome) {
    if (!was_given_up || phase_ != Phase::kFailed || restart_policy() == ModelConfig::Restart::kNever) return outcome;
    spdlog::info("model '{}': starting it again after the reload (kittyd had given up restarting it)", id_);
    start();
    return outcome + "_retrying";
  };
  if (change == ConfigChange::kNone) return retry("unchanged");

  const bool running = phase_ != Phase::kStopped && phase_ != Phase::kFailed && phase_ != Phase::kAdmitting;
  if (change == ConfigChange::kLive || !running) {
    set_config(std::move(effective));
    pending_.reset();
    update_idle_timer();
    if (phase_ == Phase::kReady && !liveness_timer_) schedule_liveness();
    return retry("updated");
  }
  pending_ = std::move(effective);
  // A stop under way that was not a config restart (a release, a crash's cleanup) ends as it
  // would have; the new config is the one the next start uses.
  const bool restarts = phase_ == Phase::kReady || phase_ == Phase::kStarting || restart_after_stop_;
  restart_for_config(force);
  if (!restarts) return "updated";
  return force ? "restarted" : "restart_when_idle";
}

void Worker::restart_for_config(bool force) {
  switch (phase_) {
    case Phase::kDraining:
      // A release's drain: the worker stops as asked; on_group_gone applies pending_.
      if (!restart_after_stop_) return;
      [[fallthrough]];  // a config restart already waiting: force may cut it short now
    case Phase::kReady:
      restart_after_stop_ = true;
      return stop_serving(force,
                          MakeError("model '" + id_ + "' restarts with a new config (forced) while serving this request",
                                    ErrorCode::kWorkerStopping),
                          "the restart for its new config");
    case Phase::kStarting:
      // Nothing is served yet: stop this start; its waiters start the new one.
      restart_after_stop_ = true;
      return begin_stop();
    case Phase::kAdmitting:
    case Phase::kRetryingPort:
    case Phase::kStopped:
    case Phase::kFailed:
      // Not spawned: the new config is the one the next spawn uses.
      if (pending_) set_config(*std::exchange(pending_, std::nullopt));
      return;
    case Phase::kStopping:
    case Phase::kAbortingStart:
    case Phase::kCleaningCrash:
      return;  // on_group_gone applies pending_
  }
}

bool Worker::step_down() {
  if (rung_ >= static_cast<int>(base_.downgrade.size())) {
    if (!base_.downgrade.empty())
      spdlog::error("model '{}': OOM-killed at the last rung of its downgrade ladder", id_);
    return false;
  }
  ++rung_;
  const ModelRung& r = base_.downgrade[static_cast<size_t>(rung_ - 1)];
  spdlog::warn("model '{}': OOM-killed; its next start steps down to rung {} of {}: {}", id_, rung_,
               base_.downgrade.size(), r.text);
  ModelConfig c = AtRung(base_, rung_);
  if (phase_ == Phase::kStopped || phase_ == Phase::kFailed) set_config(std::move(c));
  else pending_ = std::move(c);  // the group is still being cleaned up
  return true;
}

}  // namespace kitty
