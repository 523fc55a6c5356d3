#include "kitty/http/server.h"

#include <spdlog/spdlog.h>

#include "kitty/http/errors.h"

namespace kitty::web {
namespace {

constexpr auto kKeepAliveIdle = std::chrono::seconds(300);
constexpr uint32_t kHeaderLimit = 64 * 1024;

// Answers a request whose body will not be read, then reads and drops what the client is
// still sending for a moment, so closing does not reset the connection before the client
// has read the answer.
net::awaitable<void> RespondAndDrain(beast::tcp_stream& stream, Response& res) {
  boost::system::error_code ec;
  co_await http::async_write(stream, res, use_ec(ec));
  if (ec) co_return;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(std::chrono::seconds(2));
  std::vector<char> scratch(64 * 1024);
  size_t total = 0;
  while (total < (256u << 20)) {
    const size_t n = co_await stream.async_read_some(net::buffer(scratch), use_ec(ec));
    if (ec) break;
    total += n;
  }
}

}  // namespace

HttpServer::HttpServer(net::io_context& io, ServerOptions opts, Handler handler)
    : io_(io), opts_(std::move(opts)), handler_(std::move(handler)), acceptor_(io) {}

HttpServer::~HttpServer() = default;

Status HttpServer::listen() {
  const std::string where = opts_.host + ":" + std::to_string(opts_.port);
  boost::system::error_code ec;
  auto addr = net::ip::make_address(opts_.host, ec);
  if (ec) return MakeError("cannot listen on " + where + ": invalid address", ErrorCode::kListenFailed);
  tcp::endpoint ep(addr, static_cast<unsigned short>(opts_.port));
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return MakeError("cannot listen on " + where + ": " + ec.message(), ErrorCode::kListenFailed);
  return Status::Ok();
}

int HttpServer::port() const {
  boost::system::error_code ec;
  auto ep = acceptor_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void HttpServer::start() {
  net::co_spawn(io_, accept_loop(), [](std::exception_ptr e) {
    if (e) spdlog::error("http: accept loop ended by an exception");
  });
}

void HttpServer::stop() {
  stopping_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  for (auto* s : idle_) s->socket().close(ec);
  idle_.clear();
}

net::awaitable<void> HttpServer::accept_loop() {
  while (!stopping_) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(use_ec(ec));
    if (ec) {
      if (stopping_ || ec == net::error::operation_aborted) co_return;
      spdlog::warn("http: accept failed: {}", ec.message());
      // Out of file descriptors and the like: back off instead of spinning.
      net::steady_timer t(io_, std::chrono::milliseconds(50));
      co_await t.async_wait(use_ec(ec));
      continue;
    }
    net::co_spawn(io_, session(std::move(socket)), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("http: connection ended by an exception: {}", ex.what());
      }
    });
  }
}

net::awaitable<void> HttpServer::session(tcp::socket socket) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    // The limit is applied after the header, so an over-long Content-Length gets a 413
    // instead of a header-read error (Beast checks it while parsing the header).
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());

    stream.expires_after(kKeepAliveIdle);
    idle_.insert(&stream);
    boost::system::error_code hec;
    co_await http::async_read_header(stream, buffer, parser, use_ec(hec));
    idle_.erase(&stream);
    if (hec) break;  // closed, timed out, or garbage: nothing sensible to answer
    if (stopping_) {
      Response res = MakeErrorResponse(MakeError("kittyd is shutting down", ErrorCode::kShuttingDown),
                                       parser.get().version(), false);
      {
        boost::system::error_code ignored;
        co_await http::async_write(stream, res, use_ec(ignored));
      }
      break;
    }

    const auto& h = parser.get();
    const auto too_large = [&] {
      return MakeErrorResponse(
          MakeError("request body exceeds the limit of " + std::to_string(opts_.max_body_bytes) +
                        " bytes (server.max_body_bytes)",
                    ErrorCode::kBodyTooLarge),
          h.version(), false);
    };
    if (auto len = parser.content_length(); len && *len > opts_.max_body_bytes) {
      Response res = too_large();
      co_await RespondAndDrain(stream, res);
      break;
    }
    parser.body_limit(opts_.max_body_bytes);
    if (beast::iequals(h[http::field::expect], "100-continue")) {
      http::response<http::empty_body> cont{http::status::continue_, h.version()};
      boost::system::error_code cec;
      co_await http::async_write(stream, cont, use_ec(cec));
      if (cec) break;
    }
    stream.expires_after(kKeepAliveIdle);
    boost::system::error_code bec;
    co_await http::async_read(stream, buffer, parser, use_ec(bec));
    if (bec == http::error::body_limit) {
      Response res = too_large();
      co_await RespondAndDrain(stream, res);
      break;
    }
    if (bec) break;
    stream.expires_never();

    Exchange ex{stream, buffer, parser.release()};
    ex.keep_alive = ex.req.keep_alive();
    co_await handler_(ex);
    if (ex.response && !ex.response_started) {
      Response& res = *ex.response;
      res.keep_alive(ex.keep_alive && res.keep_alive() && !stopping_);
      ex.keep_alive = res.keep_alive();
      boost::system::error_code wec;
      co_await http::async_write(stream, res, use_ec(wec));
      if (wec) break;
    } else if (!ex.response_started) {
      spdlog::error("http: no answer for {} {}", std::string(ex.req.method_string()),
                    std::string(ex.req.target()));
      break;
    }
    if (!ex.keep_alive || stopping_) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.socket().close(ec);
}

}  // namespace kitty::web
