// HttpServer: accepts client connections on one listener and spreads them over the I/O
// threads; each connection runs one coroutine on its thread that reads requests (header and
// body deadlines, body limit, Expect: 100-continue), hands each to the Handler, and keeps the
// connection alive while both sides want it.
//
// Slow or hostile clients cannot starve the others (issue 8): the header must arrive within
// header_timeout, the body within body_timeout per MiB declared; an idle keep-alive connection
// is closed after keep_alive; at max_connections the oldest idle connection makes room, else
// the newcomer gets 503 server_busy; out of descriptors, accept sheds instead of spinning.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "kitty/base/result.h"
#include "kitty/http/beast.h"
#include "kitty/http/connections.h"
#include "kitty/http/io_threads.h"

namespace kitty::web {

/// One request on a connection. The handler answers with respond() (the server writes it
/// after the handler returns), or takes over the stream itself (the proxy), setting
/// response_started, and sets keep_alive to say whether the connection may go on.
struct Exchange {
  beast::tcp_stream& stream;
  Request req;
  bool keep_alive = true;
  bool response_started = false;
  std::optional<Response> response;
  // For /metrics: the model that served the request (set by the routes once it is known), the
  // status the proxy relayed, when the worker's answer began, and the SSE events relayed.
  std::string model;
  int proxied_status = 0;
  std::optional<std::chrono::steady_clock::time_point> first_byte;
  uint64_t sse_events = 0;
  // For the request log: the request's id (X-Request-Id, sent back to the client and on to the
  // worker) and the bytes of the worker's answer relayed.
  std::string request_id;
  uint64_t response_bytes = 0;
  bool inference = false;  // a gateway route (OpenAI's, Ollama's): logged even without a model

  void respond(Response res) { response = std::move(res); }
};

using Handler = std::function<net::awaitable<void>(Exchange&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 7700;
  uint64_t max_body_bytes = 32ull << 20;
  std::chrono::milliseconds header_timeout{10'000};
  /// The deadline for a body of the declared size (ServerConfig::BodyTimeout).
  std::function<std::chrono::milliseconds(uint64_t bytes)> body_timeout =
      [](uint64_t) { return std::chrono::milliseconds(10'000); };
  std::chrono::milliseconds keep_alive{300'000};
  size_t max_connections = 4096;
};

class HttpServer {
 public:
  HttpServer(IoThreads& io, ServerOptions opts, Handler handler);
  ~HttpServer();
  /// Binds and listens. Errors name the address ("127.0.0.1:7700: address already in use").
  Status listen();
  /// The bound port (useful with port 0).
  int port() const;
  /// Starts accepting (after listen()).
  void start();
  /// Stops accepting and closes idle connections; requests in progress finish. Any thread.
  void stop();
  const Connections& connections() const { return *connections_; }

 private:
  struct Session;
  net::awaitable<void> accept_loop();
  net::awaitable<void> session(tcp::socket socket);
  net::awaitable<void> refuse_busy(tcp::socket socket);
  void note_accept_error(const boost::system::error_code& ec);

  IoThreads& io_;
  ServerOptions opts_;
  Handler handler_;
  tcp::acceptor acceptor_;
  std::shared_ptr<Connections> connections_;
  std::atomic<bool> stopping_{false};
  int reserve_fd_ = -1;  // given up to accept (and refuse) a client when out of descriptors
  std::string busy_answer_;  // the 503 written to that client, serialized in advance
  std::chrono::steady_clock::time_point last_accept_warning_{};
  uint64_t accept_errors_ = 0;
};

}  // namespace kitty::web
