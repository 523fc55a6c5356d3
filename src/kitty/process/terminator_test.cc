// The stop escalation on a fake clock and a fake process: every step and deadline in
// microseconds.
#include "kitty/process/terminator.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "kitty/testing/fake_clock.h"
#include "kitty/testing/fake_spawner.h"
#include "kitty/testing/fake_worker_http.h"

namespace kitty {
namespace {

using namespace std::chrono_literals;

class TerminatorTest : public ::testing::Test {
 protected:
  TerminatorTest() : spawner_(&clock_), http_(&clock_) {}

  // Spawns a fake process whose exits reach the terminator, as a Worker would forward them.
  void spawn() {
    auto p = spawner_.spawn(SpawnSpec{{"engine"}}, [this](ExitStatus) {
      if (t_) t_->leader_exited();
    });
    ASSERT_TRUE(p.ok());
    process_ = std::move(p.value());
  }
  void make(std::string shutdown_path = "", Duration timeout = 10s) {
    StopSpec s{"model 'm'", "127.0.0.1", 7001, std::move(shutdown_path), timeout};
    t_ = std::make_unique<Terminator>(clock_, http_, *process_, s, [this] { ++gone_; });
  }
  std::vector<int>& signals() { return spawner_.last().signals; }

  FakeClock clock_;
  FakeSpawner spawner_;
  FakeWorkerHttp http_;
  std::unique_ptr<Process> process_;
  std::unique_ptr<Terminator> t_;
  int gone_ = 0;
};

TEST_F(TerminatorTest, CooperativeWorkerGetsOneSigtermAndIsGone) {
  spawn();
  make();
  t_->start();
  clock_.run_pending();
  EXPECT_EQ(signals(), (std::vector<int>{SIGTERM}));
  EXPECT_EQ(gone_, 1);
  EXPECT_TRUE(t_->done());
  EXPECT_EQ(clock_.pending_timers(), 0u) << "no timer may outlive the stop";
}

TEST_F(TerminatorTest, IgnoredSigtermGetsASecondAtHalfTimeThenSigkillAtTheDeadline) {
  spawner_.next_ignores_sigterm = true;
  spawn();
  make("", 10s);
  t_->start();
  clock_.advance(4900ms);
  EXPECT_EQ(signals(), (std::vector<int>{SIGTERM}));
  clock_.advance(200ms);
  EXPECT_EQ(signals(), (std::vector<int>{SIGTERM, SIGTERM}));
  EXPECT_EQ(gone_, 0);
  clock_.advance(4800ms);
  EXPECT_EQ(signals(), (std::vector<int>{SIGTERM, SIGTERM}));
  clock_.advance(200ms);
  EXPECT_EQ(signals(), (std::vector<int>{SIGTERM, SIGTERM, SIGKILL}));
  EXPECT_EQ(gone_, 1);
}

TEST_F(TerminatorTest, ShutdownPathIsPostedFirstAndSigtermFollowsAfterTheGrace) {
  spawner_.next_ignores_sigterm = true;  // the POST alone does not make the fake exit
  spawn();
  http_.answers[7001] = 200;
  make("/shutdown", 10s);
  t_->start();
  clock_.run_pending();
  ASSERT_EQ(http_.calls.size(), 1u);
  EXPECT_EQ(http_.calls[0].method, "POST");
  EXPECT_EQ(http_.calls[0].path, "/shutdown");
  EXPECT_TRUE(signals().empty());
  clock_.advance(2s);  // the grace after an accepted shutdown
  EXPECT_EQ(signals(), (std::vector<int>{SIGTERM}));
}

TEST_F(TerminatorTest, RefusedShutdownGoesStraightToSigterm) {
  spawn();
  http_.answers[7001] = 404;
  make("/shutdown");
  t_->start();
  clock_.run_pending();
  EXPECT_EQ(signals(), (std::vector<int>{SIGTERM}));
  EXPECT_EQ(gone_, 1);
}

TEST_F(TerminatorTest, HangingShutdownStillEndsInSigkillByTheDeadline) {
  spawner_.next_ignores_sigterm = true;
  spawn();
  http_.answers[7001] = FakeWorkerHttp::kHang;
  make("/shutdown", 4s);
  t_->start();
  clock_.advance(999ms);
  EXPECT_TRUE(signals().empty());
  clock_.advance(2ms);  // the POST's 1 s answer timeout
  EXPECT_EQ(signals(), (std::vector<int>{SIGTERM}));
  clock_.advance(4s);
  EXPECT_EQ(signals().back(), SIGKILL);
  EXPECT_EQ(gone_, 1);
}

TEST_F(TerminatorTest, GrandchildLeftInTheGroupIsKilledBeforeGone) {
  spawner_.next_leaves_grandchild = true;
  spawn();
  make();
  t_->start();
  clock_.run_pending();
  // The leader exited on SIGTERM; its grandchild did not.
  EXPECT_EQ(gone_, 0);
  clock_.advance(5ms);
  EXPECT_EQ(signals(), (std::vector<int>{SIGTERM, SIGKILL}));
  EXPECT_EQ(gone_, 1);
  EXPECT_EQ(spawner_.alive_count(), 0);
}

TEST_F(TerminatorTest, KillNowSkipsThePoliteSteps) {
  http_.answers[7001] = 200;
  spawn();
  make("/shutdown");
  t_->kill_now();
  clock_.run_pending();
  EXPECT_TRUE(http_.calls.empty());
  EXPECT_EQ(signals(), (std::vector<int>{SIGKILL}));
  EXPECT_EQ(gone_, 1);
}

TEST_F(TerminatorTest, LeaderThatAlreadyExitedOnlyNeedsTheGroupCheck) {
  spawn();
  spawner_.exit(spawner_.last().pid, ExitStatus{1, 0});
  clock_.run_pending();
  make();
  t_->start();
  EXPECT_TRUE(signals().empty());
  EXPECT_EQ(gone_, 1);
}

TEST_F(TerminatorTest, DestroyedTerminatorCancelsItsTimers) {
  spawner_.next_ignores_sigterm = true;
  spawn();
  make();
  t_->start();
  t_.reset();
  clock_.advance(20s);
  EXPECT_EQ(signals(), (std::vector<int>{SIGTERM})) << "no signal after destruction";
}

}  // namespace
}  // namespace kitty
