// The Worker's phases that the first suite does not reach: readiness noticed from the engine's
// own output, leases taken without the control loop, the drain, kill(), a crash while draining,
// a release during a failed start's cleanup, and the idle timer racing a new lease.
#include <gtest/gtest.h>
#include <signal.h>

#include "kitty/testing/worker_fixture.h"
#include "kitty/worker/worker.h"

namespace kitty {
namespace {

using namespace std::chrono_literals;

using WorkerPhasesTest = testing_util::WorkerFixture;

TEST_F(WorkerPhasesTest, ALineSayingTheEngineIsUpIsProbedAtOnce) {
  auto w = make();
  t_.http.answers[7001] = 503;
  bool ready = false;
  w->ensure([&](Result<Endpoint> r) { ready = r.ok(); });
  t_.clock.advance(3s);  // loading: probes every 10 ms answer 503
  const size_t probes = t_.http.calls.size();
  t_.http.answers[7001] = 200;
  w->log()->append("main: model loaded\n");  // no time passes
  t_.clock.run_pending();
  EXPECT_EQ(t_.http.calls.size(), probes + 1);
  EXPECT_TRUE(ready) << "noticed without waiting for the next probe interval";
}

TEST_F(WorkerPhasesTest, LeasesComeFromTheGateWhileReadyOnly) {
  auto w = make();
  EXPECT_FALSE(w->gate().try_lease().has_value());
  make_ready(*w);
  auto lease = w->gate().try_lease();
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ(lease->endpoint().port, 7001);
  EXPECT_EQ(w->info().in_flight, 1);
  lease->reset();
  EXPECT_EQ(w->info().in_flight, 0);
  w->release(false, nullptr);
  EXPECT_FALSE(w->gate().try_lease().has_value()) << "the gate closes when a stop begins";
}

TEST_F(WorkerPhasesTest, IdleTimerDoesNotStopAWorkerThatJustTookALease) {
  auto w = make();
  make_ready(*w);
  t_.clock.advance(9900ms);            // the idle deadline is 10 s after ready (~2 ms)
  auto lease = w->gate().try_lease();  // an I/O thread, an instant before the deadline
  t_.clock.advance(200ms);             // the deadline passes with the lease out
  EXPECT_EQ(w->state(), WorkerState::kReady);
  EXPECT_TRUE(t_.spawner.last().signals.empty());
  lease->reset();
  t_.clock.advance(9s);
  EXPECT_EQ(w->state(), WorkerState::kReady);
  t_.clock.advance(1100ms);
  EXPECT_EQ(w->state(), WorkerState::kStopped) << "idle counts from the end of that lease";
}

TEST_F(WorkerPhasesTest, KillSkipsThePoliteSteps) {
  auto w = make();
  make_ready(*w);
  t_.spawner.last().ignore_sigterm = true;
  w->release(false, nullptr);
  t_.clock.run_pending();
  EXPECT_EQ(t_.spawner.last().signals, std::vector<int>{SIGTERM});
  bool done = false;
  w->kill([&] { done = true; });
  t_.clock.run_pending();
  EXPECT_EQ(t_.spawner.last().signals, (std::vector<int>{SIGTERM, SIGKILL}));
  EXPECT_TRUE(done);
  EXPECT_EQ(w->state(), WorkerState::kStopped);
}

TEST_F(WorkerPhasesTest, CrashWhileDrainingCutsTheLeasesAndEndsStopped) {
  auto w = make();
  make_ready(*w);
  auto lease = w->gate().try_lease();
  Error why;
  lease->on_cut([&](const Error& e) { why = e; });
  bool done = false;
  w->release(false, [&] { done = true; });
  EXPECT_EQ(w->state(), WorkerState::kStopping);
  t_.spawner.exit(t_.spawner.last().pid, ExitStatus{-1, SIGSEGV});
  t_.clock.run_pending();
  EXPECT_EQ(why.code, ErrorCode::kWorkerCrashed);
  EXPECT_TRUE(done);
  EXPECT_EQ(w->state(), WorkerState::kStopped) << "the release was asked for";
}

TEST_F(WorkerPhasesTest, ReleaseDuringAFailedStartsCleanupEndsStopped) {
  auto w = make();
  t_.spawner.next_leaves_grandchild = true;  // the cleanup takes a moment
  std::optional<Result<Endpoint>> got;
  w->ensure([&](Result<Endpoint> r) { got.emplace(std::move(r)); });
  t_.spawner.exit(t_.spawner.last().pid, ExitStatus{1, 0});
  t_.clock.run_pending();
  ASSERT_TRUE(got.has_value() && !got->ok());
  EXPECT_EQ(w->state(), WorkerState::kStopping);
  bool done = false;
  w->release(false, [&] { done = true; });
  t_.clock.advance(10ms);
  EXPECT_TRUE(done);
  EXPECT_EQ(w->state(), WorkerState::kStopped);
}

TEST_F(WorkerPhasesTest, EventsTellStartingSpawnReadyStoppingAndStopped) {
  std::vector<std::string> seen;
  auto sub = t_.events.subscribe([&](const WorkerEvent& e) {
    seen.push_back(std::string(EventKindName(e.kind)) + ":" + std::to_string(e.pid));
  });
  auto w = make();
  make_ready(*w);
  const int pid = t_.spawner.last().pid;
  w->release(false, nullptr);
  t_.clock.run_pending();
  const std::string p = std::to_string(pid);
  EXPECT_EQ(seen, (std::vector<std::string>{"starting:0", "spawned:" + p, "ready:" + p, "stopping:" + p, "stopped:" + p}));
}

}  // namespace
}  // namespace kitty

