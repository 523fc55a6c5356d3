// Worker: waiters, holds, and the idle countdown they govern with the gate's leases.
#include <spdlog/spdlog.h>

#include <random>

#include "kitty/base/bytes.h"
#include "kitty/worker/worker.h"

namespace kitty {
namespace {

// While requests are in flight the idle timer looks again this often.
constexpr Duration kBusyIdleRecheck = std::chrono::seconds(1);

std::string RandomHoldId() {
  static std::mt19937_64 rng{std::random_device{}()};
  char buf[24];
  snprintf(buf, sizeof buf, "h-%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

// ---- waiters ----------------------------------------------------------------------------

void Worker::wake_waiters() {
  if (phase_ == Phase::kReady) {
    for (auto& w : std::exchange(waiters_, {})) serve_waiter(w);
    return;
  }
  fail_waiters(last_error_ ? *last_error_
                           : MakeError("model '" + id_ + "' is not running",
                                       ErrorCode::kWorkerStopping));
}

void Worker::serve_waiter(Waiter& w) {
  if (w.on_lease) {
    // The gate is open while ready, so this cannot fail.
    auto lease = std::make_shared<Lease>(std::move(*gate_->try_lease()));
    env_.clock->post([cb = std::move(w.on_lease), lease] { cb(std::move(*lease)); });
  } else {
    env_.clock->post([cb = std::move(w.on_ready), e = endpoint_] { cb(e); });
  }
}

void Worker::fail_waiters(const Error& e) {
  for (auto& w : std::exchange(waiters_, {})) {
    if (w.on_lease)
      env_.clock->post([cb = std::move(w.on_lease), e] { cb(e); });
    else
      env_.clock->post([cb = std::move(w.on_ready), e] { cb(e); });
  }
}

// ---- idleness ---------------------------------------------------------------------------

void Worker::on_gate_drained() {
  if (phase_ == Phase::kDraining) begin_stop();
}

// The idle countdown is a timer that looks at the gate when it fires, rather than one re-armed
// at the end of every request (which would wake the control thread per request): while leases
// are out it looks again every second; once none is, it waits for the rest of the idle period
// counted from the last lease's end (or the last hold's drop).
void Worker::update_idle_timer() {
  // Pinned and pressure-only models are never idled out (seed 002).
  const std::optional<double> idle = idle_after();
  if (phase_ != Phase::kReady || !holds_.empty() || !idle || policy_.pinned || policy_.pressure_evict_only) {
    idle_timer_.reset();
    return;
  }
  const ReadyGate::Stats g = gate_->stats();
  Duration after = kBusyIdleRecheck;
  if (g.in_flight == 0) {
    const TimePoint due = std::max(g.last_end, hold_dropped_at_) + FromSeconds(*idle);
    after = std::max<Duration>(Duration::zero(), due - env_.clock->now());
  }
  const uint64_t run = run_;
  idle_timer_ = env_.clock->start_timer(after, [this, run] {
    if (run != run_ || phase_ != Phase::kReady || !holds_.empty() || policy_.pinned ||
        policy_.pressure_evict_only)
      return;
    const std::optional<double> idle = idle_after();
    if (!idle) return;
    const ReadyGate::Stats g = gate_->stats();
    const TimePoint due = std::max(g.last_end, hold_dropped_at_) + FromSeconds(*idle);
    // Busy, or a request ended since the timer was set: look again later. The gate closes
    // only if nothing is in flight, atomically (a lease may be taken on an I/O thread now).
    if (g.in_flight > 0 || env_.clock->now() < due || !gate_->close_if_idle())
      return update_idle_timer();
    spdlog::info("model '{}': idle for {}s{}, stopping", id_, *idle, keep_alive_ ? " (its keep-alive)" : "");
    ++idle_stops_;
    publish(EventKind::kEvicted, "idle", "idle for " + FormatSeconds(*idle));
    begin_stop();
  });
}

std::optional<double> Worker::idle_after() const {
  if (keep_alive_) return *keep_alive_ < 0 ? std::nullopt : keep_alive_;
  const double s = config().idle_shutdown_seconds;
  return s > 0 ? std::optional<double>(s) : std::nullopt;  // 0 in the config: never
}

void Worker::set_keep_alive(double seconds) {
  owner_.check("Worker::set_keep_alive");
  if (phase_ != Phase::kReady) return;  // a run that ended took its keep-alive with it
  keep_alive_ = seconds;
  update_idle_timer();
}

// ---- holds ------------------------------------------------------------------------------

std::string Worker::add_hold(double lease_seconds, std::string owner) {
  owner_.check("Worker::add_hold");
  std::string id = RandomHoldId();
  HoldEntry h;
  h.owner = std::move(owner);
  h.lease_seconds = lease_seconds;
  arm_hold(id, h);
  publish(EventKind::kHoldTaken, h.owner, "hold " + id + " for " + FormatSeconds(lease_seconds));
  holds_.emplace(id, std::move(h));
  idle_timer_.reset();
  return id;
}

bool Worker::renew_hold(const std::string& hold_id) {
  owner_.check("Worker::renew_hold");
  auto it = holds_.find(hold_id);
  if (it == holds_.end()) return false;
  arm_hold(hold_id, it->second);
  return true;
}

bool Worker::has_hold(const std::string& hold_id) const {
  owner_.check("Worker::has_hold");
  return holds_.count(hold_id) > 0;
}

void Worker::arm_hold(const std::string& id, HoldEntry& h) {
  h.expires = env_.clock->now() + FromSeconds(h.lease_seconds);
  h.timer = env_.clock->start_timer(FromSeconds(h.lease_seconds), [this, id] {
    spdlog::info("model '{}': hold {} expired (lease not renewed)", id_, id);
    end_hold(id, "expired");
  });
}

bool Worker::drop_hold(const std::string& hold_id) {
  owner_.check("Worker::drop_hold");
  return end_hold(hold_id, "dropped");
}

bool Worker::end_hold(const std::string& hold_id, const char* why) {
  auto it = holds_.find(hold_id);
  if (it == holds_.end()) return false;
  publish(EventKind::kHoldEnded, why, "hold " + hold_id + " " + why);
  // Safe even when the hold's own timer is the caller: clocks move a callback out of the
  // timer before running it.
  holds_.erase(it);
  // The idle countdown starts from the drop of the hold, not from the last request.
  hold_dropped_at_ = env_.clock->now();
  update_idle_timer();
  return true;
}

}  // namespace kitty
