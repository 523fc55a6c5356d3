#include "kitty/http/connections.h"

namespace kitty::web {

size_t Connections::idle_count() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

bool Connections::admit() {
  if (count_.fetch_add(1, std::memory_order_relaxed) < max_) return true;
  // The new connection takes the place of the oldest idle one, whose count drops once it
  // has closed.
  if (shed_oldest_idle()) return true;
  count_.fetch_sub(1, std::memory_order_relaxed);
  return false;
}

bool Connections::shed_oldest_idle() {
  std::shared_ptr<Entry> oldest;
  {
    std::lock_guard lock(mu_);
    if (idle_.empty()) return false;
    oldest = idle_.front();
    idle_.pop_front();
    oldest->idle = false;
  }
  net::post(oldest->executor, oldest->close_idle);
  return true;
}

void Connections::mark_idle(const std::shared_ptr<Entry>& e) {
  std::lock_guard lock(mu_);
  if (e->idle) return;
  e->idle = true;
  e->pos = idle_.insert(idle_.end(), e);
}

void Connections::mark_busy(const std::shared_ptr<Entry>& e) {
  std::lock_guard lock(mu_);
  if (!e->idle) return;
  e->idle = false;
  idle_.erase(e->pos);
}

void Connections::close_all_idle() {
  std::list<std::shared_ptr<Entry>> all;
  {
    std::lock_guard lock(mu_);
    all.swap(idle_);
    for (auto& e : all) e->idle = false;
  }
  for (auto& e : all) net::post(e->executor, e->close_idle);
}

}  // namespace kitty::web
