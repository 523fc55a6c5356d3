// A new config for a running Worker (reload) and the OOM downgrade ladder (issue 10).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>

#include "kitty/testing/worker_fixture.h"
#include "kitty/worker/worker.h"

namespace kitty {
namespace {

using namespace std::chrono_literals;

class WorkerConfigTest : public testing_util::WorkerFixture {
 protected:
  WorkerConfigTest() {
    config_.ctx = 8192;
    config_.idle_shutdown_seconds = 100;
    // The test plan takes argv as it is: put the config's ctx in it, to see which config ran.
    t_.env.plan_launch = [](const ModelConfig& m, int port) -> Result<LaunchPlan> {
      LaunchPlan p;
      p.spawn.argv = {"engine", "--ctx", std::to_string(m.ctx.value_or(0))};
      p.host = "127.0.0.1";
      p.port = port;
      p.health_path = m.health_path;
      return p;
    };
  }
  // The --ctx the last spawn was given.
  std::string spawned_ctx() {
    const auto& argv = t_.spawner.last().spec.argv;
    auto it = std::find(argv.begin(), argv.end(), "--ctx");
    return it != argv.end() && it + 1 != argv.end() ? *(it + 1) : "";
  }
};

TEST_F(WorkerConfigTest, ANewIdleTimeoutAppliesWithoutARestart) {
  auto w = make();
  make_ready(*w);
  const int pid = w->pid();
  ModelConfig next = config_;
  next.idle_shutdown_seconds = 5;
  next.aliases = {"other-name"};
  EXPECT_EQ(w->reconfigure(next, false), "updated");
  EXPECT_EQ(w->reconfigure(next, false), "unchanged");
  EXPECT_EQ(w->pid(), pid);
  EXPECT_EQ(w->config().idle_shutdown_seconds, 5);
  t_.clock.advance(6s);
  EXPECT_EQ(w->state(), WorkerState::kStopped) << "idled out on the new timeout";
}

TEST_F(WorkerConfigTest, AChangeOfWhatRunsWaitsForTheRequestInFlightThenRestartsKeepingHolds) {
  auto w = make();
  make_ready(*w);
  const int first = w->pid();
  const std::string hold = w->add_hold(60, "graph");
  auto lease = w->gate().try_lease();
  ASSERT_TRUE(lease.has_value());
  ModelConfig next = config_;
  next.ctx = 4096;
  EXPECT_EQ(w->reconfigure(next, false), "restart_when_idle");
  EXPECT_TRUE(w->info().config_pending);
  t_.clock.advance(1s);
  EXPECT_EQ(w->pid(), first) << "never stopped under a request";
  EXPECT_TRUE(t_.spawner.proc(first).signals.empty());
  // A request that comes meanwhile waits for the new worker.
  bool served = false;
  w->acquire([&](Result<Lease> l) { served = l.ok(); });
  lease->reset();
  t_.clock.advance(1s);
  EXPECT_NE(w->pid(), first);
  EXPECT_EQ(spawned_ctx(), "4096");
  EXPECT_EQ(w->state(), WorkerState::kReady);
  EXPECT_TRUE(served);
  EXPECT_TRUE(w->has_hold(hold)) << "holds stay across a config restart";
  EXPECT_FALSE(w->info().config_pending);
}

TEST_F(WorkerConfigTest, ForceRestartsNowAndAStoppedWorkerTakesTheConfigAtItsNextStart) {
  auto w = make();
  make_ready(*w);
  const int first = w->pid();
  auto lease = w->gate().try_lease();
  std::optional<Error> cut;
  lease->on_cut([&](const Error& e) { cut = e; });
  ModelConfig next = config_;
  next.ctx = 2048;
  EXPECT_EQ(w->reconfigure(next, true), "restarted");
  t_.clock.advance(1s);
  ASSERT_TRUE(cut.has_value());
  EXPECT_EQ(cut->code, ErrorCode::kWorkerStopping);
  EXPECT_NE(w->pid(), first);
  EXPECT_EQ(spawned_ctx(), "2048");

  w->release(false, nullptr);
  t_.clock.advance(5s);
  next.ctx = 1024;
  EXPECT_EQ(w->reconfigure(next, false), "updated");
  EXPECT_EQ(w->state(), WorkerState::kStopped);
  make_ready(*w);
  EXPECT_EQ(spawned_ctx(), "1024");
}

TEST_F(WorkerConfigTest, AChangeDuringAReleasesDrainDoesNotStartTheWorkerAgain) {
  auto w = make();
  make_ready(*w);
  auto lease = w->gate().try_lease();
  bool released = false;
  w->release(false, [&] { released = true; });
  ModelConfig next = config_;
  next.ctx = 512;
  EXPECT_EQ(w->reconfigure(next, false), "updated") << "applies at the next start";
  lease->reset();
  t_.clock.advance(5s);
  EXPECT_TRUE(released);
  EXPECT_EQ(w->state(), WorkerState::kStopped) << "the release wins: stopped, not restarted";
  EXPECT_EQ(t_.spawner.spawn_count(), 1);
  EXPECT_EQ(w->config().ctx, 512) << "the new config waits for the next start";
}

TEST_F(WorkerConfigTest, AReloadGivesAModelKittydGaveUpOnANewChance) {
  config_.pinned = true;
  config_.max_restarts = 1;
  auto w = make();
  make_ready(*w);
  t_.http.answers[7001] = 503;  // every run from now on fails before it is ready
  t_.spawner.exit(t_.spawner.last().pid, ExitStatus{-1, SIGSEGV});
  t_.clock.advance(40s);
  ASSERT_TRUE(w->info().restart.gave_up);
  ASSERT_EQ(w->state(), WorkerState::kFailed);
  t_.http.answers[7001] = 200;  // fixed outside kittyd
  EXPECT_EQ(w->reconfigure(config_, false), "unchanged_retrying");
  t_.clock.advance(100ms);
  EXPECT_EQ(w->state(), WorkerState::kReady);
  EXPECT_FALSE(w->info().restart.gave_up);
}

TEST_F(WorkerConfigTest, EachOomKillStepsOneRungDownAndEnsureResetClimbsBack) {
  uint64_t oom = 0;
  t_.env.oom_counts = [&] { return OomCounts{oom, std::nullopt}; };
  config_.pinned = true;  // restarted on its own after each kill
  ModelRung r1, r2;
  r1.ctx = 4096;
  r1.text = "{ctx: 4096}";
  r2.ctx = 1024;
  r2.ngl = 0;
  r2.text = "{ctx: 1024, ngl: 0}";
  config_.downgrade = {r1, r2};
  auto w = make();
  make_ready(*w);
  EXPECT_EQ(spawned_ctx(), "8192");
  for (const char* ctx : {"4096", "1024", "1024"}) {
    ++oom;
    t_.spawner.exit(t_.spawner.last().pid, ExitStatus{-1, SIGKILL});
    t_.clock.advance(21s);  // restarts come 5 s, 10 s, 20 s after (no run proved itself)
    EXPECT_EQ(w->state(), WorkerState::kReady);
    EXPECT_EQ(spawned_ctx(), ctx);
  }
  WorkerInfo i = w->info();
  EXPECT_EQ(i.downgrade.rung, 2);
  EXPECT_EQ(i.downgrade.rungs, 2);
  EXPECT_EQ(i.downgrade.overrides, "{ctx: 1024, ngl: 0}");
  EXPECT_EQ(w->config().rung, 2);
  EXPECT_EQ(i.exits["oom_kill"], 3);
  // A crash that is not an OOM kill does not step down.
  const int pid = w->pid();
  w->ensure([](Result<Endpoint>) {}, /*reset=*/true);
  t_.clock.advance(1s);
  EXPECT_NE(w->pid(), pid) << "restarted at the top rung once idle";
  EXPECT_EQ(spawned_ctx(), "8192");
  EXPECT_EQ(w->info().downgrade.rung, 0);
  EXPECT_EQ(w->state(), WorkerState::kReady);
}

TEST_F(WorkerConfigTest, AFailedModelWaitingForItsRestartIsUnavailableForFallbacks) {
  config_.pinned = true;
  auto w = make();
  EXPECT_FALSE(w->unavailable().has_value());
  make_ready(*w);
  t_.spawner.exit(t_.spawner.last().pid, ExitStatus{-1, SIGSEGV});
  t_.clock.advance(100ms);
  ASSERT_TRUE(w->unavailable().has_value()) << "its restart is queued";
  t_.clock.advance(5s);
  EXPECT_EQ(w->state(), WorkerState::kReady);
  EXPECT_FALSE(w->unavailable().has_value());
}

TEST(ModelConfigTest, CompareTellsALiveChangeFromOneThatNeedsANewProcess) {
  ModelConfig a;
  a.id = "m";
  a.ctx = 10;
  ModelConfig b = a;
  EXPECT_EQ(CompareModels(a, b), ConfigChange::kNone);
  b.mark.line = 42;  // moved in the file: the same model
  EXPECT_EQ(CompareModels(a, b), ConfigChange::kNone);
  b.priority = 5;
  b.fallback = {"x"};
  EXPECT_EQ(CompareModels(a, b), ConfigChange::kLive);
  b.env["X"] = "1";
  EXPECT_EQ(CompareModels(a, b), ConfigChange::kRestart);
}

TEST(ModelConfigTest, AtRungOverridesOnlyItsKeys) {
  ModelConfig m;
  m.id = "m";
  m.ctx = 8192;
  m.ngl = 99;
  m.threads = 8;
  ModelRung r;
  r.ngl = 0;
  r.extra_args = std::vector<std::string>{"--no-mmap"};
  m.downgrade = {r};
  EXPECT_EQ(AtRung(m, 0).ngl, 99);
  const ModelConfig d = AtRung(m, 1);
  EXPECT_EQ(d.ngl, 0);
  EXPECT_EQ(d.ctx, 8192);
  EXPECT_EQ(d.threads, 8);
  EXPECT_EQ(d.extra_args, std::vector<std::string>{"--no-mmap"});
  EXPECT_EQ(d.rung, 1);
  EXPECT_EQ(AtRung(m, 5).rung, 1) << "past the last rung stays on it";
}

}  // namespace
}  // namespace kitty

