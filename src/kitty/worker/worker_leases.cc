// Worker: requests in flight (leases), holds, and the idle countdown they govern.
#include <random>

#include <spdlog/spdlog.h>

#include "kitty/worker/worker.h"

namespace kitty {
namespace {

std::string RandomHoldId() {
  static std::mt19937_64 rng{std::random_device{}()};
  char buf[24];
  snprintf(buf, sizeof buf, "h-%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

}  // namespace

// ---- leases, holds, idle --------------------------------------------------------------

Lease Worker::make_lease() {
  Lease l;
  l.worker_ = weak_from_this();
  l.id_ = next_lease_id_++;
  l.endpoint_ = endpoint_;
  leases_.emplace(l.id_, nullptr);
  ++requests_total_;
  last_used_wall_ = deps_.clock->wall_now();
  idle_timer_.reset();
  return l;
}

void Worker::end_lease(uint64_t id) {
  if (leases_.erase(id) == 0) return;  // cut earlier
  last_end_ = deps_.clock->now();
  last_used_wall_ = deps_.clock->wall_now();
  if (state_ == WorkerState::kStopping && draining_ && leases_.empty()) {
    draining_ = false;
    stop_process();
    return;
  }
  update_idle_timer();
}

void Worker::cut_leases(const Error& why) {
  last_cut_ = why;
  auto leases = std::exchange(leases_, {});
  for (auto& [id, cut] : leases)
    if (cut) deps_.clock->post([cut = std::move(cut), why] { cut(why); });
  last_end_ = deps_.clock->now();
}

void Worker::update_idle_timer() {
  if (state_ != WorkerState::kReady || busy() || config_.idle_shutdown_seconds <= 0) {
    idle_timer_.reset();
    return;
  }
  const TimePoint due = last_end_ + FromSeconds(config_.idle_shutdown_seconds);
  const Duration after = std::max<Duration>(Duration::zero(), due - deps_.clock->now());
  const uint64_t run = run_;
  idle_timer_ = deps_.clock->start_timer(after, [this, run] {
    if (run == run_ && state_ == WorkerState::kReady && !busy()) begin_idle_stop();
  });
}

std::string Worker::add_hold(double lease_seconds, std::string owner) {
  std::string id = RandomHoldId();
  HoldEntry h;
  h.owner = std::move(owner);
  h.lease_seconds = lease_seconds;
  arm_hold(id, h);
  holds_.emplace(id, std::move(h));
  idle_timer_.reset();
  return id;
}

bool Worker::renew_hold(const std::string& hold_id) {
  auto it = holds_.find(hold_id);
  if (it == holds_.end()) return false;
  arm_hold(hold_id, it->second);
  return true;
}

void Worker::arm_hold(const std::string& id, HoldEntry& h) {
  h.expires = deps_.clock->now() + FromSeconds(h.lease_seconds);
  h.timer = deps_.clock->start_timer(FromSeconds(h.lease_seconds), [this, id] {
    spdlog::info("model '{}': hold {} expired (lease not renewed)", config_.id, id);
    drop_hold(id);
  });
}

bool Worker::drop_hold(const std::string& hold_id) {
  auto it = holds_.find(hold_id);
  if (it == holds_.end()) return false;
  // Safe even when the hold's own timer is the caller: clocks move a callback out of the
  // timer before running it.
  holds_.erase(it);
  last_end_ = deps_.clock->now();
  update_idle_timer();
  return true;
}

}  // namespace kitty
