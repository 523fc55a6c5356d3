#include "kitty/events/journal.h"

#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

namespace kitty {
namespace {

std::string Iso(WallTime t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[40];
  const size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

std::vector<EventJournal::EntryPtr> EventJournal::Reader::take() {
  std::lock_guard lock(mu_);
  std::vector<EntryPtr> out(pending_.begin(), pending_.end());
  pending_.clear();
  return out;
}

bool EventJournal::Reader::overflowed() const {
  std::lock_guard lock(mu_);
  return overflowed_;
}

bool EventJournal::Reader::ready() const {
  std::lock_guard lock(mu_);
  return overflowed_ || !pending_.empty();
}

void EventJournal::Reader::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  pending_.clear();
}

bool EventJournal::Reader::push(const EntryPtr& e) {
  std::lock_guard lock(mu_);
  if (closed_ || overflowed_) return false;
  if (pending_.size() >= kMaxPending) {
    overflowed_ = true;
    pending_.clear();  // the reader is told it was dropped; what it missed is not kept for it
    return true;       // wake it once more, to say so
  }
  pending_.push_back(e);
  return true;
}

EventJournal::EventJournal(EventBus& bus, Clock& clock, size_t keep) : clock_(clock), keep_(keep) {
  sub_ = bus.subscribe([this](const WorkerEvent& e) { on_event(e); });
}

std::string EventJournal::Format(uint64_t id, const WorkerEvent& e, WallTime at) {
  nlohmann::json j = {{"id", id}, {"time", Iso(at)}, {"kind", EventKindName(e.kind)}};
  j["model"] = e.model_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(e.model_id);
  if (e.pid) j["pid"] = e.pid;
  if (e.rung) j["rung"] = e.rung;
  if (!e.reason.empty()) j["reason"] = e.reason;
  if (!e.message.empty()) j["message"] = e.message;
  if (e.fraction) j["fraction"] = std::round(*e.fraction * 1000) / 1000;
  return "id: " + std::to_string(id) + "\nevent: " + EventKindName(e.kind) + "\ndata: " +
         j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
}

void EventJournal::on_event(const WorkerEvent& e) {
  std::vector<std::function<void()>> wake;
  {
    std::lock_guard lock(mu_);
    const uint64_t id = next_id_++;
    auto entry = std::make_shared<Entry>(Entry{id, e.model_id, Format(id, e, clock_.wall_now())});
    ring_.push_back(entry);
    while (ring_.size() > keep_) ring_.pop_front();
    for (auto it = readers_.begin(); it != readers_.end();) {
      auto r = it->lock();
      if (!r) {
        it = readers_.erase(it);
        continue;
      }
      if ((r->model_.empty() || r->model_ == e.model_id) && r->push(entry)) wake.push_back(r->wake_);
      ++it;
    }
  }
  for (auto& w : wake)
    if (w) w();
}

std::shared_ptr<EventJournal::Reader> EventJournal::open(uint64_t after, std::string model, std::function<void()> wake) {
  auto r = std::make_shared<Reader>();
  r->model_ = std::move(model);
  r->wake_ = std::move(wake);
  std::lock_guard lock(mu_);
  for (const auto& e : ring_)
    if (e->id > after && (r->model_.empty() || r->model_ == e->model)) r->pending_.push_back(e);
  readers_.push_back(r);
  return r;
}

}  // namespace kitty
