// ThreadOwner: our GUARDED_BY. An object owned by one thread (a Worker, the WorkerManager: the
// control loop's) holds one and checks it at the top of each method that touches its state.
// A call from another thread aborts at once, naming the object and the call, instead of racing
// quietly. On by default (KITTY_THREAD_CHECKS); the check is one pthread_self() compare.
#pragma once

#include <thread>

namespace kitty {

class ThreadOwner {
 public:
  /// Owned by the constructing thread.
  ThreadOwner() : owner_(std::this_thread::get_id()) {}
  /// Hands ownership to the calling thread (e.g. an object built on one thread, then run
  /// on another). Call before any other thread can reach the object.
  void rebind() { owner_ = std::this_thread::get_id(); }
  bool on_owner_thread() const { return std::this_thread::get_id() == owner_; }
  /// Aborts with "<what> called off its owning thread" unless on the owner thread.
  void check(const char* what) const {
#ifdef KITTY_THREAD_CHECKS
    if (!on_owner_thread()) Fail(what);
#else
    (void)what;
#endif
  }

 private:
  [[noreturn]] static void Fail(const char* what);
  std::thread::id owner_;
};

}  // namespace kitty
