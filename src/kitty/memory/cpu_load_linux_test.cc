#include <gtest/gtest.h>

#include "kitty/memory/cpu_load_linux.h"

namespace kitty {
namespace {

TEST(CpuLoadLinux, ParsesTheAggregateLine) {
  // The shape of a 6.x kernel's /proc/stat, cut short. guest (1000) and guest_nice (100) are already
  // inside user and nice, so they must not be added again.
  const std::string text =
      "cpu  10132153 290696 3084719 46828483 16683 0 25195 500 1000 100\n"
      "cpu0 1393280 32966 572056 13343292 6130 0 17875 0 0 0\n"
      "intr 199292 0 0\n";
  auto t = ParseProcStatCpu(text);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->busy, 10132153u + 290696u + 3084719u + 0u + 25195u + 500u);
  EXPECT_EQ(t->total, t->busy + 46828483u + 16683u);
}

TEST(CpuLoadLinux, OldKernelsWithFewerFieldsCountTheMissingAsZero) {
  auto t = ParseProcStatCpu("cpu  100 20 30 400\n");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->busy, 150u);
  EXPECT_EQ(t->total, 550u);
}

TEST(CpuLoadLinux, MalformedTextIsAnError) {
  EXPECT_FALSE(ParseProcStatCpu("").ok());
  EXPECT_FALSE(ParseProcStatCpu("cpu0 1 2 3 4\n").ok()) << "a per-core line is not the aggregate";
  EXPECT_FALSE(ParseProcStatCpu("cpu  1 2 x\n").ok());
  EXPECT_FALSE(ParseProcStatCpu("intr 1 2 3 4\n").ok());
}

TEST(CpuLoadLinux, BusyShareBetweenTwoReadings) {
  auto a = ParseProcStatCpu("cpu  100 0 100 800 0 0 0 0 0 0\n");
  auto b = ParseProcStatCpu("cpu  180 0 120 890 10 0 0 0 0 0\n");
  ASSERT_TRUE(a.ok() && b.ok());
  // 100 busy ticks out of 200: 50%. iowait counts as not busy.
  EXPECT_DOUBLE_EQ(*BusyPercent(*a, *b), 50.0);
}

}  // namespace
}  // namespace kitty
