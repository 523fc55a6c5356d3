// The reverse proxy from a client's request to a worker: reused upstream connections,
// responses streamed through chunk by chunk (no buffering), the upstream request cancelled
// as soon as the client goes away or the worker is cut.
#pragma once

#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "kitty/http/beast.h"
#include "kitty/http/server.h"
#include "kitty/worker/worker.h"

namespace kitty::web {

/// Idle keep-alive connections to workers, keyed by (host, port, pid) so that a connection
/// to a stopped worker is never handed to the next process on the same port.
class UpstreamPool {
 public:
  using Stream = beast::tcp_stream;
  std::unique_ptr<Stream> take(const Endpoint& ep);
  void put(const Endpoint& ep, std::unique_ptr<Stream> s);
  /// Closes the idle connections to endpoints of `pid`.
  void forget_pid(int pid);
  size_t idle_count() const;

 private:
  using Key = std::tuple<std::string, int, int>;
  std::map<Key, std::vector<std::unique_ptr<Stream>>> idle_;
};

/// Forwards ex.req to the worker behind `lease` and streams the answer back. Answers the
/// client itself in every case (502 when the worker fails before answering; a final SSE
/// error event when a stream had begun). `model_id` is for messages.
net::awaitable<void> ProxyToWorker(Exchange& ex, Lease& lease, UpstreamPool& pool,
                                   const std::string& model_id);

}  // namespace kitty::web
