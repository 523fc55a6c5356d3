// BlockingPool: a few threads for work that may wait on a disk or scan /proc (fsync of the
// state file, group memory reads, GGUF headers, log-file writes), so that no event loop ever
// waits on them. Results go back to whoever asked by posting to their executor.
//
// Thread-safe. Work posted to one Strand runs in order, one piece at a time (the state file's
// writes, one worker's log file).
#pragma once

#include <utility>  // Boost 1.74's asio headers use std::exchange without including it

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>

namespace kitty {

class BlockingPool {
 public:
  using Strand = boost::asio::strand<boost::asio::thread_pool::executor_type>;

  explicit BlockingPool(int threads = 2) : pool_(threads) {}
  /// Waits for queued work to finish.
  ~BlockingPool() { pool_.join(); }

  void post(std::function<void()> fn) { boost::asio::post(pool_, std::move(fn)); }
  /// Waits until every queued piece of work has run (then the pool is done).
  void join() { pool_.join(); }
  Strand make_strand() { return boost::asio::make_strand(pool_.get_executor()); }

 private:
  boost::asio::thread_pool pool_;
};

}  // namespace kitty
