// AsioClock: the real Clock, on top of the daemon's io_context.
#pragma once

#include <utility>  // Boost 1.74's asio headers use std::exchange without including it
#include <boost/asio/io_context.hpp>

#include "kitty/base/clock.h"

namespace kitty {

class AsioClock : public Clock {
 public:
  explicit AsioClock(boost::asio::io_context& io) : io_(io) {}
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() const override { return std::chrono::system_clock::now(); }
  std::unique_ptr<Timer> start_timer(Duration after, std::function<void()> fn) override;
  void post(std::function<void()> fn) override;

 private:
  boost::asio::io_context& io_;
};

}  // namespace kitty
