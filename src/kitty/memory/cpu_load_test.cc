#include "kitty/memory/cpu_load.h"

#include <gtest/gtest.h>

namespace kitty {
namespace {

TEST(CpuLoad, BusyPercentIsTheShareOfTheDifference) {
  // The counters before were mostly idle; only the difference counts.
  auto p = BusyPercent(CpuTimes{100, 1000}, CpuTimes{175, 1100});
  ASSERT_TRUE(p.has_value());
  EXPECT_DOUBLE_EQ(*p, 75.0);
  EXPECT_DOUBLE_EQ(*BusyPercent(CpuTimes{0, 0}, CpuTimes{0, 50}), 0.0);
  EXPECT_DOUBLE_EQ(*BusyPercent(CpuTimes{0, 0}, CpuTimes{50, 50}), 100.0);
}

TEST(CpuLoad, NoFigureWithoutTimePassingOrWhenCountersGoBack) {
  EXPECT_FALSE(BusyPercent(CpuTimes{10, 100}, CpuTimes{10, 100}).has_value());
  EXPECT_FALSE(BusyPercent(CpuTimes{10, 100}, CpuTimes{20, 90}).has_value());
  EXPECT_FALSE(BusyPercent(CpuTimes{10, 100}, CpuTimes{5, 200}).has_value());
}

TEST(CpuLoad, BusyOutgrowingTotalIsCapped) {
  EXPECT_DOUBLE_EQ(*BusyPercent(CpuTimes{0, 0}, CpuTimes{120, 100}), 100.0);
}

TEST(CpuLoad, ReadingTwiceGivesAFigureOrNoTimePassed) {
  auto a = ReadCpuTimes();
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_GT(a->total, 0u);
  EXPECT_LE(a->busy, a->total);
  auto b = ReadCpuTimes();
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_GE(b->total, a->total);
  if (auto p = BusyPercent(*a, *b)) {
    EXPECT_GE(*p, 0.0);
    EXPECT_LE(*p, 100.0);
  }
}

}  // namespace
}  // namespace kitty
