// kitty_loadgen's shared pieces: arguments, clock helpers and the latency summary. One
// translation unit (loadgen.cc) includes this and loadgen_hold.h, so the CMake target
// `kitty_loadgen` and bench/run.py's own compile line both stay a single source file.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kitty::loadgen {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string host = "127.0.0.1";
  std::string port = "80";
  std::string target = "/";
  std::string body;
  std::string mode = "request";
  std::string method = "POST";
  std::string auth;  // Bearer token, optional
  int concurrency = 1;
  double duration_s = 5;
  double warmup_s = 1;
  int64_t requests = 0;  // 0 = until duration
  int streams = 1;       // stream mode: streams per client; 0 = back to back for warmup + duration
  int warmup_streams = 0;
  bool reconnect = false;  // a new connection for every request/stream
  int timeout_s = 30;      // per socket read/write; a stalled server shows up as errors, not a hang
  // hold mode
  std::string kind = "request";  // request | stream | half
  int connect_batch = 256;       // connections being set up at once
  double ready_timeout_s = 60;   // report "ready" after this even if some are still pending
  double hold_s = 3600;          // give up holding after this even if stdin stays open
  double tick_s = 1;             // a progress line this often while holding
};

inline Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

inline double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

inline double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] * (1 - frac) + sorted[hi] * frac;
}

inline nlohmann::json Summary(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  nlohmann::json j;
  j["n"] = v.size();
  if (v.empty()) return j;
  j["min"] = v.front();
  j["mean"] = sum / static_cast<double>(v.size());
  j["p50"] = Percentile(v, 0.50);
  j["p90"] = Percentile(v, 0.90);
  j["p99"] = Percentile(v, 0.99);
  j["p999"] = Percentile(v, 0.999);
  j["max"] = v.back();
  return j;
}

inline nlohmann::json StatusJson(const std::map<int, int64_t>& statuses) {
  nlohmann::json st = nlohmann::json::object();
  for (auto [k, v] : statuses) st[std::to_string(k)] = v;
  return st;
}

}  // namespace kitty::loadgen
