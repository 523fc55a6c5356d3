// UpstreamPool: idle keep-alive connections from one I/O thread to the workers, keyed by
// (host, port, pid) so that a connection to a stopped worker is never handed to the next
// process on the same port. One pool per io_context (an Asio service: UpstreamPool::Of(ex)),
// used only from that context's thread, so it needs no lock.
//
// Connections to a worker that is gone are closed when the control loop says so
// (forget_pid); the pool also sweeps itself every second (on the thread's Sweeper tick): a
// connection the worker closed or reset, or one idle too long, is closed and dropped. Before,
// connections to dead workers stayed in CLOSE-WAIT for good and kittyd's fds grew under crashes
// (issue 8). A connection that dies between two sweeps costs one retry on a fresh connection
// (the proxy's), not an error.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <tuple>

#include "kitty/http/beast.h"
#include "kitty/worker/ready_gate.h"

namespace kitty::web {

class UpstreamPool : public net::execution_context::service {
 public:
  using key_type = UpstreamPool;
  using Clock = std::chrono::steady_clock;
  static inline net::execution_context::id id;
  static constexpr auto kMaxIdleTime = std::chrono::seconds(60);

  explicit UpstreamPool(net::execution_context& ctx);
  /// The pool of the io_context behind `ex`.
  static UpstreamPool& Of(const net::any_io_executor& ex);

  /// An idle connection to `ep`, or null.
  std::unique_ptr<tcp::socket> take(const Endpoint& ep);
  /// Keeps `s` for reuse (unless that worker is known dead or the pool for it is full).
  void put(const Endpoint& ep, std::unique_ptr<tcp::socket> s);
  /// Closes the idle connections to `pid` and refuses any returned for it later.
  void forget_pid(int pid);
  /// Closes connections the worker closed (EOF), reset, or that sat idle over kMaxIdleTime.
  /// Returns whether any connection is left.
  bool sweep(Clock::time_point now);
  size_t idle_count() const { return idle_count_; }

 private:
  struct Idle {
    std::unique_ptr<tcp::socket> socket;
    Clock::time_point since;
  };
  using Key = std::tuple<std::string, int, int>;
  void shutdown() override;

  std::map<Key, std::deque<Idle>> idle_;
  std::deque<int> dead_pids_;  // the last few forgotten pids (bounded)
  size_t idle_count_ = 0;
  int ticks_ = 0;
};

}  // namespace kitty::web
