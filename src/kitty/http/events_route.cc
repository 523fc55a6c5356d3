#include "kitty/http/events_route.h"

#include <spdlog/spdlog.h>

#include "kitty/events/journal.h"
#include "kitty/http/reply.h"

namespace kitty::web {
namespace {

constexpr double kDefaultHeartbeatSeconds = 15;

uint64_t LastEventId(const Exchange& ex, const Target& t) {
  std::string text;
  if (auto h = ex.req.find("Last-Event-ID"); h != ex.req.end()) text = std::string(h->value());
  else if (auto p = t.params.find("last_event_id"); p != t.params.end()) text = p->second;
  return text.empty() ? 0 : std::strtoull(text.c_str(), nullptr, 10);
}

bool Param(const Target& t, const char* key, bool fallback) {
  auto it = t.params.find(key);
  if (it == t.params.end()) return fallback;
  return !(it->second == "false" || it->second == "0" || it->second == "no");
}

}  // namespace

net::awaitable<void> EventsRoute(const RouteContext& ctx, Exchange& ex, const Target& t) {
  if (!ctx.journal) co_return ReplyError(ex, MakeError("this kittyd keeps no event journal", ErrorCode::kUnsupported));
  const bool follow = Param(t, "follow", true);
  double heartbeat = kDefaultHeartbeatSeconds;
  if (auto it = t.params.find("heartbeat"); it != t.params.end()) {
    heartbeat = std::strtod(it->second.c_str(), nullptr);
    if (!(heartbeat >= 0.1 && heartbeat <= 3600))
      co_return ReplyError(ex, MakeError("heartbeat: expected seconds in [0.1, 3600], got '" + it->second + "'",
                                         ErrorCode::kInvalidRequest));
  }
  std::string model;
  if (auto it = t.params.find("model"); it != t.params.end()) {
    auto w = ctx.manager->find(it->second);
    if (!w) co_return ReplyModelNotFound(ex, *ctx.manager, it->second);
    model = w->id();
  }

  auto executor = co_await net::this_coro::executor;
  auto timer = std::make_shared<net::steady_timer>(executor);
  std::weak_ptr<net::steady_timer> weak = timer;
  auto reader = ctx.journal->open(LastEventId(ex, t), model, [executor, weak] {
    net::post(executor, [weak] {
      if (auto tm = weak.lock()) tm->cancel();
    });
  });
  ex.response_started = true;
  ex.keep_alive = false;  // the body ends when the connection does
  tcp::socket& sock = ex.stream.socket();
  // A fixed send buffer: a reader that stops reading holds at most this much in the kernel, then
  // its events pend here until kMaxPending drops it (autotuning would let it grow to megabytes).
  boost::system::error_code opt_ec;
  sock.set_option(net::socket_base::send_buffer_size(64 * 1024), opt_ec);
  std::string out =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n";
  boost::system::error_code ec;
  for (;;) {
    // Read once per round: an overflow during this round's write is told in the next one.
    const bool dropped = reader->overflowed();
    for (const auto& e : reader->take()) out += e->sse;
    if (dropped) {
      out += "event: dropped\ndata: {\"kind\":\"dropped\",\"message\":\"this reader fell " +
             std::to_string(EventJournal::kMaxPending) + " events behind; reconnect with Last-Event-ID\"}\n\n";
    }
    if (!out.empty()) {
      co_await net::async_write(sock, net::buffer(out), use_ec(ec));
      out.clear();
      if (ec) {
        spdlog::info("events: a reader went away ({})", ec.message());
        break;
      }
    }
    if (dropped || !follow) break;
    if (*ctx.shutting_down) break;
    if (reader->ready()) continue;  // events came while we wrote: their wake is spent
    timer->expires_after(std::chrono::milliseconds(static_cast<int64_t>(heartbeat * 1000)));
    boost::system::error_code tec;
    co_await timer->async_wait(use_ec(tec));
    if (!tec) out = ": heartbeat\n\n";  // nothing came for a while: say we are here
  }
  reader->close();
  boost::system::error_code ignored;
  sock.shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace kitty::web
