#include "kitty/sched/capacity.h"

#include <gtest/gtest.h>

namespace kitty::sched {
namespace {

constexpr uint64_t MiB = 1ull << 20;

TEST(MaxResidentTest, CountsTheSmallestThatFitTogether) {
  // 1 GiB: 300 + 300 + 400 fit, the 600 does not join them.
  EXPECT_EQ(MaxResident({600 * MiB, 300 * MiB, 400 * MiB, 300 * MiB}, 1024 * MiB, 0), 3);
  EXPECT_EQ(MaxResident({600 * MiB, 600 * MiB}, 1024 * MiB, 0), 1);
}

TEST(MaxResidentTest, MaxModelsCaps) {
  EXPECT_EQ(MaxResident({100 * MiB, 100 * MiB, 100 * MiB}, 1024 * MiB, 2), 2);
}

TEST(MaxResidentTest, UnknownFootprintsAndUnknownCapacityFit) {
  EXPECT_EQ(MaxResident({std::nullopt, 900 * MiB, std::nullopt}, 1024 * MiB, 0), 3);
  EXPECT_EQ(MaxResident({900 * MiB, 900 * MiB}, std::nullopt, 0), 2);
}

TEST(MaxResidentTest, OneModelIsAlwaysTriedAndNoModelsIsZero) {
  EXPECT_EQ(MaxResident({4096 * MiB}, 1024 * MiB, 0), 1);
  EXPECT_EQ(MaxResident({}, 1024 * MiB, 0), 0);
}

TEST(UsageFractionTest, IsAShareFromZeroToOne) {
  EXPECT_DOUBLE_EQ(UsageFraction(256 * MiB, 1024 * MiB), 0.25);
  EXPECT_DOUBLE_EQ(UsageFraction(2048 * MiB, 1024 * MiB), 1.0);
  EXPECT_DOUBLE_EQ(UsageFraction(0, 0), 0.0);
}

}  // namespace
}  // namespace kitty::sched
