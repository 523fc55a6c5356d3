// kitty_loadgen: a small HTTP/1.1 load generator for bench/run.py.
//
// One thread and one keep-alive connection per client, synchronous Boost.Beast: at one client the
// generator adds only a write and a blocking read to each request, so the difference between two
// runs (worker direct vs through kittyd) is the proxy's cost, not the client's.
//
// Modes:
//   request  each client POSTs --body in a loop and reads the whole response; after --warmup
//            seconds every request's latency (write start → last byte read) is recorded until
//            --duration seconds have passed or --requests have completed.
//   stream   each client POSTs --body (a "stream": true request) --streams times after --warmup-streams
//            and counts SSE events (blocks ended by a blank line) as they arrive.
//
// Prints one JSON object on stdout. Exit code 0 unless the arguments were bad or nothing worked.
#include <utility>  // Boost 1.74's Asio headers need it first.

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <sys/socket.h>
#include <sys/time.h>
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

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string host = "127.0.0.1";
  std::string port = "80";
  std::string target = "/";
  std::string body;
  std::string mode = "request";
  std::string auth;  // Bearer token, optional
  int concurrency = 1;
  double duration_s = 5;
  double warmup_s = 1;
  int64_t requests = 0;  // 0 = until duration
  int streams = 1;
  int warmup_streams = 0;
  bool reconnect = false;  // a new connection for every request/stream
  int timeout_s = 30;      // per socket read/write; a stalled server shows up as errors, not a hang
};

void Usage() {
  std::cerr << "usage: kitty_loadgen --url http://HOST:PORT/PATH (--body JSON | --body-file F)\n"
               "  [--mode request|stream] [--concurrency N] [--duration S] [--warmup S]\n"
               "  [--requests N] [--streams N] [--warmup-streams N] [--bearer TOKEN]\n"
               "  [--reconnect 0|1] [--timeout S]\n";
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
      } else {
        std::cerr << "kitty_loadgen: unknown flag " << flag << "\n";
        return std::nullopt;
      }
    } catch (const std::exception& e) {
      std::cerr << "kitty_loadgen: bad value for " << flag << ": " << v << "\n";
      return std::nullopt;
    }
  }
  if (!have_url || a.concurrency < 1 || (a.mode != "request" && a.mode != "stream")) return std::nullopt;
  return a;
}

double Percentile(std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] * (1 - frac) + sorted[hi] * frac;
}

nlohmann::json Summary(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  nlohmann::json j;
  j["n"] = v.size();
  if (v.empty()) return j;
  j["min"] = v.front();
  j["mean"] = sum / static_cast<double>(v.size());
  j["p50"] = Percentile(v, 0.50);
  j["p90"] = Percentile(v, 0.90);
  j["p99"] = Percentile(v, 0.99);
  j["p999"] = Percentile(v, 0.999);
  j["max"] = v.back();
  return j;
}

double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// One client's connection; reconnects after an error or a Connection: close.
class Conn {
 public:
  Conn(const Args& a, const tcp::resolver::results_type& endpoints) : args_(a), endpoints_(endpoints), socket_(io_) {
    req_.method(http::verb::post);
    req_.target(a.target);
    req_.version(11);
    req_.set(http::field::host, a.host + ":" + a.port);
    req_.set(http::field::content_type, "application/json");
    if (!a.auth.empty()) req_.set(http::field::authorization, "Bearer " + a.auth);
    req_.keep_alive(true);
    req_.body() = a.body;
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
    int64_t events = 0;
    Clock::time_point first_byte{};
    Clock::time_point end{};
  };

