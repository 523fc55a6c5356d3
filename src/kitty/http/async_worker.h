// Awaitable forms of the Worker's callback operations, for the HTTP coroutines.
#pragma once

#include <memory>

#include "kitty/http/beast.h"
#include "kitty/worker/worker.h"

namespace kitty::web {

template <class Token>
auto AsyncAcquire(Worker& w, Token&& token) {
  return net::async_initiate<Token, void(Result<Lease>)>(
      [&w](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        w.acquire([h](Result<Lease> r) { (*h)(std::move(r)); });
      },
      token);
}

template <class Token>
auto AsyncEnsure(Worker& w, Token&& token) {
  return net::async_initiate<Token, void(Result<Endpoint>)>(
      [&w](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        w.ensure([h](Result<Endpoint> r) { (*h)(std::move(r)); });
      },
      token);
}

template <class Token>
auto AsyncRelease(Worker& w, bool force, Token&& token) {
  return net::async_initiate<Token, void()>(
      [&w, force](auto handler) {
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        w.release(force, [h] { (*h)(); });
      },
      token);
}

}  // namespace kitty::web
