// MemorySampler: the memory of every running worker's process group, read on the blocking
// pool (a /proc scan is not for an event loop) every `interval` and soon after a worker is
// spawned or becomes ready, in one pass for all groups. Status reads the latest sample instead
// of scanning /proc per call: polling status (a dashboard, kittyctl ps in a loop) no longer
// costs the requests next to it (issue 8's "loop never blocks").
//
// Control thread only (start, get); the reads run on the pool and their result is posted back.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "kitty/base/clock.h"
#include "kitty/base/env.h"
#include "kitty/base/thread_owner.h"
#include "kitty/events/bus.h"
#include "kitty/memory/process_memory.h"

namespace kitty {

class MemorySampler {
 public:
  /// `pgids` lists the groups to sample now (the manager's running workers). `env` needs
  /// clock, blocking, memory and events.
  MemorySampler(const Env& env, std::function<std::vector<int>()> pgids, Duration interval);
  ~MemorySampler();

  void start();
  /// The latest figures of `pgid`, if it was running at the last sample.
  std::optional<GroupMemory> get(int pgid) const;
  /// When the figures were read (for a status "age"); unset before the first sample.
  std::optional<TimePoint> sampled_at() const { return sampled_at_; }

 private:
  void sample();
  void schedule(Duration after);

  const Env& env_;
  const std::function<std::vector<int>()> pgids_;
  const Duration interval_;
  ThreadOwner owner_;
  EventBus::Subscription events_;
  std::unique_ptr<Timer> timer_;
  bool reading_ = false;
  bool again_ = false;  // a transition came while a read was on the pool
  std::map<int, GroupMemory> latest_;
  std::optional<TimePoint> sampled_at_;
  std::shared_ptr<MemorySampler*> self_;  // lets a late result find out we are gone
};

}  // namespace kitty
