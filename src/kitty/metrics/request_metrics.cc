#include "kitty/metrics/request_metrics.h"

#include "kitty/metrics/prom_text.h"

namespace kitty {

void Histogram::observe(const std::vector<double>& bounds, double v) {
  if (counts.empty()) counts.assign(bounds.size() + 1, 0);
  size_t i = 0;
  while (i < bounds.size() && v > bounds[i]) ++i;
  ++counts[i];
  sum += v;
}

void RequestMetrics::request(const std::string& model, int status, std::optional<double> ttfb_seconds,
                             uint64_t sse_events) {
  const std::string cls = status > 0 ? std::to_string(status / 100) + "xx" : "none";
  std::lock_guard lock(mu_);
  ModelRequestFigures& m = models_[model];
  ++m.requests[cls];
  if (ttfb_seconds) m.ttfb.observe(TtfbSecondsBuckets(), *ttfb_seconds);
  m.sse_events += sse_events;
}

void RequestMetrics::load(const std::string& model, double seconds) {
  std::lock_guard lock(mu_);
  models_[model].load.observe(LoadSecondsBuckets(), seconds);
}

std::map<std::string, ModelRequestFigures> RequestMetrics::snapshot() const {
  std::lock_guard lock(mu_);
  return models_;
}

}  // namespace kitty
