#include "kitty/http/server.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>

#include "kitty/http/errors.h"
#include "kitty/http/sweeper.h"

namespace kitty::web {
namespace {

constexpr uint32_t kHeaderLimit = 64 * 1024;
// The first read of a request: enough for a typical header and small body, little for an
// idle connection to hold.
constexpr size_t kFirstRead = 2048;
// Out of descriptors: how long accept waits before trying again (never a spin).
constexpr auto kAcceptBackoff = std::chrono::milliseconds(20);
constexpr auto kAcceptWarningEvery = std::chrono::seconds(10);

Response ErrorFor(ErrorCode code, std::string message, unsigned version) {
  return MakeErrorResponse(MakeError(std::move(message), code), version, /*keep_alive=*/false);
}

// Answers a request whose body will not be read, then reads and drops what the client is
// still sending for a moment, so closing does not reset the connection before the client
// has read the answer.
net::awaitable<void> RespondAndDrain(beast::tcp_stream& stream, Response& res) {
  boost::system::error_code ec;
  stream.expires_after(std::chrono::seconds(5));
  co_await http::async_write(stream, res, use_ec(ec));
  if (ec) co_return;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.expires_after(std::chrono::seconds(2));
  std::vector<char> scratch(16 * 1024);
  size_t total = 0;
  while (total < (256u << 20)) {
    const size_t n = co_await stream.async_read_some(net::buffer(scratch), use_ec(ec));
    if (ec) break;
    total += n;
  }
}

bool TransferEncodingIsPlainChunked(std::string_view te) {
  while (!te.empty() && (te.front() == ' ' || te.front() == '\t')) te.remove_prefix(1);
  while (!te.empty() && (te.back() == ' ' || te.back() == '\t')) te.remove_suffix(1);
  return beast::iequals(te, "chunked");
}

}  // namespace

// Per-connection state shared with its deadline (on the thread's Sweeper) and with
// Connections (shedding), which hold it weakly.
struct HttpServer::Session {
  explicit Session(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::shared_ptr<Sweeper::Deadline> deadline;
  bool waiting_idle = false;  // between requests: the one time shedding may close us
  bool timed_out = false;
};

HttpServer::HttpServer(IoThreads& io, ServerOptions opts, Handler handler)
    : io_(io),
      opts_(std::move(opts)),
      handler_(std::move(handler)),
      acceptor_(io.context(0)),
      connections_(std::make_shared<Connections>(opts_.max_connections)) {
  reserve_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::ostringstream out;
  out << ErrorFor(ErrorCode::kServerBusy, "kittyd is out of file descriptors; try again shortly", 11);
  busy_answer_ = out.str();
}

HttpServer::~HttpServer() {
  if (reserve_fd_ >= 0) close(reserve_fd_);
}

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
  net::co_spawn(acceptor_.get_executor(), accept_loop(), [](std::exception_ptr e) {
    if (e) spdlog::error("http: accept loop ended by an exception");
  });
}

void HttpServer::stop() {
  stopping_ = true;
  net::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
  });
  connections_->close_all_idle();
}

void HttpServer::note_accept_error(const boost::system::error_code& ec) {
  ++accept_errors_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_accept_warning_ < kAcceptWarningEvery) return;
  last_accept_warning_ = now;
  spdlog::warn("http: accept failed: {} ({} time(s) since the last warning; {} connections open)",
               ec.message(), accept_errors_, connections_->count());
  accept_errors_ = 0;
}