namespace kitty {
namespace {

using namespace std::chrono_literals;
using WorkerKeepAliveTest = testing_util::WorkerFixture;

TEST_F(WorkerKeepAliveTest, AKeepAliveReplacesTheIdleTimeoutForThisRunOnly) {
  config_.idle_shutdown_seconds = 100;
  auto w = make();
  make_ready(*w);
  EXPECT_NEAR(w->info().idles_out_in_seconds.value_or(-1), 100.0, 0.1);
  w->set_keep_alive(2);
  EXPECT_EQ(w->info().keep_alive_seconds, 2.0);
  t_.clock.advance(500ms);
  EXPECT_NEAR(w->info().idles_out_in_seconds.value_or(-1), 1.5, 0.1);
  t_.clock.advance(2500ms);
  EXPECT_EQ(w->state(), WorkerState::kStopped) << "idled out on its keep-alive";
  EXPECT_FALSE(w->info().keep_alive_seconds.has_value()) << "it was that run's";
  make_ready(*w);
  t_.clock.advance(50s);
  EXPECT_EQ(w->state(), WorkerState::kReady) << "the next run idles on the config again";
}

TEST_F(WorkerKeepAliveTest, NegativeKeepsItAndZeroStopsItOnceItsRequestsEnd) {
  config_.idle_shutdown_seconds = 5;
  auto w = make();
  make_ready(*w);
  w->set_keep_alive(-1);
  EXPECT_FALSE(w->info().idles_out_in_seconds.has_value()) << "never";
  t_.clock.advance(60s);
  EXPECT_EQ(w->state(), WorkerState::kReady) << "kept for ever";
  auto lease = w->gate().try_lease();
  w->set_keep_alive(0);
  t_.clock.advance(3s);
  EXPECT_EQ(w->state(), WorkerState::kReady) << "never under a request";
  lease->reset();
  t_.clock.advance(1100ms);
  EXPECT_EQ(w->state(), WorkerState::kStopped);
}

TEST_F(WorkerKeepAliveTest, AHoldOrAPinStillKeepsIt) {
  auto w = make();
  make_ready(*w);
  const std::string hold = w->add_hold(60, "");
  w->set_keep_alive(0);
  t_.clock.advance(5s);
  EXPECT_EQ(w->state(), WorkerState::kReady);
  w->drop_hold(hold);
  w->set_pinned(true, "runtime");
  t_.clock.advance(5s);
  EXPECT_EQ(w->state(), WorkerState::kReady);
}

}  // namespace
}  // namespace kitty
