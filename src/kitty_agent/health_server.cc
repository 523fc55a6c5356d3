#include "kitty_agent/health_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kitty::agent {
namespace {

// Linux sets close-on-exec atomically (SOCK_CLOEXEC, accept4); macOS has neither, and the agent
// starts no process while it listens, so setting it right after is as good there.
void CloseOnExec(int fd) {
  if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
}

}  // namespace

Status HealthServer::Start(const std::string& host, int port) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return MakeError(std::string("socket: ") + strerror(errno));
  CloseOnExec(fd_);
  int one = 1;
  setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1)
    return MakeError("cannot listen on " + host + ": not an IPv4 address");
  if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd_, 16) != 0)
    return MakeError("cannot listen on " + host + ":" + std::to_string(port) + ": " + strerror(errno));
  thread_ = std::thread([this] { Serve(); });
  thread_.detach();  // lives as long as the process; exit() ends it
  return {};
}

void HealthServer::Set(int status, std::string json) {
  std::lock_guard lock(mu_);
  status_ = status;
  body_ = std::move(json);
}

void HealthServer::Serve() {
  for (;;) {
    int c = accept(fd_, nullptr, nullptr);
    CloseOnExec(c);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      usleep(10000);
      continue;
    }
    // Read the request head (kittyd's probes are small GETs); the path is not looked at: every
    // path answers the health, so a mistaken health_path still works.
    timeval tv{2, 0};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string head;
    char buf[2048];
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 16384) {
      ssize_t n = read(c, buf, sizeof buf);
      if (n <= 0) break;
      head.append(buf, static_cast<size_t>(n));
    }
    int status;
    std::string body;
    {
      std::lock_guard lock(mu_);
      status = status_;
      body = body_;
    }
    std::string out = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Service Unavailable") +
                      "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n\r\n" + body;
    const char* p = out.data();
    size_t left = out.size();
    while (left > 0) {
      ssize_t n = send(c, p, left, MSG_NOSIGNAL);
      if (n <= 0) break;
      p += n;
      left -= static_cast<size_t>(n);
    }
    close(c);
  }
}

}  // namespace kitty::agent
