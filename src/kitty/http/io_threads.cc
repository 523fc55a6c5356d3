#include "kitty/http/io_threads.h"

#include <spdlog/spdlog.h>

namespace kitty::web {

IoThreads::IoThreads(int count) {
  if (count <= 0) count = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()) - 1);
  for (int i = 0; i < count; ++i) {
    // concurrency hint 1: each context is run by exactly one thread, so Asio can skip locks.
    contexts_.push_back(std::make_unique<net::io_context>(1));
    guards_.push_back(net::make_work_guard(*contexts_.back()));
  }
}

IoThreads::~IoThreads() {
  stop();
  join();
}

net::io_context& IoThreads::next() {
  net::io_context& io = *contexts_[next_];
  next_ = (next_ + 1) % contexts_.size();
  return io;
}

void IoThreads::start() {
  if (!threads_.empty()) return;
  for (auto& io : contexts_) {
    threads_.emplace_back([ctx = io.get()] {
      for (;;) {
        try {
          ctx->run();
          return;
        } catch (const std::exception& e) {
          // A handler threw: the connection it served is lost, the loop must go on.
          spdlog::error("http: I/O thread caught an exception: {}", e.what());
        }
      }
    });
  }
}

void IoThreads::stop() {
  guards_.clear();
  for (auto& io : contexts_) io->stop();
}

void IoThreads::join() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace kitty::web
