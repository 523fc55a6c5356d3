// FakeClock: a Clock for tests. Time moves only when the test calls advance(); timers and
// posted callbacks run inside advance()/run_pending(), in time order.
#pragma once

#include <map>
#include <memory>

#include "kitty/base/clock.h"

namespace kitty {

class FakeClock : public Clock {
 public:
  FakeClock();
  ~FakeClock() override;
  TimePoint now() const override { return now_; }
  WallTime wall_now() const override;
  std::unique_ptr<Timer> start_timer(Duration after, std::function<void()> fn) override;
  void post(std::function<void()> fn) override;

  /// Moves time forward by `d`, running every timer that falls due (and everything posted)
  /// in order.
  void advance(Duration d);
  /// Runs posted callbacks (and timers due now) until none is left.
  void run_pending();
  /// Number of timers still scheduled.
  size_t pending_timers() const;

 private:
  struct Entry;
  class FakeTimer;
  void run_due();
  TimePoint now_;
  TimePoint start_;
  uint64_t seq_ = 0;
  // (due time, sequence) -> callback; posted callbacks are timers due now.
  std::map<std::pair<TimePoint, uint64_t>, std::function<void()>> queue_;
  std::shared_ptr<FakeClock*> self_;  // lets timers outlive the clock safely
};

}  // namespace kitty
