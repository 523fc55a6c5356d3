#include "kitty/events/bus.h"

#include <vector>

namespace kitty {

const char* EventKindName(EventKind k) {
  switch (k) {
    case EventKind::kSpawned: return "spawned";
    case EventKind::kReady: return "ready";
    case EventKind::kStopping: return "stopping";
    case EventKind::kGone: return "stopped";
    case EventKind::kStarting: return "starting";
    case EventKind::kFailed: return "failed";
    case EventKind::kExited: return "exited";
    case EventKind::kEvicted: return "evicted";
    case EventKind::kRestartScheduled: return "restart_scheduled";
    case EventKind::kHoldTaken: return "hold_taken";
    case EventKind::kHoldEnded: return "hold_ended";
    case EventKind::kPressure: return "pressure";
    case EventKind::kConfigReloaded: return "config_reloaded";
    case EventKind::kLoading: return "loading";
  }
  return "unknown";
}

EventBus::Subscription::~Subscription() {
  if (auto h = handlers_.lock()) h->erase(id_);
}

EventBus::Subscription EventBus::subscribe(Handler h) {
  Subscription s;
  s.id_ = next_id_++;
  (*handlers_)[s.id_] = std::move(h);
  s.handlers_ = handlers_;
  return s;
}

void EventBus::publish(const WorkerEvent& e) const {
  // A copy: a handler may subscribe or unsubscribe while we iterate.
  std::vector<Handler> hs;
  for (const auto& [id, h] : *handlers_) hs.push_back(h);
  for (const auto& h : hs) h(e);
}

}  // namespace kitty
