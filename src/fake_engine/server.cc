#include "fake_engine/server.h"

#include <sys/socket.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <nlohmann/json.hpp>

#include "fake_engine/openai.h"
#include "fake_engine/process_faults.h"
#include "fake_engine/script.h"
#include "fake_engine/stream_format.h"

namespace kitty::fake {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using Request = http::request<http::string_body>;

constexpr uint64_t kBodyLimit = 64ull << 20;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string_view PathOf(std::string_view target) {
  return target.substr(0, target.find('?'));
}

// True when the client has closed its end: a readable socket with nothing to read. Checked at
// token boundaries so a disconnect is noticed before the next write, not one write later.
bool PeerGone(tcp::socket& sock) {
  char byte;
  const ssize_t n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;
  return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

// co_spawn's completion handler for a connection: exceptions are bugs here, so say so.
void ReportEnd(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "fake_engine: connection ended by exception: %s\n", ex.what());
  }
}

}  // namespace

/// One client connection: reads requests in a loop and answers each one in turn.
class Server::Connection {
 public:
  Connection(Server& server, tcp::socket sock) : server_(server), sock_(std::move(sock)) {}

  awaitable<void> Run() {
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(kBodyLimit);
      error_code ec;
      co_await http::async_read_header(sock_, buf_, parser, asio::redirect_error(use_awaitable, ec));
      if (!ec && !parser.is_done()) {
        auto expect = parser.get().find(http::field::expect);
        if (expect != parser.get().end() && beast::iequals(expect->value(), "100-continue")) {
          co_await asio::async_write(sock_, asio::buffer(kContinue),
                                     asio::redirect_error(use_awaitable, ec));
        }
        if (!ec) co_await http::async_read(sock_, buf_, parser, asio::redirect_error(use_awaitable, ec));
      }
      if (ec) {
        if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
            ec != http::error::end_of_stream && ec != http::error::partial_message) {
          const bool too_big = ec == http::error::body_limit || ec == http::error::header_limit;
          Request bad{http::verb::unknown, "", 11};
          bad.keep_alive(false);
          co_await Reply(bad, too_big ? http::status::payload_too_large : http::status::bad_request,
                         ErrorBody(too_big ? 413 : 400, ec.message(), "invalid_request_error"));
        }
        break;
      }
      Request req = parser.release();
      ++server_.stats_.http_requests;
      const bool again = co_await Handle(req);
      if (!again) break;
    }
    error_code ignored;  // the peer may be gone already; closing is all that is left to do
    sock_.shutdown(tcp::socket::shutdown_send, ignored);
    sock_.close(ignored);
  }

 private:
  const Options& options() const { return server_.options_; }

  void LogRequest(const Request& req, unsigned status) {
    if (!options().log_requests) return;
    std::printf("%.*s %.*s %u\n", static_cast<int>(req.method_string().size()),
                req.method_string().data(), static_cast<int>(req.target().size()),
                req.target().data(), status);
  }

  // Writes a complete JSON response. Returns whether the write succeeded.
  awaitable<bool> Reply(const Request& req, http::status status, std::string body) {
    http::response<http::string_body> res{status, req.version()};
    res.set(http::field::server, "fake_engine");
    res.set(http::field::content_type, "application/json; charset=utf-8");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    LogRequest(req, static_cast<unsigned>(status));
    error_code ec;
    co_await http::async_write(sock_, res, asio::redirect_error(use_awaitable, ec));
    co_return !ec;
  }

  // Replies and says whether the connection may carry another request.
  awaitable<bool> ReplyAndContinue(const Request& req, http::status status, std::string body) {
    const bool ok = co_await Reply(req, status, std::move(body));
    co_return ok && req.keep_alive();
  }

  awaitable<bool> Handle(Request& req) {
    const std::string_view path = PathOf(req.target());
    const http::verb method = req.method();
    Server& s = server_;
    auto route = [&](std::string_view p, http::verb v) { return path == p && method == v; };
    // --hang-after: alive, listening, reading requests, answering none (a wedged engine).
    if (s.hung_) co_return co_await HangForever();

    if (route("/health", http::verb::get)) {
      const bool healthy = s.loaded_ && !options().never_healthy;
      co_return co_await ReplyAndContinue(
          req, healthy ? http::status::ok : http::status::service_unavailable,
          healthy ? s.health_ok_body_ : s.loading_body_);
    }
    if (route("/v1/models", http::verb::get) || route("/models", http::verb::get)) {
      co_return co_await ReplyAndContinue(req, http::status::ok, s.models_body_);
    }
    if (route("/v1/completions", http::verb::post) || route("/completions", http::verb::post)) {
      co_return co_await Generate(req, Api::kCompletion);
    }
    if (route("/v1/chat/completions", http::verb::post) ||
        route("/chat/completions", http::verb::post)) {
      co_return co_await Generate(req, Api::kChat);
    }
    if (route("/v1/embeddings", http::verb::post) || route("/embeddings", http::verb::post)) {
      co_return co_await Embeddings(req);
    }
    if (route("/shutdown", http::verb::post)) co_return co_await Shutdown(req);
    if (route("/fake/stats", http::verb::get)) {
      const Stats& st = s.stats_;
      nlohmann::json j = {{"requests", st.requests},         {"completed", st.completed},
                          {"cancelled", st.cancelled},       {"in_flight", st.in_flight},
                          {"http_requests", st.http_requests}};
      co_return co_await ReplyAndContinue(req, http::status::ok, j.dump());
    }
    for (std::string_view known : {"/health", "/v1/models", "/models", "/v1/completions",
                                   "/completions", "/v1/chat/completions", "/chat/completions",
                                   "/v1/embeddings", "/embeddings", "/shutdown", "/fake/stats"}) {
      if (path == known) {
        co_return co_await ReplyAndContinue(
            req, http::status::method_not_allowed,
            ErrorBody(405, "Method Not Allowed", "invalid_request_error"));
      }
    }
    co_return co_await ReplyAndContinue(req, http::status::not_found,
                                        ErrorBody(404, "File Not Found", "not_found_error"));
  }

  // Never answer, never close: hold the connection open until the process is killed.
  awaitable<bool> HangForever() {
    asio::steady_timer forever(sock_.get_executor(), asio::steady_timer::time_point::max());
    error_code ec;
    co_await forever.async_wait(asio::redirect_error(use_awaitable, ec));
    co_return false;
  }

  awaitable<bool> Shutdown(const Request& req) {
    if (options().hang_on_shutdown) {
      if (options().log_requests) std::printf("POST /shutdown (hanging: --hang-on-shutdown)\n");
      co_return co_await HangForever();
    }
    co_await Reply(req, http::status::ok, R"({"status":"shutting_down"})");
    std::printf("fake_engine: shutting down on request\n");
    ExitNow(0);
  }

  awaitable<bool> Embeddings(const Request& req) {
    if (!server_.loaded_) {
      co_return co_await ReplyAndContinue(req, http::status::service_unavailable,
                                          server_.loading_body_);
    }
    std::string error;
    auto inputs = ParseEmbedInputs(req.body(), &error);
    if (!inputs) {
      co_return co_await ReplyAndContinue(req, http::status::bad_request,
                                          ErrorBody(400, error, "invalid_request_error"));
    }
    Stats& st = server_.stats_;
    ++st.requests;
    ++st.in_flight;
    const bool ok = co_await Reply(req, http::status::ok,
                                   EmbeddingsBody(options().model_id, *inputs));
    --st.in_flight;
    ++(ok ? st.completed : st.cancelled);
    co_return ok && req.keep_alive();
  }

  awaitable<bool> Generate(const Request& req, Api api) {
    if (!server_.loaded_) {
      co_return co_await ReplyAndContinue(req, http::status::service_unavailable,
                                          server_.loading_body_);
    }
    std::string error;
    std::optional<GenRequest> g = ParseGenRequest(api, req.body(), &error);
    if (!g) {
      co_return co_await ReplyAndContinue(req, http::status::bad_request,
                                          ErrorBody(400, error, "invalid_request_error"));
    }
    const Answer answer = MakeAnswer(g->seed, options().tokens, g->max_tokens, g->stops);
    const Usage usage{g->prompt_tokens, static_cast<int>(answer.tokens.size())};
    const std::string id = std::string(api == Api::kChat ? "chatcmpl-fake-" : "cmpl-fake-") +
                           std::to_string(++server_.next_id_);
    const int64_t created = static_cast<int64_t>(std::time(nullptr));

    Stats& st = server_.stats_;
    ++st.requests;
    ++st.in_flight;
    const bool ok = g->stream ? co_await Stream(req, api, id, created, answer, *g, usage)
                              : co_await Respond(req, api, id, created, answer, usage);
    --st.in_flight;
    if (!ok) {
      ++st.cancelled;
      co_return false;
    }
    ++st.completed;
    server_.CountGenerationDone();
    co_return req.keep_alive();
  }

  // Sleeps `ms`; returns false if the client went away meanwhile.
  awaitable<bool> Think(asio::steady_timer& timer, int64_t ms) {
    if (ms <= 0) co_return true;
    timer.expires_after(std::chrono::milliseconds(ms));
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    co_return !PeerGone(sock_);
  }

  awaitable<bool> Respond(const Request& req, Api api, const std::string& id, int64_t created,
                         const kitty::fake::Answer& answer, const Usage& usage) {
    asio::steady_timer timer(sock_.get_executor());
    const int64_t n = static_cast<int64_t>(answer.tokens.size());
    if (options().crash_mid_stream) {
      co_await Think(timer, options().token_ms * (n / 2));
      server_.Fail("--crash-mid-stream (before a non-streamed answer)");
    }
    if (!co_await Think(timer, options().token_ms * n)) co_return false;
    co_return co_await Reply(req, http::status::ok,
                             AnswerBody(api, id, created, options().model_id, answer, usage));
  }

  awaitable<bool> Write(std::string_view bytes) {
    error_code ec;
    co_await asio::async_write(sock_, asio::buffer(bytes), asio::redirect_error(use_awaitable, ec));
    co_return !ec;
  }

  awaitable<bool> Stream(const Request& req, Api api, const std::string& id, int64_t created,
                         const kitty::fake::Answer& answer, const GenRequest& g,
                         const Usage& usage) {
    http::response<http::empty_body> res{http::status::ok, req.version()};
    res.set(http::field::server, "fake_engine");
    res.set(http::field::content_type, "text/event-stream");
    res.set(http::field::cache_control, "no-cache");
    res.keep_alive(req.keep_alive());
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    LogRequest(req, 200);
    error_code ec;
    co_await http::async_write_header(sock_, sr, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return false;

    StreamFormatter f(api, id, created, options().model_id);
    if (api == Api::kChat && !co_await Write(f.RoleEvent())) co_return false;
    asio::steady_timer timer(sock_.get_executor());
    const size_t half = answer.tokens.size() / 2;
    for (size_t i = 0; i < answer.tokens.size(); ++i) {
      if (options().crash_mid_stream && i == half) server_.Fail("--crash-mid-stream");
      if (!co_await Think(timer, options().token_ms)) co_return false;
      if (!co_await Write(f.TokenEvent(answer.tokens[i]))) co_return false;
    }
    co_return co_await Write(f.FinalEvents(answer.finish_reason, g.include_usage ? &usage : nullptr));
  }

  Server& server_;
  tcp::socket sock_;
  beast::flat_buffer buf_;
};

