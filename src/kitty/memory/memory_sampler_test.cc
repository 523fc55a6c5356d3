// The sampler on a real loop and pool with a fake probe: one read for all groups and the
// machine, results back on the loop, a re-read soon after a transition, peaks kept across
// samples and dropped with the group, and nothing kept for a group that is gone, even when it
// went while a read was on the pool.
#include "kitty/memory/memory_sampler.h"

#include <gtest/gtest.h>

#include <mutex>

#include "kitty/base/asio_clock.h"
#include "kitty/base/blocking_pool.h"
#include "kitty/memory/memory_probe.h"
#include "kitty/testing/fake_memory_probe.h"
#include "kitty/testing/temp_dir.h"

namespace kitty {
namespace {

using namespace std::chrono_literals;
using testing_util::RunUntil;

struct Rig {
  Rig() {
    probe.sys.swap_used_bytes = 7;
    probe.gpu_tenth = true;  // every group a tenth of its RSS on a GPU
    env.clock = &clock;
    env.blocking = &pool;
    env.memory = &probe;
    env.events = &events;
  }
  ~Rig() { probe.gate(false); }
  void publish(EventKind kind, int pid) { events.publish({kind, "m", pid, clock.now()}); }
  /// Waits for the next read to come back.
  bool next_sample() {
    auto before = sampler->sampled_at();
    int calls = probe.calls.load();
    publish(EventKind::kReady, 1);  // any transition asks for a sample soon
    return RunUntil(
        io, [&] { return probe.calls.load() > calls && sampler->sampled_at() != before; }, 5s);
  }

  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard =
      boost::asio::make_work_guard(io);
  AsioClock clock{io};
  testing_util::FakeMemoryProbe probe{16000, 9000};
  EventBus events;
  BlockingPool pool{1};  // after what its jobs use: destroyed (joined) before them
  Env env;
  std::vector<int> running;
  std::unique_ptr<MemorySampler> sampler;
  std::vector<std::pair<int, GroupPeak>> gone;  // what on_gone handed over

  void start() {
    sampler =
        std::make_unique<MemorySampler>(env, [this] { return running; }, std::chrono::hours(1));
    sampler->on_gone(
        [this](const WorkerEvent& e, const GroupPeak& p) { gone.emplace_back(e.pid, p); });
    sampler->start();
  }
};

TEST(MemorySamplerTest, ReadsAllGroupsOffTheLoopAndResamplesAfterATransition) {
  Rig r;
  r.running = {100, 200};
  r.start();
  ASSERT_TRUE(RunUntil(r.io, [&] { return r.sampler->get(200).has_value(); }));
  EXPECT_EQ(r.probe.calls.load(), 1) << "one read for both groups";
  EXPECT_EQ(r.sampler->get(100)->rss_bytes, 100000u);
  EXPECT_FALSE(r.sampler->get(300).has_value());

  r.running.push_back(300);
  r.publish(EventKind::kReady, 300);
  ASSERT_TRUE(RunUntil(r.io, [&] { return r.sampler->get(300).has_value(); }, 5s));
  EXPECT_EQ(r.probe.calls.load(), 2);

  r.publish(EventKind::kGone, 100);
  EXPECT_FALSE(r.sampler->get(100).has_value()) << "a gone group's figures are dropped at once";
  EXPECT_FALSE(r.sampler->peak(100).has_value()) << "and its peak";
  ASSERT_EQ(r.gone.size(), 1u) << "after handing it over";
  EXPECT_EQ(r.gone[0].second.rss_bytes, 100000u);
}

TEST(MemorySamplerTest, KeepsThePeakOfEachGroupUntilItIsGone) {
  Rig r;
  r.running = {100, 200};
  r.probe.set_rss(100, 5000);
  r.probe.set_rss(200, 700);
  r.start();
  ASSERT_TRUE(RunUntil(r.io, [&] { return r.sampler->get(100).has_value(); }));
  r.probe.set_rss(100, 3000);
  r.probe.set_rss(200, 900);
  ASSERT_TRUE(r.next_sample());

  EXPECT_EQ(r.sampler->get(100)->rss_bytes, 3000u) << "latest";
  auto p = r.sampler->peak(100);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->rss_bytes, 5000u) << "peak";
  EXPECT_EQ(p->gpu_bytes, 500u);
  EXPECT_EQ(p->host_bytes, 5000u);
  EXPECT_EQ(p->samples, 2);
  EXPECT_EQ(r.sampler->peak(200)->rss_bytes, 900u);

