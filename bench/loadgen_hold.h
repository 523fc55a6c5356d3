// kitty_loadgen --mode hold: thousands of connections on one thread (epoll), held until stdin closes.
//
// Kinds (--kind):
//   request  each connection sends the request once, reads the whole response (Content-Length or
//            chunked) and then stays open and idle: an idle keep-alive client.
//   stream   each connection sends a streamed request and reads (and discards) the body for as long
//            as it flows: a slow stream held open.
//   half     each connection sends the first half of the request header and then nothing: a stalled
//            (or hostile) client. Whatever the server answers later (e.g. 408) is recorded.
//
// Protocol with bench/run.py, one JSON object per line on stdout:
//   {"event":"tick", ...}   every --tick seconds (open connections, closed by the server, bytes)
//   {"event":"ready", ...}  once every connection is set up (or failed), or after --ready-timeout
//   {"event":"done", ...}   after stdin reaches EOF (or --hold seconds after ready); then exit.
// "Set up" means: request → response read; stream → response header read; half → half sent.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "loadgen_common.h"

namespace kitty::loadgen {

class Holder {
 public:
  Holder(const Args& a, uint64_t fd_limit) : a_(a), fd_limit_(fd_limit), conns_(a.concurrency) {
    std::string head = (a.method == "GET" ? "GET " : "POST ") + a.target + " HTTP/1.1\r\nHost: " +
                       a.host + ":" + a.port + "\r\n";
    if (!a.auth.empty()) head += "Authorization: Bearer " + a.auth + "\r\n";
    if (a.method != "GET")
      head += "Content-Type: application/json\r\nContent-Length: " + std::to_string(a.body.size()) + "\r\n";
    if (a.kind == "half") {
      request_ = head.substr(0, head.size() / 2);  // mid-header, no blank line: never complete
    } else {
      request_ = head + "\r\n" + (a.method == "GET" ? "" : a.body);
    }
  }

  int Run() {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(a_.host.c_str(), a_.port.c_str(), &hints, &res) != 0 || !res) {
      std::cerr << "kitty_loadgen: cannot resolve " << a_.host << "\n";
      return 1;
    }
    std::memcpy(&addr_, res->ai_addr, sizeof addr_);
    freeaddrinfo(res);
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) return Die("epoll_create1");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kStdin;
    stdin_watched_ = epoll_ctl(ep_, EPOLL_CTL_ADD, 0, &ev) == 0;  // fails for a regular file: rely on --hold

