#include "kitty/metrics/prom_text.h"

#include <gtest/gtest.h>

#include <cmath>

#include "kitty/metrics/request_metrics.h"

namespace kitty {
namespace {

TEST(PromTextTest, FamiliesSamplesAndEscapes) {
  PromText p;
  p.family("kitty_x_bytes", "gauge", "A help with a \\ and\na newline.");
  p.sample("kitty_x_bytes", {{"model", "a\"b\\c\nd"}}, 1.5);
  p.sample("kitty_x_bytes", {}, 12345678901.0);
  p.sample("kitty_x_bytes", {{"k", "v"}}, std::nan(""));
  p.sample("kitty_x_bytes", {{"k", "w"}}, INFINITY);
  EXPECT_EQ(p.take(),
            "# HELP kitty_x_bytes A help with a \\\\ and\\na newline.\n"
            "# TYPE kitty_x_bytes gauge\n"
            "kitty_x_bytes{model=\"a\\\"b\\\\c\\nd\"} 1.5\n"
            "kitty_x_bytes 12345678901\n"
            "kitty_x_bytes{k=\"v\"} NaN\n"
            "kitty_x_bytes{k=\"w\"} +Inf\n");
}

TEST(PromTextTest, HistogramBucketsAreCumulativeAndEndAtInf) {
  Histogram h;
  const std::vector<double> bounds = {0.1, 1};
  h.observe(bounds, 0.05);
  h.observe(bounds, 0.1);  // on the bound: in that bucket (le)
  h.observe(bounds, 0.5);
  h.observe(bounds, 7);
  PromText p;
  p.histogram("t_seconds", {{"model", "m"}}, bounds, h.counts, h.sum);
  EXPECT_EQ(p.take(),
            "t_seconds_bucket{model=\"m\",le=\"0.1\"} 2\n"
            "t_seconds_bucket{model=\"m\",le=\"1\"} 3\n"
            "t_seconds_bucket{model=\"m\",le=\"+Inf\"} 4\n"
            "t_seconds_sum{model=\"m\"} 7.65\n"
            "t_seconds_count{model=\"m\"} 4\n");
}

TEST(RequestMetricsTest, CountsByStatusClassAndModel) {
  RequestMetrics m;
  m.request("a", 200, 0.01, 5);
  m.request("a", 200, std::nullopt, 0);
  m.request("a", 503, std::nullopt, 0);
  m.request("b", 0, std::nullopt, 0);
  m.load("a", 0.3);
  auto s = m.snapshot();
  EXPECT_EQ(s["a"].requests["2xx"], 2u);
  EXPECT_EQ(s["a"].requests["5xx"], 1u);
  EXPECT_EQ(s["b"].requests["none"], 1u);
  EXPECT_EQ(s["a"].sse_events, 5u);
  uint64_t ttfb = 0;
  for (auto c : s["a"].ttfb.counts) ttfb += c;
  EXPECT_EQ(ttfb, 1u);
  EXPECT_DOUBLE_EQ(s["a"].load.sum, 0.3);
}

}  // namespace
}  // namespace kitty
