#include "kitty/testing/fake_clock.h"

namespace kitty {

class FakeClock::FakeTimer : public Timer {
 public:
  FakeTimer(std::weak_ptr<FakeClock*> clock, std::pair<TimePoint, uint64_t> key)
      : clock_(std::move(clock)), key_(key) {}
  ~FakeTimer() override { cancel(); }
  void cancel() override {
    if (auto c = clock_.lock()) (*c)->queue_.erase(key_);
    clock_.reset();
  }

 private:
  std::weak_ptr<FakeClock*> clock_;
  std::pair<TimePoint, uint64_t> key_;
};

FakeClock::FakeClock()
    : now_(TimePoint() + std::chrono::hours(1)), start_(now_),
      self_(std::make_shared<FakeClock*>(this)) {}

FakeClock::~FakeClock() = default;

WallTime FakeClock::wall_now() const {
  // A fixed epoch plus fake elapsed time, so displayed times are deterministic.
  return WallTime(std::chrono::seconds(1'800'000'000)) +
         std::chrono::duration_cast<WallTime::duration>(now_ - start_);
}

std::unique_ptr<Timer> FakeClock::start_timer(Duration after, std::function<void()> fn) {
  auto key = std::make_pair(now_ + after, seq_++);
  queue_.emplace(key, std::move(fn));
  return std::make_unique<FakeTimer>(self_, key);
}

void FakeClock::post(std::function<void()> fn) {
  queue_.emplace(std::make_pair(now_, seq_++), std::move(fn));
}

void FakeClock::run_due() {
  while (!queue_.empty() && queue_.begin()->first.first <= now_) {
    auto fn = std::move(queue_.begin()->second);
    queue_.erase(queue_.begin());
    fn();
  }
}

void FakeClock::run_pending() { run_due(); }

void FakeClock::advance(Duration d) {
  const TimePoint end = now_ + d;
  run_due();
  while (!queue_.empty() && queue_.begin()->first.first <= end) {
    now_ = std::max(now_, queue_.begin()->first.first);
    run_due();
  }
  now_ = end;
  run_due();
}

size_t FakeClock::pending_timers() const { return queue_.size(); }

}  // namespace kitty