Server::Server(asio::io_context& io, const Options& options)
    : io_(io), options_(options), acceptor_(io) {
  health_ok_body_ = nlohmann::json{{"status", "ok"}, {"model_id", options.model_id}}.dump();
  loading_body_ = ErrorBody(503, "Loading model", "unavailable_error");
  models_body_ =
      nlohmann::json{{"object", "list"},
                     {"data",
                      {{{"id", options.model_id},
                        {"object", "model"},
                        {"created", static_cast<int64_t>(std::time(nullptr))},
                        {"owned_by", "fake_engine"}}}}}
          .dump();
}

uint16_t Server::Listen(std::string* error) {
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(options_.host, ec);
  if (ec) {
    *error = "bad --host '" + options_.host + "': " + ec.message();
    return 0;
  }
  const tcp::endpoint endpoint{address, options_.port};
  auto fail = [&](const char* what) {
    *error = std::string(what) + " " + options_.host + ":" + std::to_string(options_.port) +
             ": " + ec.message();
    return uint16_t{0};
  };
  if (acceptor_.open(endpoint.protocol(), ec); ec) return fail("open");
  if (acceptor_.set_option(tcp::acceptor::reuse_address(true), ec); ec) return fail("setsockopt");
  if (acceptor_.bind(endpoint, ec); ec) return fail("bind");
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec) return fail("listen");
  const tcp::endpoint bound = acceptor_.local_endpoint(ec);
  if (ec) return fail("getsockname");
  return bound.port();
}

