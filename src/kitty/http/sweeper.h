// Sweeper: the deadlines of one I/O thread's connections, checked on a coarse tick (100 ms)
// instead of one timer per connection and per request: arming a timer costs a timerfd_settime
// syscall whenever it becomes the earliest, and a busy gateway arms several per request. A
// deadline here is a time stored in memory; the tick looks at all of them.
//
// One Sweeper per io_context (an Asio service: Sweeper::Of(ex)); everything runs on that
// context's thread, so nothing is locked. Expiry callbacks run there too.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "kitty/http/beast.h"

namespace kitty::web {

class Sweeper : public net::execution_context::service {
 public:
  using key_type = Sweeper;
  using Clock = std::chrono::steady_clock;
  static inline net::execution_context::id id;
  static constexpr auto kTick = std::chrono::milliseconds(100);

  /// One deadline; its owner keeps the shared_ptr (the sweeper only looks while it lives).
  class Deadline {
   public:
    explicit Deadline(std::function<void()> on_expire) : on_expire_(std::move(on_expire)) {}
    /// Expires `after` from now (at the first tick past it); replaces any earlier setting.
    void set(Clock::duration after) { at_ = Clock::now() + after; }
    void clear() { at_ = Clock::time_point::max(); }
    bool armed() const { return at_ != Clock::time_point::max(); }

   private:
    friend class Sweeper;
    Clock::time_point at_ = Clock::time_point::max();
    std::function<void()> on_expire_;
  };

  explicit Sweeper(net::execution_context& ctx);
  static Sweeper& Of(const net::any_io_executor& ex);

  std::shared_ptr<Deadline> make(std::function<void()> on_expire);
  /// `fn(now)` runs on every tick (e.g. a pool's sweep) and says whether it still needs ticks;
  /// wake() starts them again. An idle gateway's threads are not woken ten times a second.
  void every_tick(std::function<bool(Clock::time_point)> fn);
  void wake() { arm(); }

 private:
  void shutdown() override;
  void arm();
  void tick();

  net::steady_timer timer_;
  bool armed_ = false;
  std::vector<std::weak_ptr<Deadline>> deadlines_;
  std::vector<std::function<bool(Clock::time_point)>> tickers_;
};

}  // namespace kitty::web
