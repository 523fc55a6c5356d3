// Connections: how many client connections kittyd holds, and which of them sit idle between
// requests, oldest first, so that at server.max_connections the oldest idle keep-alive
// connection is closed to make room (and only when none is idle does a new client get 503
// server_busy). Shared by every I/O thread; a mutex guards the idle list (two short critical
// sections per request).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>

#include "kitty/http/beast.h"

namespace kitty::web {

class Connections {
 public:
  /// Handed to each connection; the connection's own thread runs `close_idle`.
  struct Entry {
    net::any_io_executor executor;
    std::function<void()> close_idle;  // closes the connection if it is still idle
    std::list<std::shared_ptr<Entry>>::iterator pos;
    bool idle = false;
  };

  explicit Connections(size_t max) : max_(max) {}

  size_t max() const { return max_; }
  size_t count() const { return count_.load(std::memory_order_relaxed); }
  size_t idle_count() const;

  /// A new connection. When at the cap, asks the oldest idle connection to close; returns false
  /// when none is idle (the caller answers 503 and closes).
  bool admit();
  /// Asks the oldest idle connection to close; false when none is idle.
  bool shed_oldest_idle();
  /// A connection ended (every admitted one, once).
  void release() { count_.fetch_sub(1, std::memory_order_relaxed); }

  /// The connection waits for its next request / stops waiting.
  void mark_idle(const std::shared_ptr<Entry>& e);
  void mark_busy(const std::shared_ptr<Entry>& e);
  /// Asks every idle connection to close (shutdown).
  void close_all_idle();

 private:
  const size_t max_;
  std::atomic<size_t> count_{0};
  mutable std::mutex mu_;
  std::list<std::shared_ptr<Entry>> idle_;  // oldest first
};

}  // namespace kitty::web
