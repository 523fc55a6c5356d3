// Calls from the I/O threads into the control loop, which owns every Worker and the
// WorkerManager: the call runs there, and the coroutine resumes on its own thread with the
// result. Worker callbacks run on the control thread too; the handler is posted back to its
// executor so that no I/O object is ever touched from the control thread.
//
// GCC 12 destroys a lambda (or any aggregate) temporary that appears inside a co_await
// expression twice (control_test.cc shows the safe form): a captured shared_ptr then
// loses a reference it never had and the Worker is freed under us. So every lambda handed to
// RunOn/UntilDone from a coroutine is a named local first:
//   auto read = [w] { return w->info(); };   // not: co_await RunOn(control, [w] {...})
//   auto info = co_await RunOn(control, read);
#pragma once

#include <memory>
#include <optional>
#include <type_traits>

#include "kitty/http/beast.h"
#include "kitty/worker/worker.h"

namespace kitty::web {

/// Where the control loop runs.
using ControlExecutor = net::any_io_executor;

namespace detail {
// Calls `handler(args...)` on the handler's own executor.
template <class Handler, class... Args>
void Resume(Handler&& handler, Args&&... args) {
  auto ex = net::get_associated_executor(handler);
  net::post(ex, [h = std::forward<Handler>(handler),
                 tup = std::make_tuple(std::forward<Args>(args)...)]() mutable {
    std::apply(std::move(h), std::move(tup));
  });
}
}  // namespace detail

/// Runs `fn()` on `where` (the control loop, the blocking pool); completes with its result
/// back on the calling coroutine's thread.
template <class Executor, class Fn>
auto RunOn(Executor where, Fn fn) {
  using R = std::invoke_result_t<Fn&>;
  return net::async_initiate<decltype(net::use_awaitable), void(R)>(
      [where](auto handler, Fn fn) mutable {
        net::post(where, [h = std::move(handler), fn = std::move(fn)]() mutable {
          R r = fn();
          detail::Resume(std::move(h), std::move(r));
        });
      },
      net::use_awaitable, std::move(fn));
}

/// Runs `start(done)` on the control loop, where `start` begins an operation that calls
/// `done(args...)` once (an acquire, an ensure, a release); completes with those args.
template <class... Args, class Start>
auto UntilCallback(ControlExecutor control, Start start) {
  auto initiate = [control](auto handler, Start start) {
    net::post(control, [h = std::move(handler), start = std::move(start)]() mutable {
      // Worker callbacks are std::function (copyable); the handler is not: share it.
      auto shared = std::make_shared<decltype(h)>(std::move(h));
      start([shared](Args... args) { detail::Resume(std::move(*shared), std::move(args)...); });
    });
  };
  return net::async_initiate<decltype(net::use_awaitable), void(Args...)>(
      initiate, net::use_awaitable, std::move(start));
}

/// Runs `start(done)` on the control loop and completes when `done()` has been called.
template <class Start>
net::awaitable<void> UntilDone(ControlExecutor control, Start start) {
  co_await UntilCallback<>(control, std::move(start));
}

/// A lease on `w`: at once, without the control loop, when the worker is ready; otherwise
/// through Worker::acquire on the control loop (start, wait for ready, backoff...).
inline net::awaitable<Result<Lease>> AcquireLease(ControlExecutor control, std::shared_ptr<Worker> w) {
  if (auto lease = w->gate().try_lease()) co_return std::move(*lease);
  auto start = [w](std::function<void(Result<Lease>)> done) { w->acquire(std::move(done)); };
  co_return co_await UntilCallback<Result<Lease>>(control, start);
}

/// Worker::ensure on the control loop.
inline net::awaitable<Result<Endpoint>> EnsureReady(ControlExecutor control, std::shared_ptr<Worker> w,
                                                    bool reset = false) {
  auto start = [w, reset](std::function<void(Result<Endpoint>)> done) { w->ensure(std::move(done), reset); };
  co_return co_await UntilCallback<Result<Endpoint>>(control, start);
}

/// Worker::set_keep_alive on the control loop, when the request gave a keep-alive.
inline net::awaitable<void> SetKeepAlive(ControlExecutor control, std::shared_ptr<Worker> w,
                                         std::optional<double> seconds) {
  if (!seconds) co_return;
  auto keep = [w, s = *seconds] {
    w->set_keep_alive(s);
    return true;  // RunOn needs a value
  };
  co_await RunOn(control, keep);
}

}  // namespace kitty::web
