#include "kitty/http/proxy.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>

#include "kitty/http/chunked.h"
#include "kitty/http/errors.h"
#include "kitty/http/model_field.h"
#include "kitty/http/progress_stream.h"
#include "kitty/http/proxy_text.h"
#include "kitty/http/sweeper.h"
#include "kitty/http/upstream_pool.h"

namespace kitty::web {
namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(5);
// Per stream; an SSE read touches only its first page, so an open stream costs little.
constexpr size_t kRelayBuffer = 16 * 1024;
// A worker's connection that breaks is usually the worker dying. Its death reaches us through
// the control loop (reaped, then the lease cut) a moment after the socket's EOF: waiting that
// long lets the client learn the real cause (reason worker_crashed), not just "closed".
constexpr auto kCrashNoticeWait = std::chrono::milliseconds(250);
// A worker that answers at once needs nobody to watch its client; one that takes longer (a
// long prompt, a non-streamed generation) gets a watcher after this long, so a client that
// leaves cancels the work. Watching every request would cost two syscalls each.
constexpr auto kWatchClientAfter = std::chrono::milliseconds(100);

// Shared between the proxy coroutine, the client watcher and the lease's cut handler; all
// run on the connection's I/O thread (the cut handler posts itself there).
struct ProxyState {
  tcp::socket* upstream = nullptr;
  bool done = false;
  bool watching = false;  // WatchClient runs
  bool client_gone = false;
  bool cut = false;
  Error cut_error;  // why the worker's lease was cut
  std::optional<Error> hung;  // nothing came from the worker for busy_timeout
  net::steady_timer* cut_wait = nullptr;  // cancelled by the cut (see WaitForCut)