void Server::Start() { asio::co_spawn(io_, AcceptLoop(), ReportEnd); }

void Server::SetLoaded() { loaded_ = true; }

void Server::CountGenerationDone() {
  ++generations_done_;
  if (options_.crash_after > 0 && generations_done_ >= static_cast<uint64_t>(options_.crash_after)) {
    Fail("--crash-after " + std::to_string(options_.crash_after));
  }
  if (options_.hang_after > 0 && generations_done_ >= static_cast<uint64_t>(options_.hang_after) && !hung_) {
    hung_ = true;
    std::printf("fake_engine: hanging (--hang-after %lld): nothing is answered from now on\n",
                static_cast<long long>(options_.hang_after));
    std::fflush(stdout);
  }
}

void Server::Fail(std::string_view why) const {
  if (!options_.exit_code) CrashNow(why);
  std::fprintf(stderr, "fake_engine: exiting with %d: %.*s\n", *options_.exit_code,
               static_cast<int>(why.size()), why.data());
  ExitNow(*options_.exit_code);
}

awaitable<void> Server::ServeConnection(Server& server, tcp::socket sock) {
  Connection conn(server, std::move(sock));  // lives in this coroutine's frame
  co_await conn.Run();
}

awaitable<void> Server::AcceptLoop() {
  asio::steady_timer backoff(io_);
  for (;;) {
    error_code ec;
    tcp::socket sock = co_await acceptor_.async_accept(asio::redirect_error(use_awaitable, ec));
    if (ec) {
      // Out of descriptors and the like: say so, and give closing connections a moment.
      std::fprintf(stderr, "fake_engine: accept: %s\n", ec.message().c_str());
      backoff.expires_after(std::chrono::milliseconds(10));
      co_await backoff.async_wait(asio::redirect_error(use_awaitable, ec));
      continue;
    }
    sock.set_option(tcp::no_delay(true), ec);
    if (ec) std::fprintf(stderr, "fake_engine: TCP_NODELAY: %s\n", ec.message().c_str());
    asio::co_spawn(io_, ServeConnection(*this, std::move(sock)), ReportEnd);
  }
}

}  // namespace kitty::fake
