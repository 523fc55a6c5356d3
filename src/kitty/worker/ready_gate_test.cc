#include "kitty/worker/ready_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "kitty/base/asio_clock.h"
#include "kitty/testing/fake_clock.h"

namespace kitty {
namespace {

class ReadyGateTest : public ::testing::Test {
 protected:
  ReadyGateTest() : gate_(ReadyGate::Create(&clock_, [this] { ++drained_; })) {}
  FakeClock clock_;
  int drained_ = 0;
  std::shared_ptr<ReadyGate> gate_;
};

TEST_F(ReadyGateTest, ClosedGateGivesNoLease) { EXPECT_FALSE(gate_->try_lease()); }

TEST_F(ReadyGateTest, LeasesAreCountedAndTheirEndTimed) {
  gate_->open({"127.0.0.1", 7001, 42});
  auto a = gate_->try_lease();
  auto b = gate_->try_lease();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->endpoint().pid, 42);
  EXPECT_EQ(gate_->stats().in_flight, 2);
  EXPECT_EQ(gate_->stats().requests_total, 2u);
  clock_.advance(std::chrono::seconds(3));
  a->reset();
  b->reset();
  clock_.run_pending();
  EXPECT_EQ(gate_->stats().in_flight, 0);
  EXPECT_EQ(gate_->stats().last_end, clock_.now());
  EXPECT_EQ(drained_, 0) << "an open gate announces nothing: the idle timer looks";
  EXPECT_EQ(clock_.pending_timers(), 0u);
}

TEST_F(ReadyGateTest, ClosingWaitsForLeasesThenTellsDrained) {
  gate_->open({"127.0.0.1", 7001, 42});
  auto a = gate_->try_lease();
  EXPECT_EQ(gate_->close(), 1);
  EXPECT_FALSE(gate_->try_lease());
  EXPECT_FALSE(gate_->close_if_idle());
  a->reset();
  clock_.run_pending();
  EXPECT_EQ(drained_, 1);
}

TEST_F(ReadyGateTest, CloseIfIdleRefusesWhileALeaseIsOut) {
  gate_->open({"127.0.0.1", 7001, 42});
  auto a = gate_->try_lease();
  EXPECT_FALSE(gate_->close_if_idle());
  EXPECT_TRUE(gate_->is_open());
  a->reset();
  EXPECT_TRUE(gate_->close_if_idle());
  EXPECT_FALSE(gate_->is_open());
}

TEST_F(ReadyGateTest, CutCallsEveryHandlerAndLateHandlersLearnToo) {
  gate_->open({"127.0.0.1", 7001, 42});
  auto a = gate_->try_lease();
  auto b = gate_->try_lease();
  Error got_a;
  a->on_cut([&](const Error& e) { got_a = e; });
  gate_->cut(MakeError("worker died", ErrorCode::kWorkerCrashed));
  EXPECT_EQ(got_a.code, ErrorCode::kWorkerCrashed);
  EXPECT_EQ(gate_->stats().in_flight, 0);
  Error got_b;
  b->on_cut([&](const Error& e) { got_b = e; });  // installed after the cut
  EXPECT_EQ(got_b.code, ErrorCode::kWorkerCrashed);
  a->reset();  // ending a cut lease changes nothing
  b->reset();
  clock_.run_pending();
  EXPECT_EQ(drained_, 0);
}

TEST(ReadyGateThreadsTest, LeasesFromManyThreadsAreCountedExactly) {
  // The real clock: its post() is thread-safe, as the gate's notifications need.
  boost::asio::io_context io;
  AsioClock clock(io);
  std::atomic<int> drained{0};
  auto gate_ = ReadyGate::Create(&clock, [&] { ++drained; });
  gate_->open({"127.0.0.1", 7001, 42});
  std::atomic<int> got{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i)
        if (auto l = gate_->try_lease()) ++got;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(got.load(), 8000);
  EXPECT_EQ(gate_->stats().in_flight, 0);
  EXPECT_EQ(gate_->stats().requests_total, 8000u);
  gate_->close();
  io.run();
  EXPECT_EQ(drained.load(), 0) << "closed with nothing in flight: no lease ended after it";
}

}  // namespace
}  // namespace kitty