  void abort_upstream() {
    if (!upstream) return;
    boost::system::error_code ec;
    upstream->shutdown(tcp::socket::shutdown_both, ec);
    upstream->close(ec);
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

// After the worker's connection broke: gives the lease's cut a moment to arrive.
net::awaitable<void> WaitForCut(std::shared_ptr<ProxyState> st) {
  if (st->cut || st->client_gone || st->hung) co_return;
  net::steady_timer t(co_await net::this_coro::executor, kCrashNoticeWait);
  st->cut_wait = &t;
  boost::system::error_code ec;
  co_await t.async_wait(use_ec(ec));
  st->cut_wait = nullptr;
}

std::string RequestHead(const Request& req, const std::string& target, const Endpoint& ep,
                        const std::string& request_id) {
  std::string head;
  head.reserve(256 + req.base().target().size());
  head.append(req.method_string()).append(" ").append(target).append(" HTTP/1.1\r\n");
  for (const auto& f : req.base()) {
    const auto name = f.name();
    if (IsHopByHop(name) || name == http::field::host || name == http::field::authorization)
      continue;
    if (beast::iequals(f.name_string(), "X-Request-Id")) continue;  // ours follows
    head.append(f.name_string()).append(": ").append(f.value()).append("\r\n");
  }
  if (!request_id.empty()) head.append("X-Request-Id: ").append(request_id).append("\r\n");
  head.append("Host: ").append(ep.host).append(":").append(std::to_string(ep.port)).append("\r\n");
  if (!ep.authorization.empty()) head.append("Authorization: ").append(ep.authorization).append("\r\n");
  head.append("Content-Length: ").append(std::to_string(req.body().size())).append("\r\n");
  head.append("\r\n");
  return head;
}

enum class Framing { kNone, kLength, kChunked, kClose };

std::string ResponseHead(const http::response<http::empty_body>& up, unsigned version,
                         Framing out, uint64_t length, bool keep_alive, bool is_head,
                         const std::string& served_by, const std::string* content_type,
                         const std::string& request_id) {
  std::string head;
  head.reserve(512);
  head.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  head.append(std::to_string(up.result_int())).append(" ");
  const std::string_view reason = up.reason();
  head.append(reason.empty() ? http::obsolete_reason(up.result()) : reason).append("\r\n");
  for (const auto& f : up.base()) {
    // A HEAD answer keeps the length it describes (there is no body to frame).
    if (IsHopByHop(f.name()) && !(is_head && f.name() == http::field::content_length)) continue;
    if (content_type && f.name() == http::field::content_type) continue;
    // An upstream kittyd (a remote model) names its own model; the client asked this one.
    if (beast::iequals(f.name_string(), "X-Kitty-Served-By")) continue;
    if (beast::iequals(f.name_string(), "X-Request-Id")) continue;  // ours, below
    head.append(f.name_string()).append(": ").append(f.value()).append("\r\n");
  }
  if (content_type) head.append("Content-Type: ").append(*content_type).append("\r\n");
  if (out == Framing::kLength)
    head.append("Content-Length: ").append(std::to_string(length)).append("\r\n");
  if (out == Framing::kChunked) head.append("Transfer-Encoding: chunked\r\n");
  head.append("X-Kitty-Served-By: ").append(served_by).append("\r\n");
  if (!request_id.empty()) head.append("X-Request-Id: ").append(request_id).append("\r\n");
  if (version == 10 && keep_alive) head.append("Connection: keep-alive\r\n");
  if (version != 10 && !keep_alive) head.append("Connection: close\r\n");
  head.append("\r\n");
  return head;
}

// Everything the relay writes to the client in one gathered send: the response head (once),
// then raw bytes (already framed), then body data (framed as one chunk when chunked), then the
// last chunk. The views must stay valid until write() returns.
class ClientWriter {
 public:
  ClientWriter(tcp::socket& sock, bool chunked) : sock_(sock), chunked_(chunked) {}

  void head(std::string h) { head_ = std::move(h); }
  void raw(std::string_view b) {
    if (!b.empty()) raw_.push_back(b);
  }
  void data(std::string_view b) {
    if (b.empty()) return;
    data_.push_back(b);
    data_size_ += b.size();
    remember(b);
  }
  /// Data that goes out inside raw bytes: only remembered.
  void saw_data(std::string_view b) { remember(b); }
  void last_chunk() { last_ = true; }
  /// The last two data bytes sent (to end a cut SSE stream on an event boundary).
  const std::string& tail() const { return tail_; }

  net::awaitable<boost::system::error_code> write() {
    bufs_.clear();
    if (!head_.empty()) bufs_.push_back(net::buffer(head_));
    for (auto r : raw_) bufs_.push_back(net::buffer(r.data(), r.size()));
    if (data_size_ > 0) {
      if (chunked_) {
        chunk_head_ = ChunkHeader(data_size_);
        bufs_.push_back(net::buffer(chunk_head_));
      }
      for (auto d : data_) bufs_.push_back(net::buffer(d.data(), d.size()));
      if (chunked_) bufs_.push_back(net::buffer("\r\n", 2));
    }
    if (last_) bufs_.push_back(net::buffer("0\r\n\r\n", 5));
    boost::system::error_code ec;
    if (!bufs_.empty()) co_await net::async_write(sock_, bufs_, use_ec(ec));
    head_.clear();
    raw_.clear();
    data_.clear();
    data_size_ = 0;
    last_ = false;
    co_return ec;
  }

 private:
  void remember(std::string_view b) {
    tail_.append(b.size() > 2 ? b.substr(b.size() - 2) : b);
    if (tail_.size() > 2) tail_.erase(0, tail_.size() - 2);
  }

  tcp::socket& sock_;
  const bool chunked_;
  std::string head_, chunk_head_, tail_;
  std::vector<std::string_view> raw_, data_;
  std::vector<net::const_buffer> bufs_;
  size_t data_size_ = 0;
  bool last_ = false;
};

}  // namespace

net::awaitable<void> ProxyToWorker(Exchange& ex, Lease& lease, const std::string& target,
                                   const ProxyOptions& opts) {
  const std::string& model_id = opts.model_id;
  const Endpoint ep = lease.endpoint();
  auto executor = co_await net::this_coro::executor;
  UpstreamPool& pool = UpstreamPool::Of(executor);
  // An upstream the worker only stands for (Ollama, a remote) knows the model by its own name.
  if (!ep.model.empty()) ex.req.body() = WithModel(ex.req.body(), ep.model);
  const std::string up_head = RequestHead(ex.req, UpstreamTarget(ep.prefix, target), ep, ex.request_id);

  auto st = std::make_shared<ProxyState>();
  lease.on_cut([st, executor](const Error& why) {
    net::post(executor, [st, why] {
      st->cut = true;
      st->cut_error = why;
      if (st->cut_wait) st->cut_wait->cancel();
      // A dead worker's socket ends by itself once what it sent has been read: closing it
      // now would drop those last bytes. A forced release must stop the request now.
      if (why.code != ErrorCode::kWorkerCrashed) st->abort_upstream();
    });
  });
  tcp::socket& client = ex.stream.socket();
  auto watch_client = Sweeper::Of(executor).make([st, &client, executor] {
    if (st->done || st->watching) return;
    st->watching = true;
    net::co_spawn(executor, WatchClient(st, client), net::detached);
  });
  watch_client->set(kWatchClientAfter);
  // Re-armed at every byte from the worker; when it expires the worker is hung.
  std::shared_ptr<Sweeper::Deadline> busy;
  if (opts.busy_timeout.count() > 0) {
    busy = Sweeper::Of(executor).make([st, &lease, &opts] {
      if (st->done || st->cut || st->client_gone) return;
      const std::string why = fmt::format("no byte from the worker for {:g}s in a request (busy_timeout_seconds)",
                                          opts.busy_timeout.count() / 1000.0);
      st->hung = MakeError("model '" + opts.model_id + "': worker hung: " + why +
                               "; kittyd killed it",
                           ErrorCode::kWorkerHung);
      st->abort_upstream();
      lease.report_hung(why);
    });
    busy->set(opts.busy_timeout);
  }

  // Ends the watcher (and the upstream pointer's use) however we leave.
  struct Finish {
    std::shared_ptr<ProxyState> st;
    tcp::socket& client;
    ~Finish() {
      st->done = true;
      st->upstream = nullptr;
      boost::system::error_code ec;
      if (st->watching && !st->client_gone) client.cancel(ec);
    }
  } finish{st, client};

  auto fail = [&](const std::string& why) -> Error {
    if (st->hung) return *st->hung;
    if (st->cut) return st->cut_error;
    return MakeError("model '" + model_id + "': " + why, ErrorCode::kUpstreamError);
  };

  // 1. A connection (pooled, or new), the request, the answer's header.
  std::unique_ptr<tcp::socket> up;
  beast::flat_buffer up_buf;
  std::unique_ptr<http::response_parser<http::empty_body>> parser;
  boost::system::error_code ec;
  for (int attempt = 0;; ++attempt) {
    up = pool.take(ep);
    const bool reused = up != nullptr;
    if (!up) {
      beast::tcp_stream connecting(executor);
      connecting.expires_after(kConnectTimeout);
      boost::system::error_code aec;
      auto addr = net::ip::make_address(ep.host, aec);
      if (aec) addr = net::ip::make_address("127.0.0.1");
      boost::system::error_code cec;
      co_await connecting.async_connect(tcp::endpoint(addr, ep.port), use_ec(cec));
      if (cec) {
        if (st->client_gone) {
          ex.keep_alive = false;
          co_return;
        }
        const Error e = fail("cannot connect to worker on port " + std::to_string(ep.port) + ": " + cec.message());
        if (opts.head_sent) co_return co_await EndStreamWithError(ex, e);
        co_return ex.respond(MakeErrorResponse(e, ex.req.version(), ex.keep_alive));
      }
      up = std::make_unique<tcp::socket>(connecting.release_socket());
      up->set_option(tcp::no_delay(true), aec);
    }
    st->upstream = up.get();
    if (st->client_gone || st->cut) break;
    parser = std::make_unique<http::response_parser<http::empty_body>>();
    // Not boost::none: Beast 1.74 compares a content length against an empty optional as "over".
    parser->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (ex.req.method() == http::verb::head) parser->skip(true);
    const std::array<net::const_buffer, 2> request{net::buffer(up_head), net::buffer(ex.req.body())};
    boost::system::error_code wec;
    co_await net::async_write(*up, request, use_ec(wec));
    ec = wec;
    if (!ec) {
      boost::system::error_code rec;
      co_await http::async_read_header(*up, up_buf, *parser, use_ec(rec));
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
    co_await WaitForCut(st);
    const Error e = fail("worker closed the connection before answering (" +
                         (ec ? ec.message() : std::string("cut")) + ")");
    if (opts.head_sent) co_return co_await EndStreamWithError(ex, e);
    co_return ex.respond(MakeErrorResponse(e, ex.req.version(), ex.keep_alive));
  }

  if (busy) busy->set(opts.busy_timeout);
  lease.progress();

  // 2. How the answer is framed, upstream and to the client.
  const auto& up_res = parser->get();
  const unsigned version = ex.req.version() == 10 ? 10 : 11;
  const int status = up_res.result_int();
  ex.proxied_status = status;
  ex.first_byte = std::chrono::steady_clock::now();
  const bool is_head = ex.req.method() == http::verb::head;
  const bool is_sse = up_res[http::field::content_type].starts_with("text/event-stream");
  Framing in;
  uint64_t left = 0;
  if (is_head || status / 100 == 1 || status == 204 || status == 304) {
    in = Framing::kNone;
  } else if (parser->chunked()) {
    in = Framing::kChunked;
  } else if (auto len = parser->content_length()) {
    in = Framing::kLength;
    left = *len;
  } else {
    in = Framing::kClose;  // the body ends when the worker closes the connection
  }
  Framing out = in;
  BodyRewriter* const rw = opts.rewrite.get();
  std::string rw_type;
  if (rw) rw_type = rw->begin(status, up_res[http::field::content_type]);
  if (in == Framing::kChunked || in == Framing::kClose || (rw && in == Framing::kLength)) {
    // HTTP/1.0 has no chunked coding: such a client gets a body that ends with the connection.
    out = version == 10 ? Framing::kClose : Framing::kChunked;
  }
  if (out == Framing::kClose) ex.keep_alive = false;

  ClientWriter writer(client, out == Framing::kChunked);
  if (!opts.head_sent)
    writer.head(ResponseHead(up_res, version, out, left, ex.keep_alive, is_head, model_id, rw ? &rw_type : nullptr,
                             ex.request_id));
  ex.response_started = true;

  // 3. The body, piece by piece: first what came with the header, then each read.
  ChunkedScanner scanner;
  std::vector<ChunkedScanner::Span> spans;
  std::unique_ptr<char[]> buf(new char[kRelayBuffer]);
  bool body_done = in == Framing::kNone || (in == Framing::kLength && left == 0);
  bool upstream_ok = true;
  std::string upstream_error;
  std::string error_event;  // alive until the write that sends it
  std::string rewritten;    // the rewriter's output of one step, alive until its write
  bool ended_well = false;  // a broken answer still ended well-formed (an error event or line)
  // Body data for the client: through the rewriter when there is one.
  auto emit = [&](std::string_view d) {
    if (rw) rewritten += rw->feed(d);
    else writer.data(d);
  };
  std::string_view piece(static_cast<const char*>(up_buf.data().data()), up_buf.size());
  ex.response_bytes += piece.size();
  for (bool first = true;; first = false) {
    if (!first && !body_done) {
      boost::system::error_code rec;
      const size_t n = co_await up->async_read_some(net::buffer(buf.get(), kRelayBuffer), use_ec(rec));
      piece = std::string_view(buf.get(), n);
      ex.response_bytes += n;
      if (n > 0) {
        if (busy) busy->set(opts.busy_timeout);
        lease.progress();
      }
      if (rec) {
        if (in == Framing::kClose && rec == net::error::eof) {
          body_done = true;
          if (out == Framing::kChunked) writer.last_chunk();
        } else {
          upstream_ok = false;
          upstream_error = rec == net::error::eof ? "connection closed" : rec.message();
        }
      }
    }
    if (!piece.empty()) {
      if (is_sse) ex.sse_events += CountSseEvents(piece);
      switch (in) {
        case Framing::kNone:
          break;
        case Framing::kLength: {
          const size_t n = static_cast<size_t>(std::min<uint64_t>(left, piece.size()));
          if (rw) emit(piece.substr(0, n));
          else writer.raw(piece.substr(0, n));
          left -= n;
          body_done = left == 0;
          break;
        }
        case Framing::kChunked: {
          const bool from_boundary = scanner.at_boundary();
          spans.clear();
          const auto step = scanner.feed(piece, &spans);
          const std::string_view used = piece.substr(0, step.consumed);
          if (!rw && out == Framing::kChunked && from_boundary && scanner.at_boundary() && !step.error) {
            writer.raw(used);  // whole chunks: relayed byte for byte
            for (const auto& sp : spans) writer.saw_data(used.substr(sp.offset, sp.size));
          } else {
            for (const auto& sp : spans) emit(used.substr(sp.offset, sp.size));
            if (step.done && out == Framing::kChunked && !rw) writer.last_chunk();
          }
          if (step.error) {
            upstream_ok = false;
            upstream_error = "malformed chunked body from the worker";
          }
          body_done = step.done;
          break;
        }
        case Framing::kClose:
          emit(piece);
          break;
      }
    }
    if (rw && !st->client_gone && (body_done || !upstream_ok)) {
      // The rewriter ends the answer its own way (a last NDJSON line, an error line).
      if (!upstream_ok) co_await WaitForCut(st);
      const Error e = fail("worker stopped in the middle of the answer (" + upstream_error + ")");
      rewritten += rw->finish(upstream_ok ? nullptr : &e);
      if (out == Framing::kChunked) writer.last_chunk();
      ended_well = true;
    }
    if (rw) writer.data(rewritten);
    if (!rw && !upstream_ok && is_sse && out != Framing::kLength && !st->client_gone) {
      co_await WaitForCut(st);
      // What the worker sent before it failed still goes out, then the error as an event of
      // its own, starting on an event boundary.
      const Error e = fail("worker stopped in the middle of the stream (" + upstream_error + ")");
      const std::string& tail = writer.tail();
      error_event = tail.empty() || tail.ends_with("\n\n") ? "" : tail.ends_with("\n") ? "\n" : "\n\n";
      error_event += SseErrorEvent(e);
      writer.data(error_event);
      if (out == Framing::kChunked) writer.last_chunk();
      ended_well = true;
    }
    const boost::system::error_code wec = co_await writer.write();
    rewritten.clear();
    if (wec) {
      st->client_gone = true;
      break;
    }
    if (body_done || !upstream_ok || st->client_gone) break;
  }
  if (st->client_gone) {
    ex.keep_alive = false;
    spdlog::debug("model '{}': client went away; upstream request cancelled", model_id);
    co_return;  // `up` is dropped: closing it tells the worker to stop generating
  }
  if (!upstream_ok) {
    // A body cut short: without an error event, close, so the client sees the truncation.
    // With one, a chunked answer is complete and well-formed, and the connection may serve
    // the client's next request (closing it would fail that request, which httpx and the
    // OpenAI SDK send on the same connection).
    if (!ended_well || out != Framing::kChunked) ex.keep_alive = false;
    co_return;
  }
  st->upstream = nullptr;
  if (up_res.keep_alive() && !st->cut && in != Framing::kClose) pool.put(ep, std::move(up));
}

}  // namespace kitty::web
