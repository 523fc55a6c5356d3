// MemorySampler: the memory of every running worker's process group and of the machine, read
// on the blocking pool (a /proc scan and GPU driver calls are not for an event loop) every
// `interval` and soon after a worker is spawned or becomes ready, in one pass for all groups.
// Status and the scheduler read the latest sample instead of scanning /proc per call: polling
// status (a dashboard, kittyctl ps in a loop) no longer costs the requests next to it (issue
// 8's "loop never blocks").
//
// Besides the latest figures it keeps each group's peak since the group was first seen (the
// learned footprint of issue 9 is a measured peak). A group's peak lasts until its kGone event,
// which hands it to on_gone() first, or until `pgids` stops listing it. A group still listed
// but without a live member at a sample (its members exited, the group not yet reaped) keeps
// its peak: kGone, a moment later, is when it is final.
//
// Control thread only (start, get, peak, system); the reads run on the pool and their result
// is posted back.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "kitty/base/clock.h"
#include "kitty/base/env.h"
#include "kitty/base/thread_owner.h"
#include "kitty/events/bus.h"
#include "kitty/memory/memory_probe.h"

namespace kitty {

/// The highest figures of one group over the samples that saw it.
struct GroupPeak {
  uint64_t rss_bytes = 0;
  uint64_t pss_bytes = 0;        // 0 unless pss was available
  uint64_t footprint_bytes = 0;  // 0 unless footprint was available (macOS)
  uint64_t gpu_bytes = 0;        // 0 unless GPU figures were available
  uint64_t host_bytes = 0;       // the peak of GroupMemory::host_bytes()
  int samples = 0;               // how many samples saw the group
  TimePoint last_seen{};         // when the last of them was read
};

/// The machine at one sample.
struct SystemSample {
  SystemMemory memory;
  TimePoint sampled_at;
  /// What the sampled groups held (host bytes) in the same read, so that `memory` and what
  /// kittyd's workers held can be set against each other; unset when the groups' read failed.
  std::optional<uint64_t> groups_host_bytes;
};

class MemorySampler {
 public:
  /// `pgids` lists the groups to sample now (the manager's running workers). `env` needs
  /// clock, blocking, memory and events.
  MemorySampler(const Env& env, std::function<std::vector<int>()> pgids, Duration interval);
  ~MemorySampler();

  /// Called on the control thread with a group's final peak when its kGone event arrives
  /// (not for a group never sampled): where a learned footprint is recorded. Set before start.
  using OnGone = std::function<void(const WorkerEvent& gone, const GroupPeak& peak)>;
  void on_gone(OnGone fn) { on_gone_ = std::move(fn); }

  void start();
  /// The latest figures of `pgid`, if it was running at the last sample.
  std::optional<GroupMemory> get(int pgid) const;
  /// The peak figures of `pgid` since it was first sampled; unset for a group never seen or
  /// gone. Kept across a failed read (a failed read says nothing about the peak).
  std::optional<GroupPeak> peak(int pgid) const;
  /// The machine at the last successful read of it; unset before the first one. A later
  /// failed read keeps this one (its sampled_at tells how old it is).
  std::optional<SystemSample> system() const;
  /// When the last read of the groups began (its figures are as of then); unset before the
  /// first sample.
  std::optional<TimePoint> sampled_at() const { return sampled_at_; }

 private:
  void sample();
  void schedule(Duration after);
  void take(MemoryReading reading);

  const Env& env_;
  const std::function<std::vector<int>()> pgids_;
  const Duration interval_;
  ThreadOwner owner_;
  EventBus::Subscription events_;
  std::unique_ptr<Timer> timer_;
  bool reading_ = false;
  bool again_ = false;  // a transition came while a read was on the pool
  std::vector<int> reading_pgids_;  // what the read on the pool was asked for
  TimePoint read_started_{};
  std::set<int> gone_during_read_;  // kGone while a read was on the pool: drop its figures
  OnGone on_gone_;
  std::map<int, GroupMemory> latest_;
  std::map<int, GroupPeak> peaks_;
  std::optional<SystemSample> system_;
  std::optional<TimePoint> sampled_at_;
  std::shared_ptr<MemorySampler*> self_;  // lets a late result find out we are gone
};

}  // namespace kitty
