#include "kitty/http/sweeper.h"

namespace kitty::web {

Sweeper::Sweeper(net::execution_context& ctx)
    : net::execution_context::service(ctx), timer_(static_cast<net::io_context&>(ctx)) {}

Sweeper& Sweeper::Of(const net::any_io_executor& ex) {
  return net::use_service<Sweeper>(net::query(ex, net::execution::context));
}

std::shared_ptr<Sweeper::Deadline> Sweeper::make(std::function<void()> on_expire) {
  auto d = std::make_shared<Deadline>(std::move(on_expire));
  deadlines_.push_back(d);
  arm();
  return d;
}

void Sweeper::every_tick(std::function<bool(Clock::time_point)> fn) {
  tickers_.push_back(std::move(fn));
  arm();
}

void Sweeper::arm() {
  if (armed_) return;
  armed_ = true;
  timer_.expires_after(kTick);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    armed_ = false;
    if (ec) return;  // shut down
    tick();
  });
}

void Sweeper::tick() {
  const auto now = Clock::now();
  // Expired entries are collected first: a callback may make new deadlines.
  std::vector<std::shared_ptr<Deadline>> due;
  for (size_t i = 0; i < deadlines_.size();) {
    auto d = deadlines_[i].lock();
    if (!d) {
      deadlines_[i] = std::move(deadlines_.back());
      deadlines_.pop_back();
      continue;
    }
    if (d->at_ <= now) {
      d->at_ = Clock::time_point::max();
      due.push_back(std::move(d));
    }
    ++i;
  }
  for (auto& d : due) d->on_expire_();
  bool more = !deadlines_.empty();
  for (auto& fn : tickers_) more = fn(now) || more;
  if (more) arm();
}

void Sweeper::shutdown() {
  timer_.cancel();
  deadlines_.clear();
  tickers_.clear();
}

}  // namespace kitty::web
