// The worker state machine on a fake clock, fake spawner and fake HTTP: every timer and
// deadline is exercised in microseconds.
#include "kitty/worker/worker.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "kitty/testing/test_env.h"

namespace kitty {
namespace {

using namespace std::chrono_literals;

class WorkerTest : public ::testing::Test {
 protected:
  WorkerTest() : clock_(t_.clock), spawner_(t_.spawner), http_(t_.http) {
    config_.id = "qwen_32b";
    config_.backend = Backend::kCommand;
    config_.command = {"fake_engine"};
    config_.idle_shutdown_seconds = 10;
    config_.stop_timeout_seconds = 5;
    config_.start_timeout_seconds = 30;
  }

  std::shared_ptr<Worker> make() {
    return Worker::Create(config_, t_.env, [this](const ModelConfig&) -> Result<int> {
      if (port_error_) return *port_error_;
      return port_;
    });
  }

  // Acquires and returns the lease once ready (the worker answers health with 200).
  Lease acquire_ready(Worker& w) {
    http_.answers[port_] = 200;
    std::optional<Result<Lease>> got;
    w.acquire([&](Result<Lease> r) { got.emplace(std::move(r)); });
    clock_.advance(100ms);
    EXPECT_TRUE(got.has_value());
    EXPECT_TRUE(got->ok()) << (got->ok() ? "" : got->error().message);
    return std::move(got->value());
  }

