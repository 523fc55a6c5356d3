// kitty_loadgen: a small HTTP/1.1 load generator for bench/run.py.
//
// One thread and one keep-alive connection per client, synchronous Boost.Beast: at one client the
// generator adds only a write and a blocking read to each request, so the difference between two
// runs (worker direct vs through kittyd) is the proxy's cost, not the client's.
//
// Modes:
//   request  each client sends --method (POST with --body, or GET) in a loop and reads the whole
//            response; after --warmup seconds every request's latency (write start → last byte
//            read) is recorded until --duration seconds have passed or --requests have completed.
//   stream   each client POSTs --body (a "stream": true request) and counts SSE events (blocks
//            ended by a blank line) and body bytes as they arrive. With --streams N > 0 each client
//            runs N streams after --warmup-streams; with --streams 0 each client streams back to
//            back for --warmup + --duration seconds and only what arrives inside the measured window
//            counts (a stream still running at the end is cut: the client closes its connection).
//   hold     many connections on one thread (epoll), held open until stdin closes: see
//            loadgen_hold.h (idle keep-alive connections, slow streams, stalled half-requests).
//
// Prints one JSON object on stdout (hold mode: one JSON object per line). Exit code 0 unless the
// arguments were bad or nothing worked. The soft RLIMIT_NOFILE is raised to the hard limit first.
#include <utility>  // Boost 1.74's Asio headers need it first.

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <latch>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "loadgen_common.h"
#include "loadgen_hold.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace kitty::loadgen {
namespace {

void Usage() {
  std::cerr << "usage: kitty_loadgen --url http://HOST:PORT/PATH [--body JSON | --body-file F]\n"
               "  [--mode request|stream|hold] [--method POST|GET] [--concurrency N]\n"
               "  [--duration S] [--warmup S] [--requests N] [--streams N] [--warmup-streams N]\n"
               "  [--bearer TOKEN] [--reconnect 0|1] [--timeout S]\n"
               "  hold mode: [--kind request|stream|half] [--connect-batch N] [--ready-timeout S]\n"
               "             [--hold S] [--tick S]\n";
}

bool ParseUrl(const std::string& url, Args& a) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return false;
  const std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const std::string hostport = rest.substr(0, slash);
  a.target = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = hostport.rfind(':');
  if (colon == std::string::npos) {
    a.host = hostport;
  } else {
    a.host = hostport.substr(0, colon);
    a.port = hostport.substr(colon + 1);
  }
  return !a.host.empty();
}

std::optional<Args> ParseArgs(int argc, char** argv) {
  Args a;
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") return std::nullopt;
    if (i + 1 >= argc) {
      std::cerr << "kitty_loadgen: " << flag << " needs a value\n";
      return std::nullopt;
    }
    const std::string v = argv[++i];
    try {
      if (flag == "--url") {
        if (!ParseUrl(v, a)) {
          std::cerr << "kitty_loadgen: bad --url " << v << "\n";
          return std::nullopt;
        }
        have_url = true;
      } else if (flag == "--body") {
        a.body = v;
      } else if (flag == "--body-file") {
        std::ifstream in(v, std::ios::binary);
        if (!in) {
          std::cerr << "kitty_loadgen: cannot read " << v << "\n";
          return std::nullopt;
        }
        std::ostringstream ss;
        ss << in.rdbuf();
        a.body = ss.str();
      } else if (flag == "--mode") {
        a.mode = v;
      } else if (flag == "--method") {
        a.method = v;
      } else if (flag == "--kind") {
        a.kind = v;
      } else if (flag == "--bearer") {
        a.auth = v;
      } else if (flag == "--concurrency") {
        a.concurrency = std::stoi(v);
      } else if (flag == "--duration") {
        a.duration_s = std::stod(v);
      } else if (flag == "--warmup") {
        a.warmup_s = std::stod(v);
      } else if (flag == "--requests") {
        a.requests = std::stoll(v);
      } else if (flag == "--streams") {
        a.streams = std::stoi(v);
      } else if (flag == "--reconnect") {
        a.reconnect = v == "1" || v == "true";
      } else if (flag == "--timeout") {
        a.timeout_s = std::stoi(v);
      } else if (flag == "--warmup-streams") {
        a.warmup_streams = std::stoi(v);
      } else if (flag == "--connect-batch") {
        a.connect_batch = std::stoi(v);
      } else if (flag == "--ready-timeout") {
        a.ready_timeout_s = std::stod(v);
      } else if (flag == "--hold") {
        a.hold_s = std::stod(v);
      } else if (flag == "--tick") {
        a.tick_s = std::stod(v);
      } else {
        std::cerr << "kitty_loadgen: unknown flag " << flag << "\n";
        return std::nullopt;
      }
    } catch (const std::exception& e) {
      std::cerr << "kitty_loadgen: bad value for " << flag << ": " << v << "\n";
      return std::nullopt;
    }
  }
  if (!have_url || a.concurrency < 1) return std::nullopt;
  if (a.mode != "request" && a.mode != "stream" && a.mode != "hold") return std::nullopt;
  if (a.method != "POST" && a.method != "GET") return std::nullopt;
  if (a.kind != "request" && a.kind != "stream" && a.kind != "half") return std::nullopt;
  return a;
}

