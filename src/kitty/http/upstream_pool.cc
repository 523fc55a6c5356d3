#include "kitty/http/upstream_pool.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "kitty/http/sweeper.h"

namespace kitty::web {
namespace {
constexpr size_t kMaxIdlePerWorker = 64;
constexpr size_t kDeadPidsKept = 64;
constexpr int kSweepEveryTicks = 10;  // of Sweeper::kTick: once a second

// The worker sends nothing on an idle connection: readable means closed (EOF), reset, or a
// misbehaving worker. Either way the connection is done. One non-blocking peek, no read.
bool StillOpen(tcp::socket& s) {
  char c;
  const ssize_t n = ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void Close(tcp::socket& s) {
  boost::system::error_code ec;
  s.close(ec);
}

}  // namespace

UpstreamPool::UpstreamPool(net::execution_context& ctx) : net::execution_context::service(ctx) {
  Sweeper& sweeper = net::use_service<Sweeper>(ctx);
  sweeper.every_tick([this](Clock::time_point now) {
    if (idle_count_ == 0) return false;
    if (++ticks_ % kSweepEveryTicks == 0) sweep(now);
    return idle_count_ > 0;
  });
}

UpstreamPool& UpstreamPool::Of(const net::any_io_executor& ex) {
  return net::use_service<UpstreamPool>(net::query(ex, net::execution::context));
}

std::unique_ptr<tcp::socket> UpstreamPool::take(const Endpoint& ep) {
  auto it = idle_.find(Key{ep.host, ep.port, ep.pid});
  if (it == idle_.end() || it->second.empty()) return nullptr;
  auto s = std::move(it->second.back().socket);
  it->second.pop_back();
  --idle_count_;
  return s;
}

void UpstreamPool::put(const Endpoint& ep, std::unique_ptr<tcp::socket> s) {
  if (std::find(dead_pids_.begin(), dead_pids_.end(), ep.pid) != dead_pids_.end()) return;
  auto& list = idle_[Key{ep.host, ep.port, ep.pid}];
  if (list.size() >= kMaxIdlePerWorker) return;  // closed by the destructor
  list.push_back({std::move(s), Clock::now()});
  if (++idle_count_ == 1) net::use_service<Sweeper>(context()).wake();
}

bool UpstreamPool::sweep(Clock::time_point now) {
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& list = it->second;
    for (auto c = list.begin(); c != list.end();) {
      if (now - c->since > kMaxIdleTime || !StillOpen(*c->socket)) {
        Close(*c->socket);
        c = list.erase(c);
        --idle_count_;
      } else {
        ++c;
      }
    }
    it = list.empty() ? idle_.erase(it) : std::next(it);
  }
  return idle_count_ > 0;
}

void UpstreamPool::forget_pid(int pid) {
  dead_pids_.push_back(pid);
  if (dead_pids_.size() > kDeadPidsKept) dead_pids_.pop_front();
  for (auto it = idle_.begin(); it != idle_.end();) {
    if (std::get<2>(it->first) != pid) {
      ++it;
      continue;
    }
    for (auto& c : it->second) Close(*c.socket);
    idle_count_ -= it->second.size();
    it = idle_.erase(it);
  }
}

void UpstreamPool::shutdown() {
  for (auto& [key, list] : idle_)
    for (auto& c : list) Close(*c.socket);
  idle_.clear();
  idle_count_ = 0;
}

}  // namespace kitty::web
