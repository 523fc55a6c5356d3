// UpstreamPool: idle keep-alive connections from one I/O thread to the workers, keyed by
// (host, port, pid) so that a connection to a stopped worker is never handed to the next
// process on the same port. One pool per io_context (an Asio service: UpstreamPool::Of(ex)),
// used only from that context's thread, so it needs no lock.
//
// Every idle connection is watched: when its worker closes it or dies (the socket turns
// readable: EOF or a stray byte), it is closed and dropped at once. Before, connections to
// dead workers stayed in CLOSE-WAIT for good and kittyd's fds grew under crashes (issue 8).
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "kitty/http/beast.h"
#include "kitty/worker/ready_gate.h"

namespace kitty::web {

class UpstreamPool : public net::execution_context::service {
 public:
  using key_type = UpstreamPool;
  static inline net::execution_context::id id;

  explicit UpstreamPool(net::execution_context& ctx) : net::execution_context::service(ctx) {}
  /// The pool of the io_context behind `ex`.
  static UpstreamPool& Of(const net::any_io_executor& ex);

  /// An idle connection to `ep`, or null.
  std::unique_ptr<tcp::socket> take(const Endpoint& ep);
  /// Keeps `s` for reuse (unless that worker is known dead or the pool for it is full).
  void put(const Endpoint& ep, std::unique_ptr<tcp::socket> s);
  /// Closes the idle connections to `pid` and refuses any returned for it later.
  void forget_pid(int pid);
  size_t idle_count() const { return idle_count_; }

 private:
  struct Idle;
  using Key = std::tuple<std::string, int, int>;
  void shutdown() override;
  void drop(const Key& key, const std::shared_ptr<Idle>& entry);

  std::map<Key, std::deque<std::shared_ptr<Idle>>> idle_;
  std::deque<int> dead_pids_;  // the last few forgotten pids (bounded)
  size_t idle_count_ = 0;
};

}  // namespace kitty::web
