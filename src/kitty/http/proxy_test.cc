// The proxy against a scripted upstream on loopback, without processes: each framing of the
// worker's answer (chunked on and off chunk boundaries, Content-Length, close-delimited), both
// client versions, a worker that dies mid-stream, and the pool's watch on idle connections.
#include "kitty/http/proxy.h"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "kitty/base/asio_clock.h"
#include "kitty/http/upstream_pool.h"
#include "kitty/testing/loopback.h"

namespace kitty::web {
namespace {

using namespace std::chrono_literals;
using testing_util::SocketPair;

struct Script {
  std::vector<std::string> pieces;  // written one by one, a moment apart
  bool close_after = true;          // close the connection after the last piece
};

// Serves one connection: reads one request (header + Content-Length body), plays the script.
net::awaitable<void> ScriptedUpstream(tcp::acceptor& acc, Script script, std::string* seen) {
  auto sock = co_await acc.async_accept(net::use_awaitable);
  beast::flat_buffer buf;
  http::request<http::string_body> req;
  co_await http::async_read(sock, buf, req, net::use_awaitable);
  std::ostringstream os;
  os << req;
  *seen = os.str();
  net::steady_timer t(sock.get_executor());
  for (const auto& p : script.pieces) {
    co_await net::async_write(sock, net::buffer(p), net::use_awaitable);
    t.expires_after(3ms);
    co_await t.async_wait(net::use_awaitable);
  }
  if (!script.close_after) {
    // Keep the connection open until the peer closes it.
    char c;
    boost::system::error_code ec;
    co_await sock.async_read_some(net::buffer(&c, 1), use_ec(ec));
  }
}

class ProxyTest : public ::testing::Test {
 protected:
  ProxyTest()
      : acc_(io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)),
        clock_(io_),
        gate_(ReadyGate::Create(&clock_, nullptr)) {
    gate_->open({"127.0.0.1", acc_.local_endpoint().port(), 4242});
  }

  // Runs one proxied request for a client of HTTP `version`; returns what the client read
  // until the server side closed or the answer was complete (`until_close`).
  std::string run(Script script, unsigned version = 11, bool keep_alive = false) {
    auto [client, server] = SocketPair(io_);
    beast::tcp_stream stream(std::move(server));
    net::co_spawn(io_, ScriptedUpstream(acc_, std::move(script), &upstream_saw_), net::detached);
    net::co_spawn(
        io_,
        [&]() -> net::awaitable<void> {
          Request req{http::verb::post, "/v1/chat/completions", version};
          req.set(http::field::content_type, "application/json");
          req.set(http::field::authorization, "Bearer secret");
          req.body() = R"({"model":"m","stream":true})";
          req.prepare_payload();
          Exchange ex{stream, std::move(req)};
          ex.keep_alive = keep_alive;
          auto lease = gate_->try_lease();
          ProxyOptions po;  // named: GCC 12 frees a temporary of a co_await expression too early
          po.model_id = "m";
          const std::string target = "/v1/chat/completions";
          co_await ProxyToWorker(ex, *lease, target, po);
          if (ex.response && !ex.response_started) {
            boost::system::error_code ec;
            co_await http::async_write(stream, *ex.response, use_ec(ec));
          }
          kept_alive_ = ex.keep_alive;
          boost::system::error_code ec;
          stream.socket().shutdown(tcp::socket::shutdown_send, ec);
          pool_idle_ = UpstreamPool::Of(io_.get_executor()).idle_count();
        },
        net::detached);
    std::thread runner([this] { io_.run_for(10s); });
    std::string got = testing_util::ReadAll(client);
    // The server side shut down its sending half after the proxy finished: all done.
    io_.stop();
    runner.join();
    io_.restart();
    return got;
  }