net::awaitable<void> HttpServer::accept_loop() {
  while (!stopping_) {
    boost::system::error_code ec;
    net::io_context& target = io_.next();
    tcp::socket socket = co_await acceptor_.async_accept(target, use_ec(ec));
    if (ec) {
      if (stopping_ || ec == net::error::operation_aborted) co_return;
      note_accept_error(ec);
      if (ec == net::error::no_descriptors || ec.value() == ENFILE) {
        // Out of descriptors: make one free by closing the oldest idle connection, and use
        // the reserve descriptor to take the waiting client off the backlog with a 503
        // rather than leave it hanging there.
        connections_->shed_oldest_idle();
        if (reserve_fd_ >= 0) {
          close(reserve_fd_);
          const int fd = ::accept(acceptor_.native_handle(), nullptr, nullptr);
          if (fd >= 0) {
            // SIGPIPE is ignored by the daemon (a client gone before this send is fine).
            (void)!::send(fd, busy_answer_.data(), busy_answer_.size(), MSG_DONTWAIT);
            ::close(fd);
          }
          reserve_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
        }
      }
      net::steady_timer t(acceptor_.get_executor(), kAcceptBackoff);
      co_await t.async_wait(use_ec(ec));
      continue;
    }
    if (!connections_->admit()) {
      net::co_spawn(target, refuse_busy(std::move(socket)), net::detached);
      continue;
    }
    net::co_spawn(target, session(std::move(socket)), [conns = connections_](std::exception_ptr e) {
      conns->release();
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("http: connection ended by an exception: {}", ex.what());
      }
    });
  }
}

net::awaitable<void> HttpServer::refuse_busy(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  Response res = ErrorFor(ErrorCode::kServerBusy,
                          "kittyd is at its connection limit (server.max_connections = " +
                              std::to_string(connections_->max()) +
                              ") and no idle connection could be closed; try again shortly",
                          11);
  boost::system::error_code ec;
  stream.expires_after(std::chrono::seconds(2));
  co_await http::async_write(stream, res, use_ec(ec));
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream.socket().close(ec);
}

