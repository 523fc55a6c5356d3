#include "kitty/memory/memory_sampler.h"

#include <spdlog/spdlog.h>

#include "kitty/base/blocking_pool.h"
#include "kitty/memory/memory_probe.h"

namespace kitty {
namespace {
// After a transition, a short pause lets a starting engine map its model before we look.
constexpr Duration kAfterTransition = std::chrono::milliseconds(50);
}  // namespace

MemorySampler::MemorySampler(const Env& env, std::function<std::vector<int>()> pgids,
                             Duration interval)
    : env_(env), pgids_(std::move(pgids)), interval_(interval),
      self_(std::make_shared<MemorySampler*>(this)) {}

MemorySampler::~MemorySampler() { *self_ = nullptr; }

void MemorySampler::start() {
  owner_.check("MemorySampler::start");
  if (env_.events)
    events_ = env_.events->subscribe([this](const WorkerEvent& e) {
      if (e.kind == EventKind::kGone) latest_.erase(e.pid);
      else schedule(kAfterTransition);
    });
  sample();
}

std::optional<GroupMemory> MemorySampler::get(int pgid) const {
  owner_.check("MemorySampler::get");
  auto it = latest_.find(pgid);
  if (it == latest_.end()) return std::nullopt;
  return it->second;
}

void MemorySampler::schedule(Duration after) {
  timer_ = env_.clock->start_timer(after, [this] { sample(); });
}

void MemorySampler::sample() {
  if (reading_) {
    again_ = true;
    return;
  }
  const std::vector<int> pgids = pgids_();
  if (pgids.empty()) {
    latest_.clear();
    sampled_at_ = env_.clock->now();
    return schedule(interval_);
  }
  reading_ = true;
  std::weak_ptr<MemorySampler*> weak = self_;
  MemoryProbe* probe = env_.memory;
  Clock* clock = env_.clock;
  env_.blocking->post([weak, probe, clock, pgids] {
    auto got = probe->groups(pgids);
    clock->post([weak, got = std::make_shared<decltype(got)>(std::move(got))] {
      auto self = weak.lock();
      if (!self || !*self) return;
      MemorySampler& s = **self;
      s.reading_ = false;
      if (got->ok()) {
        s.latest_ = std::move(got->value());
      } else {
        spdlog::debug("memory sample: {}", got->error().message);
        s.latest_.clear();
      }
      s.sampled_at_ = s.env_.clock->now();
      s.schedule(std::exchange(s.again_, false) ? kAfterTransition : s.interval_);
    });
  });
}

}  // namespace kitty
