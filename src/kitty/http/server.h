// HttpServer: accepts connections and runs one coroutine per connection that reads
// requests (with a body limit and Expect: 100-continue), hands each to the Handler, and
// keeps the connection alive while both sides want it. Runs on the daemon's io_context.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "kitty/base/result.h"
#include "kitty/http/beast.h"

namespace kitty::web {

/// One request on a connection. The handler answers with respond() (the server writes it
/// after the handler returns), or takes over the stream itself (the proxy), setting
/// response_started, and sets keep_alive to say whether the connection may go on.
struct Exchange {
  beast::tcp_stream& stream;
  beast::flat_buffer& buffer;  // bytes already read past the request (pipelining)
  Request req;
  bool keep_alive = true;
  bool response_started = false;
  std::optional<Response> response;

  void respond(Response res) { response = std::move(res); }
};

using Handler = std::function<net::awaitable<void>(Exchange&)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 7700;
  uint64_t max_body_bytes = 32ull << 20;
};

class HttpServer {
 public:
  HttpServer(net::io_context& io, ServerOptions opts, Handler handler);
  ~HttpServer();
  /// Binds and listens. Errors name the address ("127.0.0.1:7700: address already in use").
  Status listen();
  /// The bound port (useful with port 0).
  int port() const;
  /// Starts accepting (after listen()).
  void start();
  /// Stops accepting and closes idle connections; requests in progress finish.
  void stop();

 private:
  net::awaitable<void> accept_loop();
  net::awaitable<void> session(tcp::socket socket);

  net::io_context& io_;
  ServerOptions opts_;
  Handler handler_;
  tcp::acceptor acceptor_;
  bool stopping_ = false;
  // Connections waiting for their next request, closed by stop().
  std::set<beast::tcp_stream*> idle_;
};

}  // namespace kitty::web
