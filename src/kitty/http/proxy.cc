#include "kitty/http/proxy.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "kitty/http/errors.h"

namespace kitty::web {
namespace {

constexpr size_t kMaxIdlePerWorker = 64;
constexpr auto kConnectTimeout = std::chrono::seconds(5);
constexpr size_t kRelayBuffer = 64 * 1024;

// Shared between the proxy coroutine, the client watcher and the lease's cut handler.
struct ProxyState {
  beast::tcp_stream* upstream = nullptr;
  bool done = false;
  bool client_gone = false;
  bool cut = false;
  Error cut_error;  // why the worker's lease was cut

  void abort_upstream() {
    if (!upstream) return;
    boost::system::error_code ec;
    upstream->socket().shutdown(tcp::socket::shutdown_both, ec);
    upstream->socket().close(ec);
  }
};

bool IsHopByHop(http::field f) {
  switch (f) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_connection:
    case http::field::transfer_encoding:
    case http::field::te:
    case http::field::trailer:
    case http::field::upgrade:
    case http::field::content_length:
    case http::field::expect:
      return true;
    default:
      return false;
  }
}

// Notices a client that closes its connection while we wait on the worker, so the upstream
// request is cancelled at once rather than at the next write.
net::awaitable<void> WatchClient(std::shared_ptr<ProxyState> st, tcp::socket& sock) {
  boost::system::error_code ec;
  co_await sock.async_wait(tcp::socket::wait_read, use_ec(ec));
  if (ec || st->done) co_return;
  char c;
  const ssize_t n = ::recv(sock.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
    st->client_gone = true;
    st->abort_upstream();
  }
  // Otherwise the client sent its next request early (pipelining): leave it in the socket.
}

std::string SseErrorEvent(const Error& e) {
  return "data: " + ErrorBody(e).dump() + "\n\n";
}

}  // namespace

std::unique_ptr<UpstreamPool::Stream> UpstreamPool::take(const Endpoint& ep) {
  auto it = idle_.find(Key{ep.host, ep.port, ep.pid});
  if (it == idle_.end() || it->second.empty()) return nullptr;
  auto s = std::move(it->second.back());
  it->second.pop_back();
  return s;
}

void UpstreamPool::put(const Endpoint& ep, std::unique_ptr<Stream> s) {
  auto& v = idle_[Key{ep.host, ep.port, ep.pid}];
  if (v.size() < kMaxIdlePerWorker) v.push_back(std::move(s));
}

void UpstreamPool::forget_pid(int pid) {
  for (auto it = idle_.begin(); it != idle_.end();) {
    if (std::get<2>(it->first) == pid)
      it = idle_.erase(it);
    else
      ++it;
  }
}

size_t UpstreamPool::idle_count() const {
  size_t n = 0;
  for (const auto& [k, v] : idle_) n += v.size();
  return n;
}

