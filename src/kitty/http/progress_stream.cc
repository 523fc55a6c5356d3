#include "kitty/http/progress_stream.h"

#include <fmt/format.h>

#include <cmath>

#include "kitty/http/errors.h"
#include "kitty/http/proxy_text.h"

namespace kitty::web {
namespace {

// Often at first (a small model loads in a fraction of a second, and each phase should show),
// then four times a second.
constexpr auto kPollFirst = std::chrono::milliseconds(40);
constexpr auto kPollFirstFor = std::chrono::seconds(2);
constexpr auto kPollEvery = std::chrono::milliseconds(250);
constexpr auto kCommentAtLeastEvery = std::chrono::seconds(5);

std::string Chunk(std::string_view data) { return ChunkHeader(data.size()).append(data).append("\r\n"); }

// Relays the worker's answer into a stream that already began: an event stream as it comes;
// anything else (the worker refused the request: 4xx, 5xx JSON) is kept and sent as the
// stream's last event, in the OpenAI error shape.
class AfterProgress : public BodyRewriter {
 public:
  std::string begin(int status, std::string_view content_type) override {
    status_ = status;
    stream_ = status / 100 == 2 && content_type.starts_with("text/event-stream");
    return "text/event-stream";
  }
  std::string feed(std::string_view data) override {
    if (stream_) return std::string(data);
    if (kept_.size() < 64 * 1024) kept_.append(data);
    return {};
  }
  std::string finish(const Error* broke) override {
    if (stream_ && !broke) return {};
    nlohmann::json body;
    if (broke) {
      body = ErrorBody(*broke);
    } else {
      body = nlohmann::json::parse(kept_, nullptr, false);
      if (body.is_discarded() || !body.is_object() || !body.contains("error"))
        body = ErrorBody(MakeError("the worker answered " + std::to_string(status_) + ": " + kept_.substr(0, 500),
                                   ErrorCode::kUpstreamError));
    }
    return "data: " + body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
  }

 private:
  int status_ = 0;
  bool stream_ = false;
  std::string kept_;
};

}  // namespace

bool ProgressStream::Wanted(const Exchange& ex) {
  const auto h = ex.req.find("X-Kitty-Progress");
  if (h == ex.req.end()) return false;
  const std::string_view v(h->value().data(), h->value().size());
  if (v != "1" && v != "true" && v != "yes") return false;
  if (ex.req.version() != 11) return false;  // comments need a chunked answer
  const auto body = nlohmann::json::parse(ex.req.body(), nullptr, false);
  if (!body.is_object()) return false;
  const auto s = body.find("stream");
  return s != body.end() && s->is_boolean() && s->get<bool>();
}

std::string ProgressStream::Text(const std::optional<WorkerInfo::Progress>& p) {
  if (!p) return "waiting for the model";
  if (p->phase == "waiting_for_room") return fmt::format("loading (waiting for room, {:.1f}s)", p->elapsed_seconds);
  if (p->fraction) return fmt::format("loading {}% ({})", static_cast<int>(std::floor(*p->fraction * 100)), p->phase);
  return fmt::format("loading ({}, {:.1f}s)", p->phase, p->elapsed_seconds);
}

net::awaitable<bool> ProgressStream::comment(const std::string& text) {
  if (client_gone_) co_return false;
  std::string out;
  if (!started_) {
    out = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
          "Transfer-Encoding: chunked\r\nX-Kitty-Served-By: " + model_ + "\r\n";
    if (!ex_.request_id.empty()) out += "X-Request-Id: " + ex_.request_id + "\r\n";
    if (!ex_.keep_alive) out += "Connection: close\r\n";
    out += "\r\n";
    started_ = true;
    ex_.response_started = true;
  }
  out += Chunk(": " + text + "\n\n");
  boost::system::error_code ec;
  co_await net::async_write(ex_.stream.socket(), net::buffer(out), use_ec(ec));
  if (ec) {
    client_gone_ = true;
    ex_.keep_alive = false;
  }
  co_return !ec;
}

std::shared_ptr<BodyRewriter> ProgressStream::relay() const { return std::make_shared<AfterProgress>(); }

net::awaitable<void> EndStreamWithError(Exchange& ex, const Error& e, const nlohmann::json& extra) {
  const std::string out = Chunk(SseErrorEvent(e, extra)) + "0\r\n\r\n";
  boost::system::error_code ec;
  co_await net::async_write(ex.stream.socket(), net::buffer(out), use_ec(ec));
  if (ec) ex.keep_alive = false;
}

net::awaitable<Result<Lease>> AcquireShowingProgress(ControlExecutor control, std::shared_ptr<Worker> w,
                                                     ProgressStream& ps) {
  if (auto lease = w->gate().try_lease()) co_return std::move(*lease);
  auto io = co_await net::this_coro::executor;
  struct Wait {
    explicit Wait(net::any_io_executor e) : timer(e) {}
    std::optional<Result<Lease>> result;
    net::steady_timer timer;
  };
  auto wait = std::make_shared<Wait>(io);
  // The acquire runs on the control loop; its answer comes back to this thread and wakes us.
  auto start = [w, wait, io] {
    w->acquire([wait, io](Result<Lease> r) {
      auto box = std::make_shared<Result<Lease>>(std::move(r));
      net::post(io, [wait, box] {
        wait->result.emplace(std::move(*box));
        wait->timer.cancel();
      });
    });
  };
  net::post(control, start);
  std::string last;
  const auto began = std::chrono::steady_clock::now();
  auto last_sent = began - kCommentAtLeastEvery;
  // A ready worker has no progress, and its lease is already on its way here: a comment then
  // would only say "waiting for the model" about a model that is there.
  auto read = [w] { return std::pair(w->progress(), w->state() == WorkerState::kReady); };
  while (!wait->result) {
    const auto seen = co_await RunOn(control, read);
    const bool ready = seen.second;
    const std::string text = ProgressStream::Text(seen.first);
    const auto now = std::chrono::steady_clock::now();
    if (!ready && (text != last || now - last_sent >= kCommentAtLeastEvery)) {
      const bool sent = co_await ps.comment(text);
      // The client left: the lease, when it comes, goes back unused.
      if (!sent) co_return MakeError("the client went away while the model started", ErrorCode::kUpstreamError);
      last = text;
      last_sent = now;
    }
    if (wait->result) break;
    wait->timer.expires_after(now - began < kPollFirstFor ? kPollFirst : kPollEvery);
    boost::system::error_code ec;
    co_await wait->timer.async_wait(use_ec(ec));
  }
  co_return std::move(*wait->result);
}

}  // namespace kitty::web
