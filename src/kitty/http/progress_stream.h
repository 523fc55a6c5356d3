// X-Kitty-Progress (issue 12): a streamed request that has to wait for its model to start can
// ask to see the load as it goes. kittyd then begins the answer at once (200, text/event-stream)
// and sends SSE comment lines while the worker loads — `: loading 42% (loading_tensors)` — and
// the worker's stream follows when it is ready. OpenAI clients ignore comment lines, so the
// header is safe to send from any SDK. The answer has begun, so whatever goes wrong after that
// (the start fails, the worker answers 4xx) ends the stream with an SSE error event
// (`data: {"error": {...}}`), which the OpenAI SDKs raise as an APIError.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "kitty/http/control.h"
#include "kitty/http/proxy.h"
#include "kitty/http/server.h"
#include "kitty/worker/worker.h"

namespace kitty::web {

class ProgressStream {
 public:
  explicit ProgressStream(Exchange& ex, std::string model) : ex_(ex), model_(std::move(model)) {}

  /// The request asked (X-Kitty-Progress: 1) and can have it: "stream": true, over HTTP/1.1.
  static bool Wanted(const Exchange& ex);
  /// The comment's text for a worker's progress ("loading 42% (loading_tensors)").
  static std::string Text(const std::optional<WorkerInfo::Progress>& p);

  bool started() const { return started_; }
  bool client_gone() const { return client_gone_; }
  /// Begins the answer (first call) and sends `: text`; false when the client went away.
  net::awaitable<bool> comment(const std::string& text);
  /// What ProxyToWorker relays the worker's answer through once the answer has begun: the
  /// worker's stream as it is; a non-stream answer (an error) as a last SSE error event.
  std::shared_ptr<BodyRewriter> relay() const;

 private:
  Exchange& ex_;
  const std::string model_;
  bool started_ = false;
  bool client_gone_ = false;
};

/// Ends an answer that ProgressStream began with `e` as its last SSE event, then the last chunk.
net::awaitable<void> EndStreamWithError(Exchange& ex, const Error& e, const nlohmann::json& extra = nullptr);

/// A lease on `w` as AcquireLease gets it; while it waits for a start, `ps` gets a comment
/// when the progress moves (checked every 40 ms for 2 s, then four times a second) and every 5 s regardless, which also
/// keeps proxies from timing the request out. Stops waiting when the client went away.
net::awaitable<Result<Lease>> AcquireShowingProgress(ControlExecutor control, std::shared_ptr<Worker> w,
                                                     ProgressStream& ps);

}  // namespace kitty::web
