// Clock: time and timers, injected so that idle and deadline logic runs on a fake clock in
// tests. Everything that schedules work through a Clock runs on one thread (the daemon's
// event loop); callbacks are invoked on that thread, never re-entrantly from start_timer().
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace kitty {

using Duration = std::chrono::steady_clock::duration;
using TimePoint = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

/// A pending timer. Destroying it (or calling cancel()) guarantees the callback will not run.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void cancel() = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  /// Wall-clock time, for display only (last_used, started_at). Never used for intervals.
  virtual WallTime wall_now() const = 0;
  /// Runs `fn` once, `after` from now. The returned Timer owns the schedule.
  [[nodiscard]] virtual std::unique_ptr<Timer> start_timer(Duration after,
                                                           std::function<void()> fn) = 0;
  /// Runs `fn` soon, on the loop thread, after the current callback returns.
  virtual void post(std::function<void()> fn) = 0;
};

inline double ToSeconds(Duration d) { return std::chrono::duration<double>(d).count(); }
inline Duration FromSeconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

}  // namespace kitty
