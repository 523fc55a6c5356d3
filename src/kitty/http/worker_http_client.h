// The real WorkerHttp: one request per fresh loopback connection, with a deadline.
#pragma once

#include "kitty/http/beast.h"
#include "kitty/worker/worker_http.h"

namespace kitty::web {

class WorkerHttpClient : public WorkerHttp {
 public:
  explicit WorkerHttpClient(net::io_context& io) : io_(io) {}
  void call(const std::string& method, const std::string& host, int port, const std::string& path,
            Duration timeout, Callback cb) override;

 private:
  net::io_context& io_;
};

}  // namespace kitty::web
