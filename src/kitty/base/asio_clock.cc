#include "kitty/base/asio_clock.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace kitty {
namespace {

class AsioTimer : public Timer {
 public:
  AsioTimer(boost::asio::io_context& io, Duration after, std::function<void()> fn)
      : state_(std::make_shared<State>(io)) {
    state_->timer.expires_after(after);
    state_->fn = std::move(fn);
    // The handler keeps the state alive; `cancelled` makes cancel() final even when the
    // timer has already expired and its handler is queued.
    state_->timer.async_wait([s = state_](const boost::system::error_code& ec) {
      if (ec || s->cancelled) return;
      s->cancelled = true;
      auto fn = std::move(s->fn);
      fn();
    });
  }
  ~AsioTimer() override { cancel(); }
  void cancel() override {
    state_->cancelled = true;
    state_->fn = nullptr;
    state_->timer.cancel();
  }

 private:
  struct State {
    explicit State(boost::asio::io_context& io) : timer(io) {}
    boost::asio::steady_timer timer;
    std::function<void()> fn;
    bool cancelled = false;
  };
  std::shared_ptr<State> state_;
};

}  // namespace

std::unique_ptr<Timer> AsioClock::start_timer(Duration after, std::function<void()> fn) {
  return std::make_unique<AsioTimer>(io_, after, std::move(fn));
}

void AsioClock::post(std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); }

}  // namespace kitty
