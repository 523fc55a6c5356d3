// The agent's own small HTTP surface: GET /health answers what the agent last set (503 while
// the model loads, 200 with the upstream's figures once it is ready). kittyd probes it like
// any engine's health path. One thread, one connection at a time: kittyd is the only client.
#pragma once

#include <mutex>
#include <string>
#include <thread>

#include "kitty/base/result.h"

namespace kitty::agent {

class HealthServer {
 public:
  /// Binds host:port and answers from a thread of its own. The error says "address already
  /// in use" as engines do, so kittyd moves an auto port.
  Status Start(const std::string& host, int port);
  /// What GET /health answers from now on (JSON).
  void Set(int status, std::string json);

 private:
  void Serve();

  std::mutex mu_;
  int status_ = 503;
  std::string body_ = R"({"status":"loading"})";
  int fd_ = -1;
  std::thread thread_;
};

}  // namespace kitty::agent
