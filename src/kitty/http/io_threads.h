// IoThreads: the gateway's event loops, one io_context per thread, one thread per core by
// default. Connections are spread over them; each connection, with everything it does (the
// relay to its worker included), stays on the thread it was given. The control loop (Workers,
// timers, the spawner) is not one of them.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "kitty/http/beast.h"

namespace kitty::web {

class IoThreads {
 public:
  /// `count` <= 0: one per CPU core but one (at least one): the control loop and the engines
  /// need a core too, and on a small machine a second I/O thread costs more in wake-ups than it
  /// relays (bench: 2 cores, streams at 81-86 % of direct with two threads, 96-143 % with one).
  explicit IoThreads(int count);
  ~IoThreads();  // stops and joins

  int size() const { return static_cast<int>(contexts_.size()); }
  net::io_context& context(int i) { return *contexts_[static_cast<size_t>(i)]; }
  /// The next context in turn (for a new connection).
  net::io_context& next();
  /// Starts the threads (idempotent).
  void start();
  /// Lets run() return once the contexts run out of work... or at once (hard).
  void stop();
  void join();

 private:
  std::vector<std::unique_ptr<net::io_context>> contexts_;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  size_t next_ = 0;
};

}  // namespace kitty::web