  testing_util::TestEnv t_;
  FakeClock& clock_;
  FakeSpawner& spawner_;
  FakeWorkerHttp& http_;
  ModelConfig config_;
  int port_ = 7001;
  std::optional<Error> port_error_;
};

TEST_F(WorkerTest, AcquireStartsWaitsForHealthAndLeases) {
  auto w = make();
  std::optional<Result<Lease>> got;
  w->acquire([&](Result<Lease> r) { got.emplace(std::move(r)); });
  EXPECT_EQ(w->state(), WorkerState::kStarting);
  EXPECT_EQ(spawner_.spawn_count(), 1);

  // Loading: health answers 503 for a while; the request keeps waiting.
  http_.answers[port_] = 503;
  clock_.advance(2s);
  EXPECT_FALSE(got.has_value());
  EXPECT_EQ(w->state(), WorkerState::kStarting);

  http_.answers[port_] = 200;
  clock_.advance(300ms);  // the probe interval is capped at 250 ms
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok());
  EXPECT_EQ(got->value().endpoint().port, port_);
  EXPECT_EQ(w->state(), WorkerState::kReady);
  EXPECT_EQ(w->info().in_flight, 1);
  got.reset();
  EXPECT_EQ(w->info().in_flight, 0);
  EXPECT_EQ(w->info().requests_total, 1u);
}

TEST_F(WorkerTest, FirstProbeIsPrompt) {
  auto w = make();
  http_.answers[port_] = 200;
  bool ready = false;
  w->ensure([&](Result<Endpoint> r) { ready = r.ok(); });
  clock_.advance(10ms);
  EXPECT_TRUE(ready);
}

TEST_F(WorkerTest, ConcurrentAcquiresStartOneProcess) {
  auto w = make();
  std::vector<Lease> leases;
  for (int i = 0; i < 8; ++i)
    w->acquire([&](Result<Lease> r) {
      ASSERT_TRUE(r.ok());
      leases.push_back(std::move(r.value()));
    });
  http_.answers[port_] = 200;
  clock_.advance(1s);
  EXPECT_EQ(spawner_.spawn_count(), 1);
  EXPECT_EQ(leases.size(), 8u);
  EXPECT_EQ(w->info().in_flight, 8);
}

TEST_F(WorkerTest, IdleShutdownCountsFromEndOfLastRequest) {
  auto w = make();
  Lease l = acquire_ready(*w);
  // A long request: never idled out while in flight.
  clock_.advance(60s);
  EXPECT_EQ(w->state(), WorkerState::kReady);
  l.reset();
  clock_.advance(9s);
  EXPECT_EQ(w->state(), WorkerState::kReady);
  clock_.advance(1s + 1ms);
  EXPECT_EQ(spawner_.last().signals, std::vector<int>{SIGTERM});
  clock_.run_pending();
  EXPECT_EQ(w->state(), WorkerState::kStopped);
  EXPECT_EQ(spawner_.alive_count(), 0);
}

TEST_F(WorkerTest, IdleZeroMeansNever) {
  config_.idle_shutdown_seconds = 0;
  auto w = make();
  acquire_ready(*w);
  clock_.advance(100h);
  EXPECT_EQ(w->state(), WorkerState::kReady);
}

TEST_F(WorkerTest, NewRequestRestartsIdleCountdown) {
  auto w = make();
  acquire_ready(*w);
  clock_.advance(8s);
  { Lease again = acquire_ready(*w); }
  clock_.advance(8s);
  EXPECT_EQ(w->state(), WorkerState::kReady);
  clock_.advance(3s);
  EXPECT_EQ(w->state(), WorkerState::kStopped);
  EXPECT_EQ(spawner_.spawn_count(), 1);
}

TEST_F(WorkerTest, IgnoredSigtermIsFollowedBySigkillAtDeadline) {
  auto w = make();
  acquire_ready(*w);
  spawner_.last().ignore_sigterm = true;
  bool done = false;
  w->release(false, [&] { done = true; });
  clock_.advance(4900ms);
  EXPECT_FALSE(done);
  EXPECT_EQ(w->state(), WorkerState::kStopping);
  clock_.advance(200ms);
  EXPECT_TRUE(done);
  // A second SIGTERM halfway (llama-server's "terminate immediately"), then SIGKILL.
  EXPECT_EQ(spawner_.last().signals, (std::vector<int>{SIGTERM, SIGTERM, SIGKILL}));
  EXPECT_EQ(w->state(), WorkerState::kStopped);
}

TEST_F(WorkerTest, ShutdownPathIsPostedBeforeSigterm) {
  config_.shutdown_path = "/shutdown";
  auto w = make();
  acquire_ready(*w);
  bool done = false;
  // The worker answers /shutdown but does not exit by itself (the fake only dies of signals):
  // SIGTERM follows after a short grace.
  w->release(false, [&] { done = true; });
  clock_.run_pending();
  ASSERT_FALSE(http_.calls.empty());
  EXPECT_EQ(http_.calls.back().method, "POST");
  EXPECT_EQ(http_.calls.back().path, "/shutdown");
  EXPECT_TRUE(spawner_.last().signals.empty());
  clock_.advance(2600ms);
  EXPECT_EQ(spawner_.last().signals, std::vector<int>{SIGTERM});
  EXPECT_TRUE(done);
}

TEST_F(WorkerTest, HangingShutdownStillStops) {
  config_.shutdown_path = "/shutdown";
  auto w = make();
  acquire_ready(*w);
  http_.answers[port_] = FakeWorkerHttp::kHang;
  bool done = false;
  w->release(false, [&] { done = true; });
  clock_.advance(900ms);
  EXPECT_TRUE(spawner_.last().signals.empty());
  clock_.advance(200ms);  // the POST timed out after 1 s: SIGTERM
  EXPECT_EQ(spawner_.last().signals, std::vector<int>{SIGTERM});
  EXPECT_TRUE(done);
}

TEST_F(WorkerTest, GrandchildLeftInGroupIsKilled) {
  auto w = make();
  acquire_ready(*w);
  spawner_.last().leaves_grandchild = true;
  bool done = false;
  w->release(false, [&] { done = true; });
  clock_.advance(50ms);
  EXPECT_EQ(spawner_.last().signals, (std::vector<int>{SIGTERM, SIGKILL}));
  EXPECT_TRUE(done);
  EXPECT_EQ(spawner_.alive_count(), 0);
}

TEST_F(WorkerTest, ExitDuringStartFailsWithStatusAndLogTail) {
  auto w = make();
  std::optional<Result<Lease>> got;
  w->acquire([&](Result<Lease> r) { got.emplace(std::move(r)); });
  w->log()->append("loading model\nerror: failed to load model '/x.gguf'\n");
  spawner_.exit(spawner_.last().pid, ExitStatus{1, 0});
  clock_.run_pending();
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->ok());
  EXPECT_EQ(got->error().code, ErrorCode::kWorkerExited);
  EXPECT_NE(got->error().message.find("exited with status 1"), std::string::npos)
      << got->error().message;
  EXPECT_NE(got->error().message.find("failed to load model '/x.gguf'"), std::string::npos);
  EXPECT_EQ(w->state(), WorkerState::kFailed);
  ASSERT_TRUE(w->info().last_error.has_value());

  // Within the backoff a request fails fast with the kept error, without a new spawn.
  got.reset();
  w->acquire([&](Result<Lease> r) { got.emplace(std::move(r)); });
  clock_.run_pending();
  ASSERT_TRUE(got.has_value() && !got->ok());
  EXPECT_NE(got->error().message.find("next start attempt"), std::string::npos);
  EXPECT_EQ(spawner_.spawn_count(), 1);