  net::io_context io_;
  tcp::acceptor acc_;
  AsioClock clock_;
  std::shared_ptr<ReadyGate> gate_;
  std::string upstream_saw_;
  bool kept_alive_ = false;
  size_t pool_idle_ = 0;
};

const char* kSseHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string Chunk(const std::string& data) {
  char size[16];
  snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

// Parses what the client got as an HTTP client would; `done` says the message was complete.
struct Parsed {
  bool done = false;
  std::string error;
  std::string body;
};
Parsed Parse(const std::string& got) {
  http::response_parser<http::string_body> p;
  p.eager(true);
  net::const_buffer rest = net::buffer(got);
  boost::system::error_code ec;
  while (rest.size() > 0 && !p.is_done()) {
    const size_t n = p.put(rest, ec);
    if (ec == http::error::need_more) break;
    if (ec) return {false, ec.message(), {}};
    rest += n;
  }
  return {p.is_done(), {}, p.is_done() ? p.get().body() : std::string()};
}

std::string BodyOf(const std::string& response) {
  return response.substr(response.find("\r\n\r\n") + 4);
}

TEST_F(ProxyTest, RequestReachesTheWorkerWithoutTheClientsKeyAndWithItsOwnHost) {
  run({{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"}});
  EXPECT_EQ(upstream_saw_.find("authorization"), std::string::npos) << upstream_saw_;
  EXPECT_EQ(upstream_saw_.find("Authorization"), std::string::npos) << upstream_saw_;
  EXPECT_NE(upstream_saw_.find("Host: 127.0.0.1:"), std::string::npos) << upstream_saw_;
  EXPECT_NE(upstream_saw_.find(R"({"model":"m","stream":true})"), std::string::npos);
}

TEST_F(ProxyTest, ChunksOnBoundariesAreRelayedByteForByte) {
  const std::string e1 = Chunk("data: {\"n\":1}\n\n"), e2 = Chunk("data: {\"n\":2}\n\n");
  const std::string got = run({{kSseHead, e1, e2, Chunk("data: [DONE]\n\n") + "0\r\n\r\n"}});
  EXPECT_NE(got.find("Transfer-Encoding: chunked"), std::string::npos) << got;
  EXPECT_EQ(BodyOf(got), e1 + e2 + Chunk("data: [DONE]\n\n") + "0\r\n\r\n");
}

TEST_F(ProxyTest, ChunksSplitAnywhereArriveAsValidChunkedData) {
  const std::string whole = Chunk("data: {\"n\":1}\n\n") + Chunk("data: [DONE]\n\n") + "0\r\n\r\n";
  Script s{{kSseHead}};
  for (size_t i = 0; i < whole.size(); i += 5) s.pieces.push_back(whole.substr(i, 5));
  const std::string got = run(s);
  const Parsed r = Parse(got);
  ASSERT_TRUE(r.error.empty()) << r.error << "\n" << got;
  ASSERT_TRUE(r.done) << got;
  EXPECT_EQ(r.body, "data: {\"n\":1}\n\ndata: [DONE]\n\n");
}

TEST_F(ProxyTest, Http10ClientGetsACloseDelimitedBodyNeverChunked) {
  const std::string got =
      run({{kSseHead, Chunk("data: a\n\n"), Chunk("data: b\n\n") + "0\r\n\r\n"}}, /*version=*/10);
  EXPECT_EQ(got.rfind("HTTP/1.0 200", 0), 0u) << got;
  EXPECT_EQ(got.find("chunked"), std::string::npos) << got;
  EXPECT_EQ(BodyOf(got), "data: a\n\ndata: b\n\n");
  EXPECT_FALSE(kept_alive_);
}

TEST_F(ProxyTest, ContentLengthBodyIsRelayedAsIs) {
  const std::string got = run({{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                "Content-Length: 11\r\n\r\n{\"a\":",
                                "\"bcd\"}"},
                               /*close_after=*/false},
                              11, /*keep_alive=*/true);
  EXPECT_NE(got.find("Content-Length: 11"), std::string::npos) << got;
  EXPECT_EQ(BodyOf(got), "{\"a\":\"bcd\"}");
  EXPECT_TRUE(kept_alive_);
  EXPECT_EQ(pool_idle_, 1u) << "the upstream connection went back to the pool";
}

TEST_F(ProxyTest, CloseDelimitedUpstreamIsChunkedForAnHttp11Client) {
  const std::string got =
      run({{"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nhel", "lo"}});
  EXPECT_NE(got.find("Transfer-Encoding: chunked"), std::string::npos) << got;
  const Parsed r = Parse(got);
  ASSERT_TRUE(r.error.empty()) << r.error << "\n" << got;
  EXPECT_TRUE(r.done) << got;
  EXPECT_EQ(r.body, "hello");
}

TEST_F(ProxyTest, WorkerDyingMidChunkEndsTheStreamWithAnErrorEventOnABoundary) {
  // The worker dies in the middle of its second event's chunk.
  const std::string got =
      run({{kSseHead, Chunk("data: {\"n\":1}\n\n"), "1e\r\ndata: {\"n\":"}}, 11, /*keep_alive=*/true);
  const Parsed r = Parse(got);
  ASSERT_TRUE(r.error.empty()) << r.error << "\n" << got;
  ASSERT_TRUE(r.done) << "the client's chunked body is complete\n" << got;
  const std::string& body = r.body;
  EXPECT_EQ(body.rfind("data: {\"n\":1}\n\n", 0), 0u) << body;
  const size_t err = body.find("data: {\"error\"");
  ASSERT_NE(err, std::string::npos) << body;
  EXPECT_EQ(body.substr(err - 2, 2), "\n\n") << "the error event starts on an event boundary";
  EXPECT_NE(body.find("\"code\":\"upstream_error\""), std::string::npos) << body;
  EXPECT_TRUE(body.ends_with("\n\n"));
  EXPECT_TRUE(kept_alive_) << "a complete chunked answer keeps the client's connection";
}

TEST_F(ProxyTest, WorkerClosingBeforeAnsweringIs502) {
  const std::string got = run({{}});
  EXPECT_EQ(got.rfind("HTTP/1.1 502", 0), 0u) << got;
  EXPECT_NE(got.find("\"code\":\"upstream_error\""), std::string::npos) << got;
}

TEST_F(ProxyTest, PoolSweepDropsConnectionsTheWorkerClosedOrThatIdledTooLong) {
  UpstreamPool& pool = UpstreamPool::Of(io_.get_executor());
  auto [a, b] = SocketPair(io_);
  auto [c, d] = SocketPair(io_);
  const Endpoint ep{"127.0.0.1", 1, 777};
  pool.put(ep, std::make_unique<tcp::socket>(std::move(a)));
  pool.put(ep, std::make_unique<tcp::socket>(std::move(c)));
  EXPECT_EQ(pool.idle_count(), 2u);
  b.close();  // the worker dies: its end of one idle connection closes
  EXPECT_TRUE(pool.sweep(std::chrono::steady_clock::now()));
  EXPECT_EQ(pool.idle_count(), 1u) << "no CLOSE-WAIT connection stays in the pool";
  EXPECT_FALSE(pool.sweep(std::chrono::steady_clock::now() + UpstreamPool::kMaxIdleTime +
                          std::chrono::seconds(1)));
  EXPECT_EQ(pool.idle_count(), 0u);
  EXPECT_EQ(pool.take(ep), nullptr);
}

TEST_F(ProxyTest, ThePoolSweepsItselfOnTheThreadsTicks) {
  UpstreamPool& pool = UpstreamPool::Of(io_.get_executor());
  auto [a, b] = SocketPair(io_);
  pool.put({"127.0.0.1", 1, 779}, std::make_unique<tcp::socket>(std::move(a)));
  b.close();
  io_.run_for(1500ms);
  io_.restart();
  EXPECT_EQ(pool.idle_count(), 0u);
}

TEST_F(ProxyTest, ForgottenPidNeverReturnsToThePool) {
  UpstreamPool& pool = UpstreamPool::Of(io_.get_executor());
  auto [a, b] = SocketPair(io_);
  const Endpoint ep{"127.0.0.1", 1, 778};
  pool.forget_pid(778);
  pool.put(ep, std::make_unique<tcp::socket>(std::move(a)));
  EXPECT_EQ(pool.idle_count(), 0u);
}

}  // namespace
}  // namespace kitty::web