  // Still listed but without a live member (exited, not yet reaped): the peak waits for
  // kGone, which hands it over before dropping it.
  r.probe.dead = {100};
  ASSERT_TRUE(r.next_sample());
  EXPECT_FALSE(r.sampler->get(100).has_value());
  ASSERT_TRUE(r.sampler->peak(100).has_value());
  r.publish(EventKind::kGone, 100);
  ASSERT_EQ(r.gone.size(), 1u);
  EXPECT_EQ(r.gone[0].first, 100);
  EXPECT_EQ(r.gone[0].second.rss_bytes, 5000u);
  EXPECT_EQ(r.gone[0].second.samples, 2);
  EXPECT_FALSE(r.sampler->peak(100).has_value());

  // A later group with the same pgid starts afresh.
  r.probe.dead.clear();
  r.probe.set_rss(100, 10);
  ASSERT_TRUE(r.next_sample());
  EXPECT_EQ(r.sampler->peak(100)->rss_bytes, 10u);
  EXPECT_EQ(r.sampler->peak(100)->samples, 1);

  // Out of the manager's list: not ours any more, dropped without a hand-over.
  r.running = {200};
  ASSERT_TRUE(r.next_sample());
  EXPECT_FALSE(r.sampler->peak(100).has_value());
  EXPECT_TRUE(r.sampler->peak(200).has_value());
  EXPECT_EQ(r.gone.size(), 1u);
}

TEST(MemorySamplerTest, AGroupGoneDuringAReadDoesNotComeBack) {
  Rig r;
  r.running = {100};
  r.probe.gate(true);  // the read waits on the pool
  r.start();
  ASSERT_TRUE(RunUntil(r.io, [&] { return r.probe.calls.load() == 1; }));
  r.publish(EventKind::kGone, 100);
  r.probe.gate(false);
  ASSERT_TRUE(RunUntil(r.io, [&] { return r.sampler->sampled_at().has_value(); }));
  EXPECT_FALSE(r.sampler->get(100).has_value());
  EXPECT_FALSE(r.sampler->peak(100).has_value());
  EXPECT_TRUE(r.gone.empty()) << "never sampled: nothing to hand over";
}

TEST(MemorySamplerTest, SamplesTheMachineEvenWithoutWorkersAndKeepsItAcrossAFailure) {
  Rig r;
  r.start();
  ASSERT_TRUE(RunUntil(r.io, [&] { return r.sampler->system().has_value(); }));
  EXPECT_EQ(r.probe.calls.load(), 0) << "no groups: no group scan";
  auto s = r.sampler->system();
  EXPECT_EQ(s->memory.available_bytes, 9000u);
  EXPECT_EQ(s->memory.swap_used_bytes, 7u);
  ASSERT_EQ(s->memory.gpus.size(), 1u);
  EXPECT_EQ(s->memory.gpus[0].used_bytes, 100u);
  const TimePoint first = s->sampled_at;

  {
    std::lock_guard lock(r.probe.mu);
    r.probe.sys.available_bytes = 4000;
  }
  r.running = {100};
  ASSERT_TRUE(r.next_sample());
  EXPECT_EQ(r.sampler->system()->memory.available_bytes, 4000u);
  EXPECT_GE(r.sampler->system()->sampled_at, first);

  const TimePoint second = r.sampler->system()->sampled_at;
  {
    std::lock_guard lock(r.probe.mu);
    r.probe.system_fails = true;
  }
  ASSERT_TRUE(r.next_sample());
  ASSERT_TRUE(r.sampler->system().has_value()) << "the last good reading stays";
  EXPECT_EQ(r.sampler->system()->sampled_at, second) << "with its own time";
  EXPECT_TRUE(r.sampler->get(100).has_value()) << "groups are read regardless";
}

}  // namespace
}  // namespace kitty
