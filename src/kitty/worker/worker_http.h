// WorkerHttp: the few HTTP calls the lifecycle needs to make to a worker (GET its health
// endpoint, POST its shutdown endpoint). An interface so the state machine runs against a
// fake in tests; the real one lives in http/ (the only place that includes Beast).
#pragma once

#include <functional>
#include <string>

#include "kitty/base/clock.h"

namespace kitty {

struct WorkerHttpResult {
  int status = 0;     // HTTP status; 0 when no response came (error says why)
  std::string error;  // "connection refused", "timed out", ...
  std::string body;   // the answer's body (a health probe's JSON), at most 64 KiB
  std::string describe() const {
    return status ? "HTTP " + std::to_string(status) : (error.empty() ? "no response" : error);
  }
};

class WorkerHttp {
 public:
  using Callback = std::function<void(WorkerHttpResult)>;
  virtual ~WorkerHttp() = default;
  /// One request on a fresh connection; `cb` runs on the loop thread exactly once, never
  /// from inside this call.
  virtual void call(const std::string& method, const std::string& host, int port,
                    const std::string& path, Duration timeout, Callback cb) = 0;
};

}  // namespace kitty