net::awaitable<void> HttpServer::session(tcp::socket socket) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  auto s = std::make_shared<Session>(std::move(socket));
  std::weak_ptr<Session> weak = s;
  auto entry = std::make_shared<Connections::Entry>();
  entry->executor = s->stream.get_executor();
  entry->close_idle = [weak] {
    auto s = weak.lock();
    if (!s || !s->waiting_idle) return;  // it became busy meanwhile: it stays
    boost::system::error_code ignored;
    s->stream.socket().cancel(ignored);
    s->stream.socket().close(ignored);
  };
  // The deadline of one read: on expiry it cancels the socket's operations (the socket stays
  // open, for a 408) and marks the session timed out.
  s->deadline = Sweeper::Of(s->stream.get_executor()).make([weak] {
    auto s = weak.lock();
    if (!s) return;
    s->timed_out = true;
    boost::system::error_code ignored;
    s->stream.socket().cancel(ignored);
  });
  auto arm = [&s](std::chrono::milliseconds d) {
    s->timed_out = false;
    s->deadline->set(d);
  };
  auto disarm = [&s] { s->deadline->clear(); };

  bool first = true;
  while (!stopping_) {
    // 1. Wait for the next request (a new connection must start one within header_timeout).
    // A read, not a wait for readability: Asio registers a wait with epoll_ctl every time,
    // while a read that finds nothing just parks on the registration the socket already has.
    if (s->buffer.size() == 0) {
      if (s->buffer.capacity() > 16 * 1024) s->buffer.shrink_to_fit();
      s->waiting_idle = true;
      connections_->mark_idle(entry);
      arm(first ? opts_.header_timeout : opts_.keep_alive);
      boost::system::error_code wec;
      const size_t n =
          co_await s->stream.socket().async_read_some(s->buffer.prepare(kFirstRead), use_ec(wec));
      s->buffer.commit(n);
      disarm();
      s->waiting_idle = false;
      connections_->mark_busy(entry);
      if (wec || stopping_) break;  // idle too long, shed, closed, or shutting down
    }
    first = false;

    // 2. The header, within header_timeout.
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    // The limit is applied after the header, so an over-long Content-Length gets a 413
    // instead of a header-read error (Beast checks it while parsing the header).
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    // Our own timer, not tcp_stream's: its timeout closes the socket, and the client is owed
    // a 408 on it.
    arm(opts_.header_timeout);
    boost::system::error_code hec;
    co_await http::async_read_header(s->stream, s->buffer, parser, use_ec(hec));
    disarm();
    if (hec) {
      std::optional<Response> answer;
      if (s->timed_out)
        answer = ErrorFor(ErrorCode::kRequestTimeout,
                          fmt::format("the request header did not arrive within {:g}s "
                                      "(server.header_timeout_seconds)",
                                      opts_.header_timeout.count() / 1000.0),
                          11);
      else if (hec == http::error::header_limit)
        answer = ErrorFor(ErrorCode::kHeaderTooLarge,
                          "the request header exceeds " + std::to_string(kHeaderLimit) + " bytes",
                          11);
      else if (hec != http::error::end_of_stream && hec != net::error::eof &&
               hec != net::error::connection_reset && hec != net::error::operation_aborted)
        answer = ErrorFor(ErrorCode::kInvalidRequest, "malformed HTTP request: " + hec.message(),
                          11);
      if (answer) co_await RespondAndDrain(s->stream, *answer);
      break;
    }
    const auto& h = parser.get();
    if (stopping_) {
      Response res = ErrorFor(ErrorCode::kShuttingDown, "kittyd is shutting down", h.version());
      co_await RespondAndDrain(s->stream, res);
      break;
    }
    // Only plain chunked is understood: a body under another coding (gzip, chunked) would be
    // forwarded as something else than what the client meant (issue 8).
    if (h.count(http::field::transfer_encoding) &&
        !TransferEncodingIsPlainChunked(h[http::field::transfer_encoding])) {
      Response res = ErrorFor(ErrorCode::kUnsupported,
                              "Transfer-Encoding '" + std::string(h[http::field::transfer_encoding]) +
                                  "' is not supported (only 'chunked')",
                              h.version());
      co_await RespondAndDrain(s->stream, res);
      break;
    }
    const auto too_large = [&] {
      return ErrorFor(ErrorCode::kBodyTooLarge,
                      "request body exceeds the limit of " + std::to_string(opts_.max_body_bytes) +
                          " bytes (server.max_body_bytes)",
                      h.version());
    };
    const auto declared = parser.content_length();
    if (declared && *declared > opts_.max_body_bytes) {
      Response res = too_large();
      co_await RespondAndDrain(s->stream, res);
      break;
    }
    parser.body_limit(opts_.max_body_bytes);
    if (beast::iequals(h[http::field::expect], "100-continue")) {
      http::response<http::empty_body> cont{http::status::continue_, h.version()};
      boost::system::error_code cec;
      co_await http::async_write(s->stream, cont, use_ec(cec));
      if (cec) break;
    }

    // 3. The body, within its deadline (a chunked body of unknown size gets the largest's).
    arm(opts_.body_timeout(declared ? *declared : opts_.max_body_bytes));
    boost::system::error_code bec;
    co_await http::async_read(s->stream, s->buffer, parser, use_ec(bec));
    disarm();
    if (bec == http::error::body_limit) {
      Response res = too_large();
      co_await RespondAndDrain(s->stream, res);
      break;
    }
    if (s->timed_out) {
      Response res = ErrorFor(ErrorCode::kRequestTimeout,
                              "the request body did not arrive in time (server.body_timeout_seconds "
                              "per MiB)",
                              h.version());
      co_await RespondAndDrain(s->stream, res);
      break;
    }
    if (bec) break;

    // 4. The answer.
    Exchange ex{s->stream, parser.release()};
    ex.keep_alive = ex.req.keep_alive();
    co_await handler_(ex);
    if (ex.response && !ex.response_started) {
      Response& res = *ex.response;
      res.keep_alive(ex.keep_alive && res.keep_alive() && !stopping_);
      ex.keep_alive = res.keep_alive();
      boost::system::error_code wec;
      co_await http::async_write(s->stream, res, use_ec(wec));
      if (wec) break;
    } else if (!ex.response_started) {
      spdlog::error("http: no answer for {} {}", std::string(ex.req.method_string()),
                    std::string(ex.req.target()));
      break;
    }
    if (!ex.keep_alive) break;
  }
  connections_->mark_busy(entry);
  disarm();
  s->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  s->stream.socket().close(ec);
}

}  // namespace kitty::web
