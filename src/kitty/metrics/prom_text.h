// PromText: writes Prometheus' text exposition format 0.0.4 — one HELP and TYPE per family,
// then its samples, label values escaped, numbers as Prometheus reads them (+Inf, NaN).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kitty {

using Labels = std::vector<std::pair<std::string, std::string>>;

class PromText {
 public:
  /// Starts a family: `type` is counter, gauge, histogram or untyped.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const Labels& labels, double value);
  /// A histogram's _bucket (cumulative, ending with +Inf), _sum and _count samples.
  void histogram(std::string_view name, const Labels& labels, const std::vector<double>& bounds,
                 const std::vector<uint64_t>& counts, double sum);
  std::string take() { return std::move(out_); }

 private:
  void number(double v);
  std::string out_;
};

/// Upper bounds (seconds) of kittyd's latency histograms.
const std::vector<double>& LoadSecondsBuckets();
const std::vector<double>& TtfbSecondsBuckets();

}  // namespace kitty
