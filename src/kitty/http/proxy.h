// The reverse proxy from a client's request to a worker: reused upstream connections (the I/O
// thread's UpstreamPool), the answer relayed as it arrives with no buffering, the upstream
// request cancelled as soon as the client goes away or the worker's lease is cut.
//
// The body is relayed by kittyd itself, not re-serialized by Beast: a chunked answer whose
// pieces arrive on chunk boundaries goes to an HTTP/1.1 client byte for byte; otherwise its
// data is re-framed as one chunk per read (several SSE events of one read become one chunk,
// one write). HTTP/1.0 clients get a close-delimited body, never chunked. Every write to the
// client ends on a chunk boundary of our own framing, so an SSE stream whose worker dies can
// always be ended with an error event (issue 8).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "kitty/http/beast.h"
#include "kitty/http/server.h"
#include "kitty/worker/ready_gate.h"

namespace kitty::web {

/// Rewrites a worker's answer on its way to the client (the Ollama API's translation of the
/// OpenAI answers). Runs on the connection's I/O thread; the proxy frames what it returns
/// (chunked to HTTP/1.1 clients) and never sends the worker's bytes itself.
class BodyRewriter {
 public:
  virtual ~BodyRewriter() = default;
  /// The worker's status and Content-Type; returns the Content-Type the client gets.
  virtual std::string begin(int status, std::string_view content_type) = 0;
  /// Body bytes from the worker (de-chunked) → bytes for the client.
  virtual std::string feed(std::string_view data) = 0;
  /// The worker's body ended (`broke` null) or broke → the client's last bytes.
  virtual std::string finish(const Error* broke) = 0;
};

struct ProxyOptions {
  std::string model_id;  // the model that serves it: for messages and X-Kitty-Served-By
  /// No byte from the worker for this long (0: no limit): the worker is hung. The request is
  /// answered 502 worker_hung (or ends with that SSE error event) and the lease reports it.
  std::chrono::milliseconds busy_timeout{0};
  std::shared_ptr<BodyRewriter> rewrite;  // null: the answer is relayed as it comes
  /// The answer began before the worker was ready (X-Kitty-Progress: progress_stream.h): no
  /// head is sent, `rewrite` frames the worker's answer into the stream, and a failure before
  /// the worker answers ends the stream with an SSE error event.
  bool head_sent = false;
};

/// Forwards ex.req to the worker behind `lease` at `target` (already normalised) and streams
/// the answer back. Answers the client itself in every case (502 when the worker fails before
/// answering; a final SSE error event when a stream had begun).
net::awaitable<void> ProxyToWorker(Exchange& ex, Lease& lease, const std::string& target,
                                   const ProxyOptions& opts);

}  // namespace kitty::web