    start_ = Clock::now();
    auto next_tick = start_ + Seconds(a_.tick_s);
    const auto ready_deadline = start_ + Seconds(a_.ready_timeout_s);
    Clock::time_point hold_deadline = Clock::time_point::max();
    std::vector<epoll_event> events(1024);
    while (!stop_) {
      Launch();
      const auto now = Clock::now();
      if (!ready_ && ((launched_ == conns_.size() && in_setup_ == 0) || now >= ready_deadline)) {
        ready_ = true;
        ready_at_ = now;
        hold_deadline = now + Seconds(a_.hold_s);
        Print(Report("ready"));
      }
      if (now >= next_tick) {
        Print(Report("tick"));
        next_tick += Seconds(a_.tick_s);
      }
      if (ready_ && now >= hold_deadline) break;
      const int n = epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 50);
      if (n < 0 && errno != EINTR) return Die("epoll_wait");
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == kStdin) {
          OnStdin();
          continue;
        }
        OnEvent(events[i].data.u64, events[i].events);
      }
    }
    nlohmann::json done = Report("done");
    done["held_s"] = ready_ ? std::chrono::duration<double>(Clock::now() - ready_at_).count() : 0.0;
    std::vector<double> closed_after;
    for (const auto& c : conns_)
      if (c.closed_by_peer) closed_after.push_back(std::chrono::duration<double>(c.closed_at - c.opened).count());
    done["closed_after_open_s"] = Summary(std::move(closed_after));
    Print(done);
    for (auto& c : conns_)
      if (c.fd >= 0) ::close(c.fd);
    return 0;
  }

 private:
  static constexpr uint64_t kStdin = ~uint64_t{0};
  enum class St { kNew, kConnecting, kSending, kReading, kIdle, kStreaming, kClosed };

  struct Conn {
    int fd = -1;
    St st = St::kNew;
    size_t sent = 0;
    std::string in;  // response bytes until the response (request kind) or its header (stream) is read
    bool set_up = false;
    bool closed_by_peer = false;
    Clock::time_point opened{}, closed_at{};
  };

  int Die(const char* what) {
    std::cerr << "kitty_loadgen: " << what << ": " << std::strerror(errno) << "\n";
    return 1;
  }

  static void Print(const nlohmann::json& j) { std::cout << j.dump() << std::endl; }

  nlohmann::json Report(const char* event) {
    size_t open = 0;
    for (const auto& c : conns_)
      if (c.fd >= 0) ++open;
    nlohmann::json j;
    j["event"] = event;
    j["t"] = std::chrono::duration<double>(Clock::now() - start_).count();
    j["kind"] = a_.kind;
    j["target"] = conns_.size();
    j["launched"] = launched_;
    j["set_up_ok"] = ok_;
    j["failed"] = failed_;
    j["pending"] = conns_.size() - ok_ - failed_;
    j["open"] = open;
    j["closed_by_peer"] = closed_by_peer_;
    j["closed_by_peer_after_setup"] = closed_after_setup_;
    j["statuses"] = StatusJson(statuses_);
    j["late_statuses"] = StatusJson(late_statuses_);  // answers that came while idle (e.g. 408)
    nlohmann::json errs = nlohmann::json::object();
    for (const auto& [k, v] : errors_) errs[k] = v;
    j["errors"] = errs;
    j["stream_bytes"] = stream_bytes_;
    j["fd_limit"] = fd_limit_;
    return j;
  }

  void Launch() {
    while (launched_ < conns_.size() && in_setup_ < static_cast<size_t>(a_.connect_batch)) {
      Conn& c = conns_[launched_];
      const uint64_t id = launched_++;
      ++in_setup_;
      c.opened = Clock::now();
      c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (c.fd < 0) {
        SetupFailed(c, std::string("socket: ") + std::strerror(errno));
        continue;
      }
      int one = 1;
      ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      epoll_event ev{};
      ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
      ev.data.u64 = id;
      if (epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
        SetupFailed(c, std::string("epoll_ctl: ") + std::strerror(errno));
        continue;
      }
      if (::connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_) != 0 && errno != EINPROGRESS) {
        SetupFailed(c, std::string("connect: ") + std::strerror(errno));
        continue;
      }
      c.st = St::kConnecting;
    }
  }

  void CloseConn(Conn& c) {
    if (c.fd >= 0) {
      epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
      ::close(c.fd);
      c.fd = -1;
    }
    c.st = St::kClosed;
  }

  void SetupFailed(Conn& c, const std::string& why) {
    ++errors_[why];
    ++failed_;
    --in_setup_;
    c.set_up = true;
    CloseConn(c);
  }

  void SetupDone(Conn& c, bool ok) {
    c.set_up = true;
    --in_setup_;
    if (ok) ++ok_;
    else ++failed_;
  }

  void PeerClosed(Conn& c) {
    c.closed_by_peer = true;
    c.closed_at = Clock::now();
    ++closed_by_peer_;
    if (c.set_up) ++closed_after_setup_;
    CloseConn(c);
  }

  void Want(Conn& c, uint64_t id, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void OnStdin() {
    char buf[256];
    const ssize_t n = ::read(0, buf, sizeof buf);
    if (n <= 0) stop_ = true;  // EOF (or error): the runner is done with us
  }

  void OnEvent(uint64_t id, uint32_t events) {
    Conn& c = conns_[id];
    if (c.fd < 0) return;
    if (c.st == St::kConnecting) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        SetupFailed(c, std::string("connect: ") + std::strerror(err));
        return;
      }
      c.st = St::kSending;
    }
    if (c.st == St::kSending) {
      while (c.sent < request_.size()) {
        const ssize_t n = ::send(c.fd, request_.data() + c.sent, request_.size() - c.sent, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK) return;
          SetupFailed(c, std::string("send: ") + std::strerror(errno));
          return;
        }
        c.sent += static_cast<size_t>(n);
      }
      if (a_.kind == "half") {
        c.st = St::kIdle;
        SetupDone(c, true);
      } else {
        c.st = St::kReading;
      }
      Want(c, id, EPOLLIN | EPOLLRDHUP);
      return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) Read(c);
  }

  void Read(Conn& c) {
    char buf[16384];
    for (;;) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (!c.set_up) {
          SetupFailed(c, std::string("recv: ") + std::strerror(errno));
          return;
        }
        PeerClosed(c);
        return;
      }
      if (n == 0) {
        if (!c.set_up) {
          // Whatever arrived before the close may still say why (e.g. a 503 with Connection: close).
          if (int s = StatusOf(c.in); s > 0) ++statuses_[s];
          SetupFailed(c, c.in.empty() ? "closed before any response" : "closed mid-response");
          return;
        }
        PeerClosed(c);
        return;
      }
      if (c.st == St::kStreaming) {
        stream_bytes_ += n;
        continue;
      }
      if (c.st == St::kIdle) {
        // Bytes on an idle connection: a late answer (a half request's 408/400) or a surprise.
        if (c.in.empty())
          if (int s = StatusOf(std::string_view(buf, static_cast<size_t>(n))); s > 0) ++late_statuses_[s];
        c.in.assign("x");  // count one late answer per connection
        continue;
      }
      c.in.append(buf, static_cast<size_t>(n));
      const size_t hdr_end = c.in.find("\r\n\r\n");
      if (hdr_end == std::string::npos) continue;
      const int status = StatusOf(c.in);
      if (a_.kind == "stream") {
        ++statuses_[status];
        stream_bytes_ += static_cast<int64_t>(c.in.size() - hdr_end - 4);
        c.in.clear();
        c.st = St::kStreaming;
        SetupDone(c, status == 200);
        continue;
      }
      if (!ResponseComplete(c.in, hdr_end)) continue;
      ++statuses_[status];
      c.in.clear();
      c.st = St::kIdle;
      SetupDone(c, status >= 200 && status < 300);
    }
  }

  static int StatusOf(std::string_view s) {
    // "HTTP/1.1 200 OK"
    if (s.size() < 12 || s.substr(0, 5) != "HTTP/") return 0;
    const size_t sp = s.find(' ');
    if (sp == std::string_view::npos || sp + 4 > s.size()) return 0;
    int v = 0;
    for (size_t i = sp + 1; i < sp + 4; ++i) {
      if (s[i] < '0' || s[i] > '9') return 0;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  }

  static std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
  }

  // Enough HTTP/1.1 framing for a small response: Content-Length, or chunked up to "0\r\n\r\n".
  static bool ResponseComplete(const std::string& in, size_t hdr_end) {
    const std::string head = Lower(std::string_view(in).substr(0, hdr_end + 2));
    const size_t body = hdr_end + 4;
    if (const size_t p = head.find("\r\ncontent-length:"); p != std::string::npos) {
      const size_t len = std::stoul(head.substr(p + 17));
      return in.size() >= body + len;
    }
    if (head.find("chunked") != std::string::npos)
      return in.size() >= body + 5 && in.compare(in.size() - 5, 5, "0\r\n\r\n") == 0;
    return false;  // close-delimited: complete only at EOF, which Read() treats as a failure
  }

  const Args& a_;
  const uint64_t fd_limit_;
  std::vector<Conn> conns_;
  std::string request_;
  sockaddr_in addr_{};
  int ep_ = -1;
  bool stdin_watched_ = false;
  bool stop_ = false;
  bool ready_ = false;
  Clock::time_point start_{}, ready_at_{};
  size_t launched_ = 0, in_setup_ = 0, ok_ = 0, failed_ = 0;
  size_t closed_by_peer_ = 0, closed_after_setup_ = 0;
  int64_t stream_bytes_ = 0;
  std::map<int, int64_t> statuses_, late_statuses_;
  std::map<std::string, int64_t> errors_;
};

inline int RunHold(const Args& a, uint64_t fd_limit) { return Holder(a, fd_limit).Run(); }

}  // namespace kitty::loadgen