  // After it, a new start is attempted.
  clock_.advance(1100ms);
  got.reset();
  w->acquire([&](Result<Lease> r) { got.emplace(std::move(r)); });
  EXPECT_EQ(spawner_.spawn_count(), 2);
}

TEST_F(WorkerTest, AutoPortLostToAnotherProcessIsRetriedOnAnotherPort) {
  config_.port = 0;  // auto
  int next_port = 7001;
  auto w = Worker::Create(config_, t_.env, [&](const ModelConfig&) -> Result<int> { return next_port++; });
  std::optional<Result<Lease>> got;
  w->acquire([&](Result<Lease> r) { got.emplace(std::move(r)); });
  t_.ports.taken.insert(7001);  // a listener of another process got there first
  spawner_.exit(spawner_.last().pid, ExitStatus{1, 0});
  http_.answers[7002] = 200;
  clock_.advance(100ms);
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok()) << got->error().message;
  EXPECT_EQ(got->value().endpoint().port, 7002);
  EXPECT_EQ(spawner_.spawn_count(), 2);
  EXPECT_EQ(w->state(), WorkerState::kReady);
}

TEST_F(WorkerTest, AutoPortHeldByALiveConnectionIsRetriedFromTheWorkersOwnWords) {
  // A port held by another process's live outgoing connection looks free to a probe, but the
  // worker's bind fails (issue 8): its "address already in use" is what tells.
  config_.port = 0;
  int next_port = 7001;
  auto w = Worker::Create(config_, t_.env, [&](const ModelConfig&) -> Result<int> { return next_port++; });
  std::optional<Result<Lease>> got;
  w->acquire([&](Result<Lease> r) { got.emplace(std::move(r)); });
  w->log()->append("error: bind: Address already in use\n");
  spawner_.exit(spawner_.last().pid, ExitStatus{1, 0});
  http_.answers[7002] = 200;
  clock_.advance(100ms);
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok()) << got->error().message;
  EXPECT_EQ(got->value().endpoint().port, 7002);
}

TEST_F(WorkerTest, AFixedPortIsNeverRetriedElsewhere) {
  config_.port = 7001;
  auto w = make();
  std::optional<Result<Lease>> got;
  w->acquire([&](Result<Lease> r) { got.emplace(std::move(r)); });
  w->log()->append("error: bind: Address already in use\n");
  spawner_.exit(spawner_.last().pid, ExitStatus{1, 0});
  clock_.run_pending();
  ASSERT_TRUE(got.has_value() && !got->ok());
  EXPECT_EQ(got->error().code, ErrorCode::kWorkerExited);
  EXPECT_EQ(spawner_.spawn_count(), 1);
}

TEST_F(WorkerTest, StartTimeoutKillsAndFails) {
  auto w = make();
  http_.answers[port_] = 503;
  std::optional<Result<Endpoint>> got;
  w->ensure([&](Result<Endpoint> r) { got.emplace(std::move(r)); });
  clock_.advance(29s);
  EXPECT_FALSE(got.has_value());
  clock_.advance(2s);
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(got->ok());
  EXPECT_EQ(got->error().code, ErrorCode::kStartTimeout);
  EXPECT_NE(got->error().message.find("HTTP 503"), std::string::npos) << got->error().message;
  EXPECT_EQ(spawner_.last().signals, std::vector<int>{SIGKILL});
  EXPECT_EQ(w->state(), WorkerState::kFailed);
  EXPECT_EQ(spawner_.alive_count(), 0);
}

TEST_F(WorkerTest, PortErrorFailsWithoutSpawning) {
  port_error_ =
      MakeError("port 7001 on 127.0.0.1 is already in use by another process", ErrorCode::kPortInUse);
  auto w = make();
  std::optional<Result<Lease>> got;
  w->acquire([&](Result<Lease> r) { got.emplace(std::move(r)); });
  clock_.run_pending();
  ASSERT_TRUE(got.has_value() && !got->ok());
  EXPECT_NE(got->error().message.find("already in use"), std::string::npos);
  EXPECT_EQ(spawner_.spawn_count(), 0);
}

TEST_F(WorkerTest, GracefulReleaseWaitsForRequestsInFlight) {
  auto w = make();
  Lease l = acquire_ready(*w);
  bool done = false;
  w->release(false, [&] { done = true; });
  clock_.advance(1h);
  EXPECT_FALSE(done);
  EXPECT_TRUE(spawner_.last().signals.empty());
  EXPECT_EQ(w->state(), WorkerState::kStopping);
  l.reset();
  clock_.run_pending();
  EXPECT_TRUE(done);
  EXPECT_EQ(w->state(), WorkerState::kStopped);
}