// Raises the soft fd limit to the hard one (hold mode opens thousands of sockets); returns the
// soft limit in force afterwards.
uint64_t RaiseFdLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit want = rl;
    want.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
  }
  return rl.rlim_cur;
}

// A window [from, to) of the run in which arriving bytes and events count.
struct Window {
  Clock::time_point from{}, to{};
  bool active = false;  // false: count everything, never cut
};

// One client's connection; reconnects after an error or a Connection: close.
class Conn {
 public:
  Conn(const Args& a, const tcp::resolver::results_type& endpoints) : args_(a), endpoints_(endpoints), socket_(io_) {
    req_.method(a.method == "GET" ? http::verb::get : http::verb::post);
    req_.target(a.target);
    req_.version(11);
    req_.set(http::field::host, a.host + ":" + a.port);
    if (a.method != "GET") req_.set(http::field::content_type, "application/json");
    if (!a.auth.empty()) req_.set(http::field::authorization, "Bearer " + a.auth);
    req_.keep_alive(true);
    if (a.method != "GET") req_.body() = a.body;
    req_.prepare_payload();
  }

  bool EnsureOpen(beast::error_code& ec) {
    if (socket_.is_open()) return true;
    asio::connect(socket_, endpoints_, ec);
    if (ec) return false;
    socket_.set_option(tcp::no_delay(true), ec);
    if (ec) return false;
    const timeval tv{args_.timeout_s, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    buffer_.clear();
    return true;
  }

  void Close() {
    beast::error_code ignored;  // closing a broken socket: nothing left to report
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  /// One request, whole response. Returns the HTTP status, or 0 on a transport error.
  int Request() {
    beast::error_code ec;
    if (!EnsureOpen(ec)) return 0;
    http::write(socket_, req_, ec);
    if (ec) return Fail();
    http::response<http::string_body> res;
    http::read(socket_, buffer_, res, ec);
    if (ec) return Fail();
    if (!res.keep_alive() || args_.reconnect) Close();
    return res.result_int();
  }

  struct StreamResult {
    int status = 0;
    bool cut = false;       // the window ended mid-stream and the client closed the connection
    int64_t events = 0;     // whole stream (or up to the cut)
    int64_t bytes = 0;      // body bytes after de-chunking, whole stream
    int64_t win_events = 0; // those that arrived inside the window
    int64_t win_bytes = 0;
    Clock::time_point first_byte{};
    Clock::time_point end{};
  };

  /// One streamed request: counts SSE events ("\n\n"-terminated blocks) and body bytes.
  StreamResult Stream(const Window& w) {
    StreamResult r;
    beast::error_code ec;
    if (!EnsureOpen(ec)) return r;
    http::write(socket_, req_, ec);
    if (ec) {
      Fail();
      return r;
    }
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    http::read_header(socket_, buffer_, parser, ec);
    if (ec) {
      Fail();
      return r;
    }
    char chunk[16384];
    char prev = 0;
    bool first = true;
    while (!parser.is_done()) {
      parser.get().body().data = chunk;
      parser.get().body().size = sizeof chunk;
      // read_some, not read: read() returns only once the 16 KiB buffer is full, which makes the
      // first byte (and the window's edges) up to a buffer late.
      http::read_some(socket_, buffer_, parser, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        Fail();
        return r;
      }
      const auto now = Clock::now();
      const size_t n = sizeof chunk - parser.get().body().size;
      if (n > 0 && first) {
        r.first_byte = now;
        first = false;
      }
      int64_t ev = 0;
      for (size_t i = 0; i < n; ++i) {
        if (chunk[i] == '\n' && prev == '\n') ++ev;
        prev = chunk[i];
      }
      r.events += ev;
      r.bytes += static_cast<int64_t>(n);
      const bool inside = !w.active || (now >= w.from && now < w.to);
      if (inside) {
        r.win_events += ev;
        r.win_bytes += static_cast<int64_t>(n);
      }
      if (w.active && now >= w.to && !parser.is_done()) {
        r.cut = true;
        r.end = now;
        r.status = parser.get().result_int();
        Close();
        return r;
      }
    }
    r.end = Clock::now();
    r.status = parser.get().result_int();
    if (!parser.get().keep_alive() || args_.reconnect) Close();
    return r;
  }

 private:
  int Fail() {
    Close();
    return 0;
  }

  const Args& args_;
  tcp::resolver::results_type endpoints_;
  asio::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
};

struct ClientStats {
  std::vector<double> latencies_us;
  std::vector<double> ttfb_us;
  std::vector<double> stream_events_per_s;
  std::vector<double> stream_bytes_per_s;
  int64_t events = 0;
  int64_t bytes = 0;
  int64_t bytes_total = 0;  // including warm-up and streams cut at the end
  int64_t cut = 0;
  int64_t errors = 0;
  std::map<int, int64_t> statuses;
};

void MinMax(std::atomic<int64_t>& first, std::atomic<int64_t>& last, Clock::time_point t0, Clock::time_point t1) {
  const int64_t ns0 = t0.time_since_epoch().count(), ns1 = t1.time_since_epoch().count();
  for (int64_t cur = first.load(); ns0 < cur && !first.compare_exchange_weak(cur, ns0);) {
  }
  for (int64_t cur = last.load(); ns1 > cur && !last.compare_exchange_weak(cur, ns1);) {
  }
}

nlohmann::json RunRequests(const Args& a, const tcp::resolver::results_type& eps) {
  std::vector<ClientStats> stats(a.concurrency);
  std::atomic<int64_t> budget{a.requests > 0 ? a.requests : std::numeric_limits<int64_t>::max()};
  const auto start = Clock::now() + std::chrono::milliseconds(50);  // let every thread connect
  const auto measure_from = start + Seconds(a.warmup_s);
  const auto deadline = measure_from + Seconds(a.duration_s);
  std::vector<std::thread> threads;
  std::atomic<int64_t> first_ns{std::numeric_limits<int64_t>::max()}, last_ns{0};
  for (int c = 0; c < a.concurrency; ++c) {
    threads.emplace_back([&, c] {
      ClientStats& s = stats[c];
      s.latencies_us.reserve(1 << 16);
      Conn conn(a, eps);
      beast::error_code ec;
      conn.EnsureOpen(ec);
      std::this_thread::sleep_until(start);
      for (;;) {
        const auto t0 = Clock::now();
        if (t0 >= deadline) break;
        const bool measured = t0 >= measure_from;
        if (measured && budget.fetch_sub(1) <= 0) break;
        const int status = conn.Request();
        const auto t1 = Clock::now();
        if (!measured) continue;
        MinMax(first_ns, last_ns, t0, t1);
        ++s.statuses[status];
        if (status < 200 || status > 299) {
          ++s.errors;
          continue;
        }
        s.latencies_us.push_back(Micros(t1 - t0));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<double> all;
  int64_t errors = 0;
  std::map<int, int64_t> statuses;
  for (auto& s : stats) {
    all.insert(all.end(), s.latencies_us.begin(), s.latencies_us.end());
    errors += s.errors;
    for (auto [k, v] : s.statuses) statuses[k] += v;
  }
  const double wall_s = last_ns > first_ns ? std::chrono::duration<double>(Clock::duration(last_ns - first_ns)).count() : 0;
  nlohmann::json j;
  j["mode"] = "request";
  j["concurrency"] = a.concurrency;
  j["requests"] = all.size();
  j["errors"] = errors;
  j["statuses"] = StatusJson(statuses);
  j["wall_s"] = wall_s;
  j["rps"] = wall_s > 0 ? static_cast<double>(all.size()) / wall_s : 0;
  j["latency_us"] = Summary(std::move(all));
  return j;
}

nlohmann::json RunStreams(const Args& a, const tcp::resolver::results_type& eps) {
  std::vector<ClientStats> stats(a.concurrency);
  std::latch warm_left(a.concurrency);
  std::atomic<int64_t> first_ns{std::numeric_limits<int64_t>::max()}, last_ns{0};
  const bool timed = a.streams <= 0;
  Window win;  // set once every client is connected, before any measured stream starts
  std::once_flag win_once;
  std::vector<std::thread> threads;
  for (int c = 0; c < a.concurrency; ++c) {
    threads.emplace_back([&, c] {
      ClientStats& s = stats[c];
      Conn conn(a, eps);
      for (int i = 0; i < a.warmup_streams; ++i) s.bytes_total += conn.Stream(Window{}).bytes;
      beast::error_code ec;
      conn.EnsureOpen(ec);  // connect before the start line, as the request mode does
      // All clients start their measured streams together.
      warm_left.arrive_and_wait();
      std::call_once(win_once, [&] {
        if (!timed) return;
        win.from = Clock::now() + Seconds(a.warmup_s);
        win.to = win.from + Seconds(a.duration_s);
        win.active = true;
      });
      for (int i = 0; timed ? Clock::now() < win.to : i < a.streams; ++i) {
        const auto t0 = Clock::now();
        const auto r = conn.Stream(win);
        s.bytes_total += r.bytes;
        ++s.statuses[r.status];
        if (r.status != 200) {
          ++s.errors;
          continue;
        }
        if (r.cut) {
          ++s.cut;
          s.events += r.win_events;
          s.bytes += r.win_bytes;
          continue;
        }
        s.events += r.win_events;
        s.bytes += r.win_bytes;
        // Per-stream rates only for streams wholly inside the window (or every stream, untimed).
        if (timed && (t0 < win.from || r.end >= win.to)) continue;
        MinMax(first_ns, last_ns, t0, r.end);
        s.ttfb_us.push_back(Micros(r.first_byte - t0));
        const double secs = std::chrono::duration<double>(r.end - t0).count();
        if (secs > 0) {
          s.stream_events_per_s.push_back(static_cast<double>(r.events) / secs);
          s.stream_bytes_per_s.push_back(static_cast<double>(r.bytes) / secs);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<double> ttfb, rates, brates;
  int64_t events = 0, bytes = 0, bytes_total = 0, errors = 0, ok = 0, cut = 0;
  std::map<int, int64_t> statuses;
  for (auto& s : stats) {
    ttfb.insert(ttfb.end(), s.ttfb_us.begin(), s.ttfb_us.end());
    rates.insert(rates.end(), s.stream_events_per_s.begin(), s.stream_events_per_s.end());
    brates.insert(brates.end(), s.stream_bytes_per_s.begin(), s.stream_bytes_per_s.end());
    events += s.events;
    bytes += s.bytes;
    bytes_total += s.bytes_total;
    errors += s.errors;
    cut += s.cut;
    ok += static_cast<int64_t>(s.ttfb_us.size());
    for (auto [k, v] : s.statuses) statuses[k] += v;
  }
  double wall_s = 0;
  if (timed) {
    wall_s = a.duration_s;
  } else if (last_ns > first_ns) {
    wall_s = std::chrono::duration<double>(Clock::duration(last_ns - first_ns)).count();
  }
  nlohmann::json j;
  j["mode"] = "stream";
  j["timed"] = timed;
  j["concurrency"] = a.concurrency;
  j["streams"] = ok;  // complete streams measured
  j["streams_cut"] = cut;
  j["errors"] = errors;
  j["statuses"] = StatusJson(statuses);
  j["events"] = events;
  j["bytes"] = bytes;
  j["bytes_total"] = bytes_total;
  j["wall_s"] = wall_s;
  j["events_per_s"] = wall_s > 0 ? static_cast<double>(events) / wall_s : 0;
  j["bytes_per_s"] = wall_s > 0 ? static_cast<double>(bytes) / wall_s : 0;
  j["per_stream_events_per_s"] = Summary(std::move(rates));
  j["per_stream_bytes_per_s"] = Summary(std::move(brates));
  j["ttfb_us"] = Summary(std::move(ttfb));
  return j;
}

}  // namespace
}  // namespace kitty::loadgen

int main(int argc, char** argv) {
  using namespace kitty::loadgen;
  const auto args = ParseArgs(argc, argv);
  if (!args) {
    Usage();
    return 2;
  }
  const uint64_t fd_limit = RaiseFdLimit();
  if (args->mode == "hold") return RunHold(*args, fd_limit);
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::error_code ec;
  const auto eps = resolver.resolve(args->host, args->port, ec);
  if (ec) {
    std::cerr << "kitty_loadgen: resolve " << args->host << ": " << ec.message() << "\n";
    return 1;
  }
  nlohmann::json j = args->mode == "stream" ? RunStreams(*args, eps) : RunRequests(*args, eps);
  j["url"] = "http://" + args->host + ":" + args->port + args->target;
  j["fd_limit"] = fd_limit;
  std::cout << j.dump() << "\n";
  const bool any = args->mode == "stream" ? j["streams"].get<int64_t>() + j["streams_cut"].get<int64_t>() > 0
                                          : j["requests"].get<int64_t>() > 0;
  return any ? 0 : 1;
}
