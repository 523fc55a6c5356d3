// Load progress of a starting worker (issue 12): the engine's lines move its phase, each move is
// a `loading` event, status shows it while it starts and not after, and the second load is
// measured against the first.
#include <gtest/gtest.h>

#include "kitty/testing/worker_fixture.h"
#include "kitty/worker/worker.h"

namespace kitty {
namespace {

using namespace std::chrono_literals;

using WorkerProgressTest = testing_util::WorkerFixture;

TEST_F(WorkerProgressTest, TheEngineLinesMoveThePhaseAndEachMoveIsAnEvent) {
  std::vector<WorkerEvent> loading;
  auto sub = t_.events.subscribe([&](const WorkerEvent& e) {
    if (e.kind == EventKind::kLoading) loading.push_back(e);
  });
  auto w = make();
  t_.http.answers[7001] = 503;
  w->ensure([](Result<Endpoint>) {});
  t_.clock.advance(1s);
  auto p = w->progress();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->phase, "starting");
  EXPECT_FALSE(p->fraction) << "nothing said and no earlier load: no fraction";
  EXPECT_FALSE(p->expected_seconds);
  EXPECT_NEAR(p->elapsed_seconds, 1.0, 0.05);

  w->log()->append("load_tensors: loading model tensors, this can take a while\n");
  t_.clock.run_pending();
  w->log()->append("load_tensors:   CPU model buffer size = 92 MiB\n");  // same phase: no event
  w->log()->append("llama_context: constructing llama_context\n");
  t_.clock.run_pending();
  ASSERT_EQ(loading.size(), 2u);
  EXPECT_EQ(loading[0].reason, "loading_tensors");
  EXPECT_EQ(loading[1].reason, "creating_context");
  ASSERT_TRUE(loading[1].fraction);
  EXPECT_GT(*loading[1].fraction, *loading[0].fraction);
  EXPECT_EQ(loading[1].pid, t_.spawner.last().pid);
  EXPECT_EQ(w->info().progress->phase, "creating_context");

  t_.http.answers[7001] = 200;
  t_.clock.advance(1s);  // 2 s in all
  ASSERT_EQ(w->state(), WorkerState::kReady);
  EXPECT_FALSE(w->progress());
  EXPECT_FALSE(w->info().progress);
}

TEST_F(WorkerProgressTest, ASecondLoadIsMeasuredAgainstTheFirst) {
  auto w = make();
  t_.http.answers[7001] = 503;
  w->ensure([](Result<Endpoint>) {});
  t_.clock.advance(4s);
  t_.http.answers[7001] = 200;
  t_.clock.advance(1s);
  ASSERT_EQ(w->state(), WorkerState::kReady);
  const double first = *w->info().load_seconds;
  w->release(false, [] {});
  t_.clock.advance(1s);
  ASSERT_EQ(w->state(), WorkerState::kStopped);

  t_.http.answers[7001] = 503;
  w->ensure([](Result<Endpoint>) {});
  t_.clock.advance(std::chrono::milliseconds(static_cast<int>(first * 500)));  // half the first load
  auto p = w->progress();
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->expected_seconds);
  EXPECT_DOUBLE_EQ(*p->expected_seconds, first);
  ASSERT_TRUE(p->fraction);
  EXPECT_NEAR(*p->fraction, 0.5, 0.05);
}

TEST_F(WorkerProgressTest, TheStartingEventOfALaterRunHasNoPidOfTheLastOne) {
  std::vector<WorkerEvent> starting;
  auto sub = t_.events.subscribe([&](const WorkerEvent& e) {
    if (e.kind == EventKind::kStarting) starting.push_back(e);
  });
  auto w = make();
  make_ready(*w);
  w->release(false, [] {});
  t_.clock.advance(1s);
  make_ready(*w);
  ASSERT_EQ(starting.size(), 2u);
  EXPECT_EQ(starting[0].pid, 0);
  EXPECT_EQ(starting[1].pid, 0);
}

}  // namespace
}  // namespace kitty
