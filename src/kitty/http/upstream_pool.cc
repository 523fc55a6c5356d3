#include "kitty/http/upstream_pool.h"

#include <algorithm>

namespace kitty::web {
namespace {
constexpr size_t kMaxIdlePerWorker = 64;
constexpr size_t kDeadPidsKept = 64;
}  // namespace

struct UpstreamPool::Idle {
  explicit Idle(std::unique_ptr<tcp::socket> s) : socket(std::move(s)) {}
  std::unique_ptr<tcp::socket> socket;
  bool taken = false;
};

UpstreamPool& UpstreamPool::Of(const net::any_io_executor& ex) {
  return net::use_service<UpstreamPool>(net::query(ex, net::execution::context));
}

std::unique_ptr<tcp::socket> UpstreamPool::take(const Endpoint& ep) {
  auto it = idle_.find(Key{ep.host, ep.port, ep.pid});
  if (it == idle_.end() || it->second.empty()) return nullptr;
  std::shared_ptr<Idle> entry = std::move(it->second.back());
  it->second.pop_back();
  --idle_count_;
  entry->taken = true;
  boost::system::error_code ec;
  entry->socket->cancel(ec);  // ends the watch; its handler sees `taken`
  return std::move(entry->socket);
}

void UpstreamPool::put(const Endpoint& ep, std::unique_ptr<tcp::socket> s) {
  if (std::find(dead_pids_.begin(), dead_pids_.end(), ep.pid) != dead_pids_.end()) return;
  const Key key{ep.host, ep.port, ep.pid};
  auto& list = idle_[key];
  if (list.size() >= kMaxIdlePerWorker) return;  // closed by the destructor
  auto entry = std::make_shared<Idle>(std::move(s));
  list.push_back(entry);
  ++idle_count_;
  // The worker sends nothing on an idle connection: the socket turning readable means it
  // closed it (EOF), died (RST) or misbehaved. Either way the connection is done.
  entry->socket->async_wait(tcp::socket::wait_read,
                            [this, key, entry](const boost::system::error_code&) {
                              if (entry->taken) return;
                              drop(key, entry);
                            });
}

void UpstreamPool::drop(const Key& key, const std::shared_ptr<Idle>& entry) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return;
  auto& list = it->second;
  auto pos = std::find(list.begin(), list.end(), entry);
  if (pos == list.end()) return;
  list.erase(pos);
  --idle_count_;
  entry->taken = true;
  boost::system::error_code ec;
  entry->socket->close(ec);
  if (list.empty()) idle_.erase(it);
}

void UpstreamPool::forget_pid(int pid) {
  dead_pids_.push_back(pid);
  if (dead_pids_.size() > kDeadPidsKept) dead_pids_.pop_front();
  for (auto it = idle_.begin(); it != idle_.end();) {
    if (std::get<2>(it->first) != pid) {
      ++it;
      continue;
    }
    for (auto& entry : it->second) {
      entry->taken = true;
      boost::system::error_code ec;
      entry->socket->close(ec);
      --idle_count_;
    }
    it = idle_.erase(it);
  }
}

void UpstreamPool::shutdown() {
  for (auto& [key, list] : idle_)
    for (auto& entry : list) {
      entry->taken = true;
      boost::system::error_code ec;
      entry->socket->close(ec);
    }
  idle_.clear();
  idle_count_ = 0;
}

}  // namespace kitty::web