  /// One streamed request: counts SSE events ("\n\n"-terminated blocks) in the body.
  StreamResult Stream() {
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
      http::read(socket_, buffer_, parser, ec);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        Fail();
        return r;
      }
      const size_t n = sizeof chunk - parser.get().body().size;
      if (n > 0 && first) {
        r.first_byte = Clock::now();
        first = false;
      }
      for (size_t i = 0; i < n; ++i) {
        if (chunk[i] == '\n' && prev == '\n') ++r.events;
        prev = chunk[i];
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
  int64_t events = 0;
  int64_t errors = 0;
  std::map<int, int64_t> statuses;
};

nlohmann::json RunRequests(const Args& a, const tcp::resolver::results_type& eps) {
  std::vector<ClientStats> stats(a.concurrency);
  std::atomic<int64_t> budget{a.requests > 0 ? a.requests : std::numeric_limits<int64_t>::max()};
  const auto start = Clock::now() + std::chrono::milliseconds(50);  // let every thread connect
  const auto measure_from = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.warmup_s));
  const auto deadline = measure_from + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.duration_s));
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
        const int64_t ns0 = t0.time_since_epoch().count(), ns1 = t1.time_since_epoch().count();
        for (int64_t cur = first_ns.load(); ns0 < cur && !first_ns.compare_exchange_weak(cur, ns0);) {
        }
        for (int64_t cur = last_ns.load(); ns1 > cur && !last_ns.compare_exchange_weak(cur, ns1);) {
        }
        ++s.statuses[status];
        if (status != 200) {
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
  nlohmann::json st;
  for (auto [k, v] : statuses) st[std::to_string(k)] = v;
  j["statuses"] = st;
  j["wall_s"] = wall_s;
  j["rps"] = wall_s > 0 ? static_cast<double>(all.size()) / wall_s : 0;
  j["latency_us"] = Summary(std::move(all));
  return j;
}

nlohmann::json RunStreams(const Args& a, const tcp::resolver::results_type& eps) {
  std::vector<ClientStats> stats(a.concurrency);
  std::latch warm_left(a.concurrency);
  std::atomic<int64_t> first_ns{std::numeric_limits<int64_t>::max()}, last_ns{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < a.concurrency; ++c) {
    threads.emplace_back([&, c] {
      ClientStats& s = stats[c];
      Conn conn(a, eps);
      for (int i = 0; i < a.warmup_streams; ++i) conn.Stream();
      beast::error_code ec;
      conn.EnsureOpen(ec);  // connect before the start line, as the request mode does
      // All clients start their measured streams together.
      warm_left.arrive_and_wait();
      for (int i = 0; i < a.streams; ++i) {
        const auto t0 = Clock::now();
        const auto r = conn.Stream();
        ++s.statuses[r.status];
        if (r.status != 200) {
          ++s.errors;
          continue;
        }
        const int64_t ns0 = t0.time_since_epoch().count(), ns1 = r.end.time_since_epoch().count();
        for (int64_t cur = first_ns.load(); ns0 < cur && !first_ns.compare_exchange_weak(cur, ns0);) {
        }
        for (int64_t cur = last_ns.load(); ns1 > cur && !last_ns.compare_exchange_weak(cur, ns1);) {
        }
        s.events += r.events;
        s.ttfb_us.push_back(Micros(r.first_byte - t0));
        const double secs = std::chrono::duration<double>(r.end - t0).count();
        if (secs > 0) s.stream_events_per_s.push_back(static_cast<double>(r.events) / secs);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<double> ttfb, rates;
  int64_t events = 0, errors = 0, ok = 0;
  std::map<int, int64_t> statuses;
  for (auto& s : stats) {
    ttfb.insert(ttfb.end(), s.ttfb_us.begin(), s.ttfb_us.end());
    rates.insert(rates.end(), s.stream_events_per_s.begin(), s.stream_events_per_s.end());
    events += s.events;
    errors += s.errors;
    ok += static_cast<int64_t>(s.ttfb_us.size());
    for (auto [k, v] : s.statuses) statuses[k] += v;
  }
  const double wall_s = last_ns > first_ns ? std::chrono::duration<double>(Clock::duration(last_ns - first_ns)).count() : 0;
  nlohmann::json j;
  j["mode"] = "stream";
  j["concurrency"] = a.concurrency;
  j["streams"] = ok;
  j["errors"] = errors;
  nlohmann::json st;
  for (auto [k, v] : statuses) st[std::to_string(k)] = v;
  j["statuses"] = st;
  j["events"] = events;
  j["wall_s"] = wall_s;
  j["events_per_s"] = wall_s > 0 ? static_cast<double>(events) / wall_s : 0;
  j["per_stream_events_per_s"] = Summary(std::move(rates));
  j["ttfb_us"] = Summary(std::move(ttfb));
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = ParseArgs(argc, argv);
  if (!args) {
    Usage();
    return 2;
  }
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
  std::cout << j.dump() << "\n";
  const bool any = args->mode == "stream" ? j["streams"].get<int64_t>() > 0 : j["requests"].get<int64_t>() > 0;
  return any ? 0 : 1;
}
