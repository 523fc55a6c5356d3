#include "kitty/sched/plan.h"

#include <gtest/gtest.h>

namespace kitty::sched {
namespace {

constexpr uint64_t MiB = 1ull << 20;

Holder H(std::string id, uint64_t mib, EvictionClass cls, int priority = 0, double last_used = 0) {
  Holder h;
  h.id = std::move(id);
  h.bytes = mib * MiB;
  h.cls = cls;
  h.priority = priority;
  h.last_used = last_used;
  return h;
}

TEST(SchedClassTest, ClassesFollowTheIdlePeriod) {
  ClassInputs in;
  in.idle_period_seconds = 100;
  in.idle_seconds = 10;
  EXPECT_EQ(ClassOf(in), EvictionClass::kWarm);
  in.idle_seconds = 60;
  EXPECT_EQ(ClassOf(in), EvictionClass::kIdle);
  in.idle_seconds = 100;
  EXPECT_EQ(ClassOf(in), EvictionClass::kEvictable);
  in.pressure_evict_only = true;
  EXPECT_EQ(ClassOf(in), EvictionClass::kIdle) << "pressure-only models never become evictable by age";
  in.busy = true;
  EXPECT_EQ(ClassOf(in), EvictionClass::kActive);
  in.busy = false;
  in.pinned = true;
  EXPECT_EQ(ClassOf(in), EvictionClass::kActive);
}

TEST(SchedOrderTest, ClassThenPriorityThenLeastRecentlyUsed) {
  std::vector<Holder> hs = {H("warm-old", 1, EvictionClass::kWarm, 0, 1),
                            H("idle-new", 1, EvictionClass::kIdle, 0, 9),
                            H("evictable-hi", 1, EvictionClass::kEvictable, 5, 1),
                            H("evictable-lo-new", 1, EvictionClass::kEvictable, 0, 8),
                            H("evictable-lo-old", 1, EvictionClass::kEvictable, 0, 2),
                            H("active", 1, EvictionClass::kActive)};
  Holder pinned = H("pinned", 1, EvictionClass::kEvictable);
  pinned.pinned = true;
  hs.push_back(pinned);
  std::vector<std::string> order;
  for (const Holder* h : EvictionOrder(hs)) order.push_back(h->id);
  EXPECT_EQ(order, (std::vector<std::string>{"evictable-lo-old", "evictable-lo-new", "evictable-hi",
                                             "idle-new", "warm-old"}));
}

TEST(SchedPlanTest, FitsNow) {
  auto p = PlanStart(400 * MiB, {H("a", 400, EvictionClass::kIdle)}, Room{int64_t(600 * MiB), 1, 0});
  EXPECT_EQ(p.kind, StartPlan::Kind::kStart);
  EXPECT_TRUE(p.evict.empty());
}

TEST(SchedPlanTest, TheThirdOf3x400MiBIn1GiBEvictsTheLeastRecentlyUsed) {
  std::vector<Holder> hs = {H("a", 400, EvictionClass::kWarm, 0, 1), H("b", 400, EvictionClass::kWarm, 0, 2)};
  auto p = PlanStart(400 * MiB, hs, Room{int64_t(224 * MiB), 2, 0});
  ASSERT_EQ(p.kind, StartPlan::Kind::kEvict);
  EXPECT_EQ(p.evict, std::vector<std::string>{"a"});
}

TEST(SchedPlanTest, BusyModelsAreWaitedForNeverEvicted) {
  std::vector<Holder> hs = {H("a", 400, EvictionClass::kActive), H("b", 400, EvictionClass::kActive)};
  auto p = PlanStart(400 * MiB, hs, Room{int64_t(224 * MiB), 2, 0});
  EXPECT_EQ(p.kind, StartPlan::Kind::kWait);
  EXPECT_TRUE(p.evict.empty());
  EXPECT_NE(p.why.find("in use: a (400 MiB), b (400 MiB)"), std::string::npos) << p.why;
}

TEST(SchedPlanTest, NothingIsStoppedUnlessItWouldBeEnough) {
  // Evicting the idle one alone would not make room while the busy one holds the rest.
  std::vector<Holder> hs = {H("idle", 200, EvictionClass::kIdle), H("busy", 600, EvictionClass::kActive)};
  auto p = PlanStart(800 * MiB, hs, Room{int64_t(224 * MiB), 2, 0});
  EXPECT_EQ(p.kind, StartPlan::Kind::kWait);
  EXPECT_TRUE(p.evict.empty());
}

TEST(SchedPlanTest, PinnedMemoryIsNoRoomAndSaysSo) {
  Holder pinned = H("main", 700, EvictionClass::kActive);
  pinned.pinned = true;
  auto p = PlanStart(400 * MiB, {pinned}, Room{int64_t(324 * MiB), 1, 0});
  EXPECT_EQ(p.kind, StartPlan::Kind::kNoRoom);
  EXPECT_NE(p.why.find("pinned: main (700 MiB)"), std::string::npos) << p.why;
}

TEST(SchedPlanTest, WhatIsAlreadyStoppingIsWaitedForNotDoubled) {
  Holder going = H("going", 400, EvictionClass::kEvictable);
  going.stopping = true;
  std::vector<Holder> hs = {going, H("idle", 400, EvictionClass::kIdle)};
  auto p = PlanStart(400 * MiB, hs, Room{int64_t(100 * MiB), 1, 0});
  EXPECT_EQ(p.kind, StartPlan::Kind::kWait);
  EXPECT_TRUE(p.evict.empty()) << "the stopping model's memory is enough";
}

TEST(SchedPlanTest, MaxModelsEvictsByTheSameOrder) {
  std::vector<Holder> hs = {H("a", 10, EvictionClass::kWarm, 0, 5), H("b", 10, EvictionClass::kIdle, 0, 9)};
  auto p = PlanStart(10 * MiB, hs, Room{int64_t(10000 * MiB), 2, 2});
  ASSERT_EQ(p.kind, StartPlan::Kind::kEvict);
  EXPECT_EQ(p.evict, std::vector<std::string>{"b"}) << "IDLE goes before WARM";
}

TEST(SchedPlanTest, NoRoomNamesTheModelCountWhenThatIsTheLimit) {
  Holder a = H("a", 10, EvictionClass::kActive), b = H("b", 10, EvictionClass::kActive);
  a.pinned = b.pinned = true;
  auto p = PlanStart(10 * MiB, {a, b}, Room{int64_t(10000 * MiB), 2, 2});
  ASSERT_EQ(p.kind, StartPlan::Kind::kNoRoom);
  EXPECT_EQ(p.why, "memory.max_models (2) are running; pinned: a (10 MiB), b (10 MiB)");
  auto w = PlanStart(10 * MiB, {H("a", 10, EvictionClass::kActive), H("b", 10, EvictionClass::kActive)},
                     Room{int64_t(10000 * MiB), 2, 2});
  ASSERT_EQ(w.kind, StartPlan::Kind::kWait);
  EXPECT_EQ(w.why, "memory.max_models (2) are running; in use: a (10 MiB), b (10 MiB)");
}

TEST(SchedPlanTest, UnknownFootprintOnlyAnswersToMaxModels) {
  EXPECT_EQ(PlanStart(std::nullopt, {}, Room{-5, 0, 0}).kind, StartPlan::Kind::kStart);
  auto p = PlanStart(std::nullopt, {H("a", 1, EvictionClass::kActive)}, Room{0, 1, 1});
  EXPECT_EQ(p.kind, StartPlan::Kind::kWait);
}

TEST(SchedPlanTest, TooBigForTheWholeBudgetIsNoRoom) {
  auto p = PlanStart(5000 * MiB, {H("a", 400, EvictionClass::kIdle)}, Room{int64_t(600 * MiB), 1, 0});
  EXPECT_EQ(p.kind, StartPlan::Kind::kNoRoom);
  EXPECT_NE(p.why.find("needs 4.9 GiB"), std::string::npos) << p.why;
}

TEST(SchedReleaseTest, FreesEnoughInEvictionOrder) {
  std::vector<Holder> hs = {H("w", 300, EvictionClass::kWarm), H("e", 100, EvictionClass::kEvictable),
                            H("i", 200, EvictionClass::kIdle), H("act", 900, EvictionClass::kActive)};
  EXPECT_EQ(PlanRelease(250 * MiB, hs), (std::vector<std::string>{"e", "i"}));
  EXPECT_EQ(PlanRelease(5000 * MiB, hs), (std::vector<std::string>{"e", "i", "w"}))
      << "never the active one, even if short";
  EXPECT_TRUE(PlanRelease(0, hs).empty());
}

}  // namespace
}  // namespace kitty::sched
