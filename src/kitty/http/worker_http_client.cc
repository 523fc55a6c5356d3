#include "kitty/http/worker_http_client.h"

namespace kitty::web {
namespace {

net::awaitable<WorkerHttpResult> Call(std::string method, std::string host, int port,
                                      std::string path, Duration timeout) {
  auto ex = co_await net::this_coro::executor;
  beast::tcp_stream stream(ex);
  stream.expires_after(timeout);
  boost::system::error_code ec;
  auto addr = net::ip::make_address(host, ec);
  if (ec) {
    // A host name: resolve it (rare; workers normally listen on 127.0.0.1).
    tcp::resolver resolver(ex);
    boost::system::error_code rec;
    auto results = co_await resolver.async_resolve(host, std::to_string(port), use_ec(rec));
    if (rec) co_return WorkerHttpResult{0, "cannot resolve " + host + ": " + rec.message()};
    boost::system::error_code cec;
    auto ep = co_await stream.async_connect(results, use_ec(cec));
    if (cec) co_return WorkerHttpResult{0, cec.message(), {}};
  } else {
    boost::system::error_code cec;
    co_await stream.async_connect(tcp::endpoint(addr, port), use_ec(cec));
    if (cec) co_return WorkerHttpResult{0, cec.message(), {}};
  }
  http::request<http::string_body> req{http::string_to_verb(method), path, 11};
  req.set(http::field::host, host + ":" + std::to_string(port));
  req.set(http::field::user_agent, "kittyd");
  req.keep_alive(false);
  if (req.method() == http::verb::post) {
    req.set(http::field::content_type, "application/json");
    req.body() = "{}";
  }
  req.prepare_payload();
  boost::system::error_code wec;
  co_await http::async_write(stream, req, use_ec(wec));
  if (wec)
    co_return WorkerHttpResult{0, wec == beast::error::timeout ? "timed out" : wec.message(), {}};
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);  // health answers are small; an agent's JSON is a few hundred bytes
  boost::system::error_code rec;
  co_await http::async_read(stream, buf, parser, use_ec(rec));
  if (rec)
    co_return WorkerHttpResult{0, rec == beast::error::timeout ? "timed out" : rec.message(), {}};
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  auto& res = parser.get();
  co_return WorkerHttpResult{static_cast<int>(res.result_int()), {}, std::move(res.body())};
}

}  // namespace

void WorkerHttpClient::call(const std::string& method, const std::string& host, int port,
                            const std::string& path, Duration timeout, Callback cb) {
  net::co_spawn(io_, Call(method, host, port, path, timeout),
                [cb = std::move(cb)](std::exception_ptr e, WorkerHttpResult r) {
                  if (e) r = WorkerHttpResult{0, "internal error", {}};
                  cb(std::move(r));
                });
}

}  // namespace kitty::web