net::awaitable<void> ProxyToWorker(Exchange& ex, Lease& lease, UpstreamPool& pool,
                                   const std::string& model_id) {
  const Endpoint ep = lease.endpoint();
  auto executor = co_await net::this_coro::executor;

  http::request<http::string_body> up_req{ex.req.method(), ex.req.target(), 11};
  for (const auto& f : ex.req.base()) {
    const auto name = f.name();
    if (IsHopByHop(name) || name == http::field::host || name == http::field::authorization)
      continue;
    up_req.base().insert(name, f.name_string(), f.value());
  }
  up_req.set(http::field::host, ep.host + ":" + std::to_string(ep.port));
  up_req.keep_alive(true);
  up_req.body() = std::move(ex.req.body());
  up_req.prepare_payload();

  auto st = std::make_shared<ProxyState>();
  lease.on_cut([st](const Error& why) {
    st->cut = true;
    st->cut_error = why;
    // A dead worker's socket ends by itself once what it sent has been read: closing it
    // now would drop those last bytes. A forced release must stop the request now.
    if (why.code != ErrorCode::kWorkerCrashed) st->abort_upstream();
  });
  tcp::socket& client = ex.stream.socket();
  net::co_spawn(executor, WatchClient(st, client), net::detached);

  // Ends the watcher (and the upstream pointer's use) however we leave.
  struct Finish {
    std::shared_ptr<ProxyState> st;
    tcp::socket& client;
    ~Finish() {
      st->done = true;
      st->upstream = nullptr;
      boost::system::error_code ec;
      if (!st->client_gone) client.cancel(ec);
    }
  } finish{st, client};

  auto fail = [&](const std::string& why) -> Error {
    if (st->cut) return st->cut_error;
    return MakeError("model '" + model_id + "': " + why, ErrorCode::kUpstreamError);
  };

  std::unique_ptr<beast::tcp_stream> up;
  beast::flat_buffer up_buf;
  std::unique_ptr<http::response_parser<http::buffer_body>> parser_slot;
  boost::system::error_code ec;
  for (int attempt = 0;; ++attempt) {
    up = pool.take(ep);
    const bool reused = up != nullptr;
    if (!up) {
      up = std::make_unique<beast::tcp_stream>(executor);
      up->expires_after(kConnectTimeout);
      boost::system::error_code aec;
      auto addr = net::ip::make_address(ep.host, aec);
      if (aec) addr = net::ip::make_address("127.0.0.1");
      boost::system::error_code cec;
      co_await up->async_connect(tcp::endpoint(addr, ep.port), use_ec(cec));
      if (cec) {
        if (st->client_gone) {
          ex.keep_alive = false;
          co_return;
        }
        co_return ex.respond(MakeErrorResponse(fail("cannot connect to worker on port " +
                                                    std::to_string(ep.port) + ": " + cec.message()),
                                               ex.req.version(), ex.keep_alive));
      }
      up->socket().set_option(tcp::no_delay(true), aec);
    }
    up->expires_never();
    st->upstream = up.get();
    if (st->client_gone || st->cut) break;
    parser_slot = std::make_unique<http::response_parser<http::buffer_body>>();
    // Not boost::none: Beast 1.74 compares a content length against an empty optional as "over".
    parser_slot->body_limit(std::numeric_limits<std::uint64_t>::max());
    boost::system::error_code wec;
    co_await http::async_write(*up, up_req, use_ec(wec));
    ec = wec;
    if (!ec) {
      boost::system::error_code rec;
      co_await http::async_read_header(*up, up_buf, *parser_slot, use_ec(rec));
      ec = rec;
    }
    // A reused connection the worker had already closed: try once more on a fresh one.
    if (ec && reused && attempt == 0 && !st->client_gone && !st->cut) {
      st->upstream = nullptr;
      up.reset();
      up_buf.clear();
      continue;
    }
    break;
  }
  if (st->client_gone) {
    ex.keep_alive = false;
    co_return;
  }
  if (ec || st->cut) {
    co_return ex.respond(MakeErrorResponse(fail("worker closed the connection before answering (" +
                                                (ec ? ec.message() : std::string("cut")) + ")"),
                                           ex.req.version(), ex.keep_alive));
  }

  // Relay the response: header first, then the body as it arrives.
  auto& parser = *parser_slot;
  const auto& up_res = parser.get();
  http::response<http::buffer_body> res{up_res.result(), ex.req.version()};
  for (const auto& f : up_res.base()) {
    if (IsHopByHop(f.name())) continue;
    res.base().insert(f.name(), f.name_string(), f.value());
  }
  const bool is_sse = up_res[http::field::content_type].starts_with("text/event-stream");
  const auto upstream_length = parser.content_length();
  if (upstream_length && !is_sse) {
    res.content_length(*upstream_length);
  } else if (!(ex.req.method() == http::verb::head || up_res.result_int() == 204 ||
               up_res.result_int() == 304)) {
    res.chunked(true);
  }
  res.keep_alive(ex.keep_alive);
  res.body().data = nullptr;
  res.body().more = true;
  http::response_serializer<http::buffer_body> sr{res};
  ex.response_started = true;
  boost::system::error_code hec;
  co_await http::async_write_header(ex.stream, sr, use_ec(hec));
  if (hec) {
    st->client_gone = true;
    ex.keep_alive = false;
    co_return;
  }

  std::unique_ptr<char[]> buf(new char[kRelayBuffer]);
  bool upstream_ok = true;
  bool wrote_last = false;  // the serializer has been given more = false
  std::string tail;         // last bytes relayed, to end a cut SSE stream on an event boundary
  std::string error_event;
  while (!parser.is_done()) {
    parser.get().body().data = buf.get();
    parser.get().body().size = kRelayBuffer;
    boost::system::error_code rec;
    co_await http::async_read_some(*up, up_buf, parser, use_ec(rec));
    if (rec == http::error::need_buffer) rec = {};
    const size_t n = kRelayBuffer - parser.get().body().size;
    if (rec) {
      upstream_ok = false;
      if (!st->client_gone && is_sse && res.chunked()) {
        // What the worker sent before it failed still goes out (the read may have parsed
        // some of it), then the error as an event of its own.
        error_event.assign(buf.get(), n);
        const std::string_view sent = error_event.empty() ? tail : std::string_view(error_event);
        if (!sent.empty() && !sent.ends_with("\n\n"))
          error_event += sent.ends_with("\n") ? "\n" : "\n\n";
        const Error e =
            st->cut ? st->cut_error
                    : fail("worker stopped in the middle of the stream (" + rec.message() + ")");
        error_event +=
            SseErrorEvent(e);
      }
      break;
    }
    if (n == 0 && !parser.is_done()) continue;
    if (is_sse) tail.assign(buf.get() + (n > 2 ? n - 2 : 0), std::min<size_t>(n, 2));
    // No data pointer for an empty piece: Beast would encode it as a zero-length chunk,
    // which is the end-of-body marker, and then write the real one after it.
    res.body().data = n ? buf.get() : nullptr;
    res.body().size = n;
    res.body().more = !parser.is_done();
    wrote_last = !res.body().more;
    boost::system::error_code wec;
    co_await http::async_write(ex.stream, sr, use_ec(wec));
    if (wec == http::error::need_buffer) wec = {};
    if (wec) {
      st->client_gone = true;
      break;
    }
  }
  if (st->client_gone) {
    ex.keep_alive = false;
    spdlog::debug("model '{}': client went away; upstream request cancelled", model_id);
    co_return;  // `up` is dropped: closing it tells the worker to stop generating
  }
  if (!upstream_ok) {
    if (!error_event.empty()) {
      res.body().data = error_event.data();
      res.body().size = error_event.size();
      res.body().more = false;
      {
        boost::system::error_code ignored;
        co_await http::async_write(ex.stream, sr, use_ec(ignored));
      }
    }
    // A body cut short without a way to say so: close, so the client sees the truncation.
    ex.keep_alive = false;
    co_return;
  }
  // The serializer finishes the message (last chunk) on the write that says more = false;
  // only when no body write happened at all is one more write needed.
  if (!wrote_last && !sr.is_done()) {
    res.body().data = nullptr;
    res.body().size = 0;
    res.body().more = false;
    boost::system::error_code wec;
    co_await http::async_write(ex.stream, sr, use_ec(wec));
    if (wec && wec != http::error::need_buffer) ex.keep_alive = false;
  }
  st->upstream = nullptr;
  if (up_res.keep_alive()) pool.put(ep, std::move(up));
}

}  // namespace kitty::web
