#include "kitty/sched/plan.h"

#include <algorithm>

#include "kitty/base/bytes.h"

namespace kitty::sched {

const char* EvictionClassName(EvictionClass c) {
  switch (c) {
    case EvictionClass::kActive: return "active";
    case EvictionClass::kWarm: return "warm";
    case EvictionClass::kIdle: return "idle";
    case EvictionClass::kEvictable: return "evictable";
  }
  return "unknown";
}

EvictionClass ClassOf(const ClassInputs& in) {
  if (in.pinned || in.busy) return EvictionClass::kActive;
  if (in.idle_seconds < in.idle_period_seconds / 2) return EvictionClass::kWarm;
  if (in.idle_seconds < in.idle_period_seconds || in.pressure_evict_only) return EvictionClass::kIdle;
  return EvictionClass::kEvictable;
}

std::vector<const Holder*> EvictionOrder(const std::vector<Holder>& holders) {
  std::vector<const Holder*> out;
  for (const auto& h : holders)
    if (!h.pinned && !h.stopping && h.cls != EvictionClass::kActive) out.push_back(&h);
  std::sort(out.begin(), out.end(), [](const Holder* a, const Holder* b) {
    if (a->cls != b->cls) return a->cls > b->cls;  // EVICTABLE first
    if (a->priority != b->priority) return a->priority < b->priority;
    if (a->last_used != b->last_used) return a->last_used < b->last_used;
    return a->id < b->id;  // a stable answer for equal candidates
  });
  return out;
}

namespace {

std::string Names(const std::vector<const Holder*>& hs) {
  std::string out;
  for (const Holder* h : hs) out += (out.empty() ? "" : ", ") + h->id + " (" + FormatBytes(h->bytes) + ")";
  return out;
}

}  // namespace

StartPlan PlanStart(std::optional<uint64_t> need, const std::vector<Holder>& holders, const Room& room) {
  StartPlan plan;
  plan.need_bytes = need.value_or(0);
  plan.free_bytes = room.free_bytes;
  const int64_t want = static_cast<int64_t>(plan.need_bytes);
  // An unknown footprint cannot be planned for: only the model count applies to it.
  const auto fits = [&](int64_t free, int running) {
    return (!need || free >= want) && (room.max_models == 0 || running + 1 <= room.max_models);
  };
  if (fits(room.free_bytes, room.running)) return plan;

  // What is already on its way out comes back by itself: never stop more than needed.
  int64_t incoming = 0;
  std::vector<const Holder*> stopping, busy;
  for (const auto& h : holders) {
    if (h.stopping) {
      incoming += static_cast<int64_t>(h.bytes);
      stopping.push_back(&h);
    } else if (h.cls == EvictionClass::kActive && !h.pinned) {
      busy.push_back(&h);
    }
  }

  int64_t free = room.free_bytes + incoming;
  int running = room.running;
  if (!fits(free, running)) {
    for (const Holder* h : EvictionOrder(holders)) {
      plan.evict.push_back(h->id);
      free += static_cast<int64_t>(h->bytes);
      --running;
      if (fits(free, running)) break;
    }
  }
  if (fits(free, running)) {
    if (!plan.evict.empty()) {
      plan.kind = StartPlan::Kind::kEvict;
    } else {
      plan.kind = StartPlan::Kind::kWait;  // only what is stopping stands between
      plan.why = "waiting for " + Names(stopping) + " to stop";
    }
    return plan;
  }

  // Evicting everything evictable is not enough: busy models might free the rest later.
  int64_t busy_bytes = 0;
  for (const Holder* h : busy) busy_bytes += static_cast<int64_t>(h->bytes);
  // Which limit stands in the way: memory, or (with the memory there) the model count.
  const std::string count = "memory.max_models (" + std::to_string(room.max_models) + ") are running";
  if (fits(free + busy_bytes, running - static_cast<int>(busy.size()))) {
    plan.kind = StartPlan::Kind::kWait;
    plan.evict.clear();  // nothing is stopped until it would be enough
    const bool memory_short = need && free < want;
    plan.why = (memory_short ? "the memory is held by models in use: " : count + "; in use: ") + Names(busy);
    return plan;
  }
  plan.kind = StartPlan::Kind::kNoRoom;
  plan.evict.clear();
  std::vector<const Holder*> pinned;
  for (const auto& h : holders)
    if (h.pinned) pinned.push_back(&h);
  const bool memory_short = need && free + busy_bytes < want;
  plan.why = memory_short ? "needs " + FormatBytes(plan.need_bytes) + ", and even with every other model "
                                "stopped only " + FormatBytes(static_cast<uint64_t>(std::max<int64_t>(0, free + busy_bytes))) +
                                " would be free"
                          : count;
  if (!pinned.empty()) plan.why += "; pinned: " + Names(pinned);
  return plan;
}

std::vector<std::string> PlanRelease(uint64_t bytes, const std::vector<Holder>& holders) {
  int64_t left = static_cast<int64_t>(bytes);
  for (const auto& h : holders)
    if (h.stopping) left -= static_cast<int64_t>(h.bytes);
  std::vector<std::string> out;
  for (const Holder* h : EvictionOrder(holders)) {
    if (left <= 0) break;
    out.push_back(h->id);
    left -= static_cast<int64_t>(h->bytes);
  }
  return out;
}

}  // namespace kitty::sched
