#include "kittyctl/http_client.h"

#include <utility>  // Boost 1.74's Asio coroutine headers need it first.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <charconv>

namespace kitty::ctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string EncodePathSegment(const std::string& segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : segment) {
    // RFC 3986 pchar stays as is ("qwen:7b" reaches kittyd unchanged); the rest is escaped.
    if (std::isalnum(c) || std::string_view("-._~!$&'()*+,;=:@").find(static_cast<char>(c)) !=
                               std::string_view::npos) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

namespace {

// Logs and worker lists can be long; kittyd's own request limit is 32 MiB, answers stay below.
constexpr uint64_t kMaxResponseBytes = 64ull << 20;

struct Outcome {
  bool done = false;
  beast::error_code ec;
  const char* stage = "";
  HttpResponse response;
};

std::string Reason(const beast::error_code& ec) {
  std::string text = ec.message();
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

asio::awaitable<void> Exchange(const BaseUrl& base, http::request<http::string_body> request,
                               Outcome& out) {
  auto executor = co_await asio::this_coro::executor;
  beast::error_code& ec = out.ec;
  tcp::resolver resolver(executor);
  out.stage = "resolve";
  auto endpoints = co_await resolver.async_resolve(base.host, std::to_string(base.port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  beast::tcp_stream stream(executor);
  out.stage = "connect";
  co_await stream.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  out.stage = "write";
  co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  out.stage = "read";
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  out.response.status = static_cast<int>(parser.get().result_int());
  out.response.body = std::move(parser.get().body());
  beast::error_code ignored;  // closing a finished exchange: nothing useful to report
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  out.done = true;
}

}  // namespace

Result<HttpResponse> HttpClient::Send(const std::string& method, const std::string& path,
                                      const std::string& body) const {
  http::request<http::string_body> request;
  request.method_string(method);
  request.target(base_.prefix + path);
  request.version(11);
  const bool v6 = base_.host.find(':') != std::string::npos;
  request.set(http::field::host, (v6 ? "[" + base_.host + "]" : base_.host) + ":" +
                                     std::to_string(base_.port));
  request.set(http::field::user_agent, "kittyctl");
  request.set(http::field::accept, "application/json");
  request.set(http::field::connection, "close");
  if (!api_key_.empty()) request.set(http::field::authorization, "Bearer " + api_key_);
  if (method == "POST" || !body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  request.prepare_payload();

  Outcome out;  // outlives the io_context, which destroys an unfinished coroutine frame
  {
    asio::io_context io;
    asio::co_spawn(io, Exchange(base_, std::move(request), out), asio::detached);
    io.run_for(timeout_);
    if (!out.done && !out.ec) {
      const auto seconds = std::chrono::duration<double>(timeout_).count();
      char text[64];
      std::snprintf(text, sizeof text, "timed out after %gs", seconds);
      const std::string stage = out.stage;
      return MakeError(text, stage == "resolve" || stage == "connect" ? ErrorCode::kUnreachable : ErrorCode::kTimeout);
    }
  }
  if (out.ec) {
    const std::string stage = out.stage;
    const bool unreachable = stage == "resolve" || stage == "connect";
    std::string reason = Reason(out.ec);
    if (stage == "read" && out.ec == http::error::end_of_stream) {
      reason = "connection closed before a response";
    } else if (!unreachable) {
      reason = stage + " failed: " + reason;
    }
    return MakeError(reason, unreachable ? ErrorCode::kUnreachable : ErrorCode::kIoError);
  }
  return std::move(out.response);
}

}  // namespace kitty::ctl