TEST_F(WorkerTest, ForcedReleaseCutsRequestsInFlight) {
  auto w = make();
  Lease l = acquire_ready(*w);
  bool cut = false, done = false;
  l.on_cut([&](const Error&) { cut = true; });
  w->release(true, [&] { done = true; });
  clock_.run_pending();
  EXPECT_TRUE(cut);
  EXPECT_TRUE(done);
  EXPECT_EQ(w->info().in_flight, 0);
  l.reset();  // ending a cut lease is harmless
  EXPECT_EQ(w->state(), WorkerState::kStopped);
}

TEST_F(WorkerTest, RequestDuringStopRestartsAfterwards) {
  auto w = make();
  acquire_ready(*w);
  spawner_.last().ignore_sigterm = true;
  w->release(false, nullptr);
  clock_.run_pending();
  std::optional<Result<Lease>> got;
  w->acquire([&](Result<Lease> r) { got.emplace(std::move(r)); });
  clock_.advance(6s);  // SIGKILL at the deadline, then a fresh start
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->ok());
  EXPECT_EQ(spawner_.spawn_count(), 2);
}

TEST_F(WorkerTest, ReleaseWhileStartingFailsWaiters) {
  auto w = make();
  std::optional<Result<Lease>> got;
  w->acquire([&](Result<Lease> r) { got.emplace(std::move(r)); });
  bool done = false;
  w->release(false, [&] { done = true; });
  clock_.run_pending();
  ASSERT_TRUE(got.has_value() && !got->ok());
  EXPECT_EQ(got->error().code, ErrorCode::kWorkerStopping);
  EXPECT_TRUE(done);
  EXPECT_EQ(w->state(), WorkerState::kStopped);
}

TEST_F(WorkerTest, CrashWhileReadyCutsLeasesAndNextRequestRestarts) {
  auto w = make();
  Lease l = acquire_ready(*w);
  bool cut = false;
  l.on_cut([&](const Error&) { cut = true; });
  spawner_.exit(spawner_.last().pid, ExitStatus{-1, SIGSEGV});
  clock_.run_pending();
  EXPECT_TRUE(cut);
  EXPECT_EQ(w->state(), WorkerState::kFailed);
  ASSERT_TRUE(w->info().last_error.has_value());
  EXPECT_NE(w->info().last_error->find("unexpectedly"), std::string::npos);
  l.reset();
  Lease again = acquire_ready(*w);
  EXPECT_EQ(spawner_.spawn_count(), 2);
  EXPECT_EQ(w->state(), WorkerState::kReady);
}

TEST_F(WorkerTest, HoldKeepsWorkerFromIdlingAndExpires) {
  config_.idle_shutdown_seconds = 1;
  auto w = make();
  acquire_ready(*w);
  std::string hold = w->add_hold(5, "graph");
  clock_.advance(3s);
  EXPECT_TRUE(w->renew_hold(hold));
  clock_.advance(4s);
  EXPECT_EQ(w->state(), WorkerState::kReady);
  ASSERT_EQ(w->info().holds.size(), 1u);
  // Not renewed: the lease runs out, then the idle countdown starts.
  clock_.advance(1s + 10ms);
  EXPECT_TRUE(w->info().holds.empty());
  EXPECT_EQ(w->state(), WorkerState::kReady);
  clock_.advance(1s);
  EXPECT_EQ(w->state(), WorkerState::kStopped);
}

TEST_F(WorkerTest, DroppingHoldStartsIdleCountdown) {
  config_.idle_shutdown_seconds = 1;
  auto w = make();
  acquire_ready(*w);
  std::string hold = w->add_hold(30, "");
  clock_.advance(10s);
  EXPECT_EQ(w->state(), WorkerState::kReady);
  EXPECT_TRUE(w->drop_hold(hold));
  EXPECT_FALSE(w->drop_hold(hold));
  clock_.advance(1100ms);
  EXPECT_EQ(w->state(), WorkerState::kStopped);
}

TEST_F(WorkerTest, ReleaseOfStoppedWorkerCompletes) {
  auto w = make();
  bool done = false;
  w->release(true, [&] { done = true; });
  clock_.run_pending();
  EXPECT_TRUE(done);
  EXPECT_EQ(spawner_.spawn_count(), 0);
}

}  // namespace
}  // namespace kitty
