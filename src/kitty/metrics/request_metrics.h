// RequestMetrics: what the gateway counts per model as requests end — requests by status class,
// the time to the worker's first byte through the proxy, SSE events relayed — and the load
// durations of the workers. Written from the I/O threads (and the control thread for loads),
// read by GET /metrics; one mutex, taken once per request end.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace kitty {

struct Histogram {
  std::vector<uint64_t> counts;  // per bucket (not cumulative); the last one is +Inf
  double sum = 0;
  void observe(const std::vector<double>& bounds, double v);
};

struct ModelRequestFigures {
  std::map<std::string, uint64_t> requests;  // by status class: "2xx", "4xx", "5xx", ...
  Histogram ttfb;                            // seconds to the worker's first byte
  uint64_t sse_events = 0;
  Histogram load;                            // seconds from spawn to ready, per start
};

class RequestMetrics {
 public:
  /// A request for `model` ended with `status` (0: no answer was sent, the client went away).
  void request(const std::string& model, int status, std::optional<double> ttfb_seconds, uint64_t sse_events);
  void load(const std::string& model, double seconds);
  std::map<std::string, ModelRequestFigures> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, ModelRequestFigures> models_;
};

}  // namespace kitty
