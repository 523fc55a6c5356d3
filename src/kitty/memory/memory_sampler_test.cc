// The sampler on a real loop and pool with a fake probe: one read for all groups, results back
// on the loop, a re-read soon after a transition, and nothing kept for a group that is gone.
#include "kitty/memory/memory_sampler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "kitty/base/asio_clock.h"
#include "kitty/base/blocking_pool.h"
#include "kitty/memory/memory_probe.h"
#include "kitty/testing/temp_dir.h"

namespace kitty {
namespace {

using namespace std::chrono_literals;

class FakeProbe : public MemoryProbe {
 public:
  Result<GroupMemory> group(int) override { return MakeError("unused"); }
  Result<SystemMemory> system() override { return MakeError("unused"); }
  Result<std::map<int, GroupMemory>> groups(const std::vector<int>& pgids) override {
    ++calls;
    std::lock_guard lock(mu);
    last = pgids;
    std::map<int, GroupMemory> out;
    for (int g : pgids) {
      GroupMemory m;
      m.rss_bytes = static_cast<uint64_t>(g) * 1000;
      m.process_count = 1;
      out[g] = m;
    }
    return out;
  }
  std::atomic<int> calls{0};
  std::mutex mu;
  std::vector<int> last;
};

TEST(MemorySamplerTest, ReadsAllGroupsOffTheLoopAndResamplesAfterATransition) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  AsioClock clock(io);
  BlockingPool pool(1);
  FakeProbe probe;
  EventBus events;
  Env env;
  env.clock = &clock;
  env.blocking = &pool;
  env.memory = &probe;
  env.events = &events;
  std::vector<int> running = {100, 200};
  MemorySampler sampler(env, [&] { return running; }, std::chrono::hours(1));
  sampler.start();
  ASSERT_TRUE(testing_util::RunUntil(io, [&] { return sampler.get(200).has_value(); }));
  EXPECT_EQ(probe.calls.load(), 1) << "one read for both groups";
  EXPECT_EQ(sampler.get(100)->rss_bytes, 100000u);
  EXPECT_FALSE(sampler.get(300).has_value());

  running.push_back(300);
  events.publish({EventKind::kReady, "m3", 300, clock.now()});
  ASSERT_TRUE(testing_util::RunUntil(io, [&] { return sampler.get(300).has_value(); }, 5s));
  EXPECT_EQ(probe.calls.load(), 2);

  events.publish({EventKind::kGone, "m1", 100, clock.now()});
  EXPECT_FALSE(sampler.get(100).has_value()) << "a gone group's figures are dropped at once";
}

}  // namespace
}  // namespace kitty