namespace kitty {
namespace {

class WorkerExitTest : public WorkerPhasesTest {};

TEST_F(WorkerExitTest, EndsNobodyAskedForAreClassifiedAndCounted) {
  uint64_t oom = 3;
  t_.env.oom_counts = [&] { return OomCounts{oom, std::nullopt}; };
  auto w = make();
  make_ready(*w);
  t_.spawner.exit(t_.spawner.last().pid, ExitStatus{-1, SIGSEGV});
  t_.clock.advance(100ms);
  WorkerInfo i = w->info();
  ASSERT_TRUE(i.last_exit.has_value());
  EXPECT_EQ(i.last_exit->kind, "crash");
  EXPECT_EQ(i.last_exit->signal, SIGSEGV);
  EXPECT_NE(i.last_exit->message.find("SIGSEGV"), std::string::npos) << i.last_exit->message;
  // Ready again, then a SIGKILL kittyd did not send while the OOM counter moved.
  make_ready(*w);
  oom = 4;
  t_.spawner.exit(t_.spawner.last().pid, ExitStatus{-1, SIGKILL});
  t_.clock.advance(100ms);
  i = w->info();
  EXPECT_EQ(i.last_exit->kind, "oom_kill");
  EXPECT_NE(i.last_exit->message.find("system oom_kill 3 → 4"), std::string::npos) << i.last_exit->message;
  EXPECT_EQ(i.exits, (std::map<std::string, int>{{"crash", 1}, {"oom_kill", 1}}));
}

TEST_F(WorkerExitTest, StopsKittydAskedForAreNotRecorded) {
  auto w = make();
  make_ready(*w);
  w->release(false, nullptr);
  t_.clock.run_pending();
  t_.clock.advance(5s);
  EXPECT_EQ(w->state(), WorkerState::kStopped);
  EXPECT_FALSE(w->info().last_exit.has_value());
  EXPECT_TRUE(w->info().exits.empty());
}

TEST_F(WorkerExitTest, AnExitBeforeReadyIsAStartFailure) {
  auto w = make();
  w->ensure([](Result<Endpoint>) {});
  t_.spawner.exit(t_.spawner.last().pid, ExitStatus{1, 0});
  t_.clock.advance(100ms);
  ASSERT_TRUE(w->info().last_exit.has_value());
  EXPECT_EQ(w->info().last_exit->kind, "start_failure");
  EXPECT_EQ(w->info().last_exit->code, 1);
}

class WorkerRestartTest : public WorkerPhasesTest {
 protected:
  void crash() {
    t_.spawner.exit(t_.spawner.last().pid, ExitStatus{-1, SIGSEGV});
    t_.clock.advance(10ms);
  }
};

TEST_F(WorkerRestartTest, APinnedModelIsBackAfterACrashWithoutARequest) {
  config_.pinned = true;
  auto w = make();
  make_ready(*w);
  crash();
  EXPECT_EQ(w->info().restart.policy, "on-crash");
  ASSERT_TRUE(w->info().restart.next_in_seconds.has_value());
  EXPECT_NEAR(*w->info().restart.next_in_seconds, 5.0, 0.1);
  t_.clock.advance(4900ms);
  EXPECT_EQ(t_.spawner.spawn_count(), 1) << "not before its 5 s";
  t_.clock.advance(200ms);
  EXPECT_EQ(t_.spawner.spawn_count(), 2);
  t_.clock.advance(100ms);
  EXPECT_EQ(w->state(), WorkerState::kReady) << "no request asked for it";
}

TEST_F(WorkerRestartTest, FailedRunsInARowBackOffThenKittydGivesUpUntilAnEnsure) {
  config_.pinned = true;
  config_.max_restarts = 3;
  auto w = make();
  make_ready(*w);
  t_.http.answers[7001] = 503;  // from now on every run fails before it is ready
  crash();
  for (Duration due : {5s, 10s, 20s}) {
    const int spawned = t_.spawner.spawn_count();
    t_.clock.advance(due - 100ms);
    EXPECT_EQ(t_.spawner.spawn_count(), spawned) << "restarted before its " << ToSeconds(due) << " s";
    t_.clock.advance(200ms);
    ASSERT_EQ(t_.spawner.spawn_count(), spawned + 1);
    t_.spawner.exit(t_.spawner.last().pid, ExitStatus{1, 0});  // fails to start
    t_.clock.advance(10ms);
  }
  t_.clock.advance(600s);
  EXPECT_EQ(t_.spawner.spawn_count(), 4) << "three restarts, then no more";
  const WorkerInfo i = w->info();
  EXPECT_TRUE(i.restart.gave_up);
  EXPECT_FALSE(i.restart.next_in_seconds.has_value());
  EXPECT_EQ(i.state, WorkerState::kFailed);
  ASSERT_TRUE(i.last_error.has_value());
  EXPECT_NE(i.last_error->find("gave up restarting"), std::string::npos) << *i.last_error;
  // An ensure starts it again, with a fresh count.
  t_.http.answers[7001] = 200;
  make_ready(*w);
  EXPECT_FALSE(w->info().restart.gave_up);
  EXPECT_EQ(w->info().restart.attempts, 0);
}

TEST_F(WorkerRestartTest, ARunThatAnsweredARequestStartsTheCountAgain) {
  config_.pinned = true;
  config_.max_restarts = 1;
  auto w = make();
  make_ready(*w);
  crash();  // attempt 1 of 1
  t_.clock.advance(5100ms);
  t_.clock.advance(100ms);
  ASSERT_EQ(w->state(), WorkerState::kReady);
  { auto lease = w->gate().try_lease(); }  // a request answered on this run
  crash();
  EXPECT_FALSE(w->info().restart.gave_up) << "the run proved itself: the count started again";
  EXPECT_EQ(w->info().restart.attempts, 1);
}

TEST_F(WorkerRestartTest, AReleaseCancelsAQueuedRestartAndOtherModelsWaitForARequest) {
  config_.pinned = true;
  auto w = make();
  make_ready(*w);
  crash();
  bool done = false;
  w->release(false, [&] { done = true; });
  t_.clock.advance(10s);
  EXPECT_TRUE(done);
  EXPECT_EQ(t_.spawner.spawn_count(), 1);
  EXPECT_EQ(w->state(), WorkerState::kStopped);

  config_.pinned = false;  // the default for a plain model: its next request starts it
  auto plain = make();
  make_ready(*plain);
  crash();
  t_.clock.advance(600s);
  EXPECT_EQ(plain->info().restart.policy, "never");
  EXPECT_EQ(plain->state(), WorkerState::kFailed);
}

TEST_F(WorkerRestartTest, AReadyWorkerThatStopsAnsweringHealthIsKilledAsHungAndRestarted) {
  config_.pinned = true;
  auto w = make();
  make_ready(*w);
  const int first = t_.spawner.last().pid;
  t_.http.answers[7001] = 503;  // alive, but no longer answering
  t_.clock.advance(25s);
  EXPECT_EQ(w->state(), WorkerState::kReady) << "two failed probes are not three";
  t_.clock.advance(6s);
  ASSERT_TRUE(w->info().last_exit.has_value());
  EXPECT_EQ(w->info().last_exit->kind, "hung");
  EXPECT_EQ(w->info().exits.at("hung"), 1);
  EXPECT_EQ(t_.spawner.alive_count(), 0) << "its group was killed";
  t_.http.answers[7001] = 200;
  t_.clock.advance(5100ms);
  t_.clock.advance(100ms);
  EXPECT_EQ(w->state(), WorkerState::kReady) << "restarted by its policy";
  EXPECT_NE(t_.spawner.last().pid, first);
}

TEST_F(WorkerRestartTest, AWorkerServingRequestsIsNotHungForASlowHealthAnswer) {
  auto w = make();
  make_ready(*w);
  auto lease = w->gate().try_lease();  // a long request in flight, streaming
  t_.http.answers[7001] = 503;
  for (int i = 0; i < 60; ++i) {
    lease->progress();
    t_.clock.advance(1s);
  }
  EXPECT_EQ(w->state(), WorkerState::kReady);
  EXPECT_FALSE(w->info().last_exit.has_value());
}

TEST_F(WorkerRestartTest, AWorkerThatAnswersNeitherHealthNorItsRequestsIsHungAndTheyAreCut) {
  auto w = make();
  make_ready(*w);
  auto lease = w->gate().try_lease();  // frozen (a SIGSTOP): no byte comes for it
  std::optional<Error> cut;
  lease->on_cut([&](const Error& e) { cut = e; });
  t_.http.answers[7001] = 503;
  // The request began under 10 s before the first probe: that one does not count.
  t_.clock.advance(41s);
  ASSERT_TRUE(w->info().last_exit.has_value());
  EXPECT_EQ(w->info().last_exit->kind, "hung");
  ASSERT_TRUE(cut.has_value()) << "the request would wait for ever";
  EXPECT_EQ(cut->code, ErrorCode::kWorkerHung);
}

}  // namespace
}  // namespace kitty
