// FakeWorkerHttp: scripted answers to the lifecycle's HTTP calls, for state-machine tests.
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kitty/base/clock.h"
#include "kitty/worker/worker_http.h"

namespace kitty {

class FakeWorkerHttp : public WorkerHttp {
 public:
  explicit FakeWorkerHttp(Clock* clock) : clock_(clock) {}

  struct Call {
    std::string method, host, path;
    int port;
  };

  void call(const std::string& method, const std::string& host, int port, const std::string& path,
            Duration timeout, Callback cb) override {
    calls.push_back({method, host, path, port});
    WorkerHttpResult r;
    auto it = answers.find(port);
    if (it == answers.end()) {
      r.error = "connection refused";
    } else {
      r.status = it->second;
      if (auto b = bodies.find(port); b != bodies.end()) r.body = b->second;
    }
    if (r.status == kHang) {
      // No answer until the timeout passes.
      hung_.push_back(clock_->start_timer(timeout, [cb] { cb(WorkerHttpResult{0, "timed out", {}}); }));
      return;
    }
    if (auto d = delays.find(port); d != delays.end() && d->second > Duration::zero()) {
      // Answers, but only after a while (a slow, "unhealthy" server), unless that is past the timeout.
      if (d->second >= timeout) r = WorkerHttpResult{0, "timed out", {}};
      hung_.push_back(clock_->start_timer(std::min(d->second, timeout), [cb, r] { cb(r); }));
      return;
    }
    clock_->post([cb, r] { cb(r); });
  }

  static constexpr int kHang = -1;
  /// port -> HTTP status every call to it answers (absent: connection refused).
  std::map<int, int> answers;
  std::map<int, std::string> bodies;  // port -> the body of its answers
  std::map<int, Duration> delays;     // port -> how long its answers take
  std::vector<Call> calls;

 private:
  Clock* clock_;
  std::vector<std::unique_ptr<Timer>> hung_;
};

}  // namespace kitty
