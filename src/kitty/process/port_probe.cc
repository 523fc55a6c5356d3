#include "kitty/process/port_probe.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#ifndef SOCK_CLOEXEC  // macOS: spawned workers close inherited fds anyway
#define SOCK_CLOEXEC 0
#endif

namespace kitty {

namespace {

struct AddrInfo {
  addrinfo* ai = nullptr;
  ~AddrInfo() {
    if (ai) freeaddrinfo(ai);
  }
};

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Whether a listener that sets SO_REUSEADDR, as every HTTP server (and every engine we run)
// does, could bind here. It tells TIME_WAIT leftovers (fine) from a live connection bound to the
// port (not fine: the worker's bind would fail, issue 8), which a plain bind cannot.
bool ReuseBindWorks(const addrinfo& ai) {
  Socket s(socket(ai.ai_family, ai.ai_socktype | SOCK_CLOEXEC, ai.ai_protocol));
  if (s.fd() < 0) return false;
  int one = 1;
  if (setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return false;
  return bind(s.fd(), ai.ai_addr, ai.ai_addrlen) == 0;
}

// After EADDRINUSE from a plain bind: is anything actually accepting there? (On BSD and macOS
// SO_REUSEADDR lets a specific address bind beside a wildcard listener, so the reuse bind
// above is not enough there.)
bool SomeoneListens(const addrinfo& ai) {
  sockaddr_storage addr;
  memcpy(&addr, ai.ai_addr, ai.ai_addrlen);
  // A wildcard address cannot be connected to; its loopback twin reaches the same listener.
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    if (in->sin_addr.s_addr == htonl(INADDR_ANY)) in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) in6->sin6_addr = in6addr_loopback;
  }
  Socket s(socket(ai.ai_family, ai.ai_socktype | SOCK_CLOEXEC, ai.ai_protocol));
  if (s.fd() < 0) return true;  // cannot tell: stay on the safe side
  // Non-blocking with a short bound: a listener whose accept queue is full drops our SYN,
  // and a blocking connect would then hang for minutes.
  int flags = fcntl(s.fd(), F_GETFL);
  if (flags < 0 || fcntl(s.fd(), F_SETFL, flags | O_NONBLOCK) != 0) return true;
  if (connect(s.fd(), reinterpret_cast<sockaddr*>(&addr), ai.ai_addrlen) == 0) return true;
  if (errno == ECONNREFUSED) return false;
  if (errno != EINPROGRESS && errno != EINTR) return true;
  pollfd p{s.fd(), POLLOUT, 0};
  int rc;
  do rc = poll(&p, 1, 250);
  while (rc < 0 && errno == EINTR);
  if (rc <= 0) return true;  // no answer in time: something holds the port
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) return true;
  return err != ECONNREFUSED;
}

}  // namespace

Status CheckPortFree(const std::string& host, int port) {
  if (port < 1 || port > 65535)
    return MakeError("port " + std::to_string(port) + " is out of range 1-65535");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  AddrInfo res;
  std::string service = std::to_string(port);
  int gai = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res.ai);
  if (gai != 0) return MakeError("cannot resolve host '" + host + "': " + gai_strerror(gai));
  for (addrinfo* ai = res.ai; ai; ai = ai->ai_next) {
    Socket s(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (s.fd() < 0) return MakeError(std::string("cannot create a socket: ") + strerror(errno));
    // No SO_REUSEADDR: with it, some systems let us bind beside a wildcard listener.
    if (bind(s.fd(), ai->ai_addr, ai->ai_addrlen) == 0) continue;
    int err = errno;
    if (err == EADDRINUSE) {
      if (ReuseBindWorks(*ai) && !SomeoneListens(*ai)) continue;
      return MakeError("port " + service + " on " + host + " is already in use by another process",
                       ErrorCode::kPortInUse);
    }
    return MakeError("cannot bind port " + service + " on " + host + ": " + strerror(err));
  }
  return Status::Ok();
}

Result<int> PickFreePort(const std::string& host, PortRange range, const std::set<int>& exclude) {
  if (range.first < 1 || range.last > 65535 || range.first > range.last)
    return MakeError("invalid port range " + std::to_string(range.first) + "-" +
                     std::to_string(range.last));
  const int size = range.last - range.first + 1;
  // Process-wide cursor (loop thread only), starting at a random offset so two daemons on
  // one machine do not race for the same first port.
  static unsigned cursor = std::random_device{}();
  int start = static_cast<int>(cursor % static_cast<unsigned>(size));
  for (int i = 0; i < size; ++i) {
    int port = range.first + (start + i) % size;
    if (exclude.count(port)) continue;
    Status st = CheckPortFree(host, port);
    if (st.ok()) {
      cursor = static_cast<unsigned>(port - range.first + 1);
      return port;
    }
    if (st.error().code != ErrorCode::kPortInUse) return st.error();  // e.g. host cannot be bound
  }
  return MakeError("no free port in " + std::to_string(range.first) + "-" +
                       std::to_string(range.last) + " on " + host,
                   ErrorCode::kNoFreePort);
}

}  // namespace kitty
