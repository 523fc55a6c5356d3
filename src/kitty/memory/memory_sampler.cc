#include "kitty/memory/memory_sampler.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "kitty/base/blocking_pool.h"

namespace kitty {
namespace {
// After a transition, a short pause lets a starting engine map its model before we look.
constexpr Duration kAfterTransition = std::chrono::milliseconds(50);

void Raise(uint64_t* peak, uint64_t now) { *peak = std::max(*peak, now); }
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
      if (e.kind == EventKind::kGone) {
        latest_.erase(e.pid);
        auto peak = peaks_.extract(e.pid);
        if (peak && on_gone_) on_gone_(e, peak.mapped());
        if (reading_) gone_during_read_.insert(e.pid);
      } else if (reading_) {
        // The read on the pool began before this transition: read again soon after it is
        // back (its return would otherwise replace a timer set here with the interval).
        again_ = true;
      } else {
        schedule(kAfterTransition);
      }
    });
  sample();
}

std::optional<GroupMemory> MemorySampler::get(int pgid) const {
  owner_.check("MemorySampler::get");
  auto it = latest_.find(pgid);
  if (it == latest_.end()) return std::nullopt;
  return it->second;
}

std::optional<GroupPeak> MemorySampler::peak(int pgid) const {
  owner_.check("MemorySampler::peak");
  auto it = peaks_.find(pgid);
  if (it == peaks_.end()) return std::nullopt;
  return it->second;
}

std::optional<SystemSample> MemorySampler::system() const {
  owner_.check("MemorySampler::system");
  return system_;
}

void MemorySampler::schedule(Duration after) {
  timer_ = env_.clock->start_timer(after, [this] { sample(); });
}

void MemorySampler::sample() {
  if (reading_) {
    again_ = true;
    return;
  }
  // The machine is read even with no worker running: the scheduler plans the first start
  // on it.
  const std::vector<int> pgids = pgids_();
  reading_ = true;
  reading_pgids_ = pgids;
  read_started_ = env_.clock->now();
  gone_during_read_.clear();
  std::weak_ptr<MemorySampler*> weak = self_;
  MemoryProbe* probe = env_.memory;
  Clock* clock = env_.clock;
  env_.blocking->post([weak, probe, clock, pgids] {
    auto got = std::make_shared<MemoryReading>(probe->read(pgids));
    clock->post([weak, got] {
      auto self = weak.lock();
      if (!self || !*self) return;
      MemorySampler& s = **self;
      s.reading_ = false;
      s.take(std::move(*got));
      s.schedule(std::exchange(s.again_, false) ? kAfterTransition : s.interval_);
    });
  });
}

void MemorySampler::take(MemoryReading reading) {
  // The figures are as of the read's start: a worker that became ready while it ran may not
  // be in them.
  const TimePoint now = read_started_;
  std::optional<uint64_t> groups_host_bytes;
  if (reading.groups.ok()) {
    latest_ = std::move(reading.groups.value());
    // Summed before the gone ones are dropped: the system figures of this read include them.
    groups_host_bytes = 0;
    for (const auto& [pgid, m] : latest_) *groups_host_bytes += m.host_bytes();
    // A group reported gone while the read was on the pool may still be in it (it was read
    // before it went): its figures must not come back, nor its peak, under a reused pgid.
    for (int pgid : gone_during_read_) latest_.erase(pgid);
    std::map<int, GroupPeak> peaks;
    for (int pgid : reading_pgids_) {
      if (gone_during_read_.count(pgid) || peaks.count(pgid)) continue;
      auto old = peaks_.find(pgid);
      auto mem = latest_.find(pgid);
      if (mem == latest_.end()) {
        // Listed but no live member: dying, not yet reaped. Keep the peak for kGone.
        if (old != peaks_.end()) peaks.insert(*old);
        continue;
      }
      GroupPeak p = old != peaks_.end() ? old->second : GroupPeak{};
      const GroupMemory& m = mem->second;
      Raise(&p.rss_bytes, m.rss_bytes);
      if (m.pss_available) Raise(&p.pss_bytes, m.pss_bytes);
      if (m.footprint_available) Raise(&p.footprint_bytes, m.footprint_bytes);
      if (m.gpu_available) Raise(&p.gpu_bytes, m.gpu_bytes);
      Raise(&p.host_bytes, m.host_bytes());
      ++p.samples;
      p.last_seen = now;
      peaks[pgid] = p;
    }
    peaks_ = std::move(peaks);  // a group the manager no longer lists is not ours any more
  } else {
    spdlog::debug("memory sample: {}", reading.groups.error().message);
    latest_.clear();
  }
  if (reading.system.ok()) {
    system_ = SystemSample{std::move(reading.system.value()), now, groups_host_bytes};
  } else {
    spdlog::debug("system memory sample: {}", reading.system.error().message);
  }
  gone_during_read_.clear();
  sampled_at_ = now;
}

}  // namespace kitty
