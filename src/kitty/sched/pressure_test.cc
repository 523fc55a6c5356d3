#include "kitty/sched/pressure.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kitty::sched {
namespace {

using ::testing::HasSubstr;
using std::chrono::seconds;

constexpr uint64_t GiB = 1ull << 30;

// Samples on a timeline of whole seconds from an arbitrary origin.
PressureSample At(int s) {
  PressureSample p;
  p.at = TimePoint{} + seconds(1000 + s);
  p.wall = WallTime{} + seconds(1'700'000'000 + s);
  return p;
}

PressureSample Ram(int s, uint64_t total, uint64_t available) {
  PressureSample p = At(s);
  p.ram = RamUse{total, available};
  return p;
}

PressureSample Cpu(int s, double busy) {
  PressureSample p = At(s);
  p.cpu_busy_percent = busy;
  return p;
}

GpuUse Gpu(int index, uint64_t total, uint64_t used, std::optional<uint64_t> budget = std::nullopt) {
  GpuUse g;
  g.index = index;
  g.name = "NVIDIA H200";
  g.total_bytes = total;
  g.used_bytes = used;
  g.budget_bytes = budget;
  return g;
}

TEST(PressureRam, OverTheThresholdNamesTheFiguresAndWhatToFree) {
  PressureMonitor m{PressureConfig{}};
  EXPECT_EQ(m.update(Ram(0, 100 * GiB, 7 * GiB)), 1u);  // 93 GiB used, threshold 90 GiB
  EXPECT_TRUE(m.state().ram);
  EXPECT_EQ(m.state().ram_to_free_bytes, 3 * GiB);
  ASSERT_EQ(m.events().size(), 1u);
  EXPECT_EQ(m.events()[0].kind, "ram");
  EXPECT_EQ(m.events()[0].at, At(0).wall);
  EXPECT_EQ(m.events()[0].message, "RAM 93% in use (threshold 90%): 93 GiB of 100 GiB, 3 GiB to free");
}

TEST(PressureRam, AtTheThresholdIsNotPressureSoFreeingExactlyEnoughRelieves) {
  PressureMonitor m{PressureConfig{}};
  m.update(Ram(0, 100 * GiB, 7 * GiB));
  const uint64_t freed = m.state().ram_to_free_bytes;
  m.update(Ram(1, 100 * GiB, 7 * GiB + freed));
  EXPECT_FALSE(m.state().ram);
  EXPECT_EQ(m.state().ram_to_free_bytes, 0u);
  m.update(Ram(2, 100 * GiB, 10 * GiB - 1));
  EXPECT_TRUE(m.state().ram) << "one byte over";
  EXPECT_EQ(m.state().ram_to_free_bytes, 1u);
}

TEST(PressureRam, UnknownFiguresAreNoPressure) {
  PressureMonitor m{PressureConfig{}};
  EXPECT_EQ(m.update(At(0)), 0u);
  m.update(Ram(1, 0, 0));
  EXPECT_FALSE(m.state().any());
  EXPECT_TRUE(m.events().empty());
}

TEST(PressureRam, ConfiguredThreshold) {
  PressureConfig c;
  c.ram_percent = 50;
  PressureMonitor m{c};
  m.update(Ram(0, 16 * GiB, 6 * GiB));
  EXPECT_TRUE(m.state().ram);
  EXPECT_EQ(m.state().ram_to_free_bytes, 2 * GiB);
  EXPECT_THAT(m.events().back().message, HasSubstr("(threshold 50%)"));
}

TEST(PressureDebounce, OneEventPerKindPerMinuteWhileItStaysOn) {
  PressureMonitor m{PressureConfig{}};
  EXPECT_EQ(m.update(Ram(0, 100 * GiB, 5 * GiB)), 1u);
  for (int s = 2; s < 60; s += 2) EXPECT_EQ(m.update(Ram(s, 100 * GiB, 5 * GiB)), 0u) << s;
  EXPECT_TRUE(m.state().ram) << "the flag stays on while the events are debounced";
  EXPECT_EQ(m.update(Ram(60, 100 * GiB, 4 * GiB)), 1u);
  ASSERT_EQ(m.events().size(), 2u);
  EXPECT_THAT(m.events()[1].message, HasSubstr("RAM 96%")) << "the figures of the later sample";
}

TEST(PressureDebounce, FlappingOffAndOnWithinAMinuteAddsNoEvent) {
  PressureMonitor m{PressureConfig{}};
  m.update(Ram(0, 100 * GiB, 5 * GiB));
  m.update(Ram(10, 100 * GiB, 50 * GiB));
  EXPECT_FALSE(m.state().ram);
  EXPECT_EQ(m.update(Ram(20, 100 * GiB, 5 * GiB)), 0u);
  EXPECT_TRUE(m.state().ram);
  EXPECT_EQ(m.update(Ram(61, 100 * GiB, 5 * GiB)), 1u);
}

TEST(PressureDebounce, KindsAreDebouncedApart) {
  PressureMonitor m{PressureConfig{}};
  m.update(Ram(0, 100 * GiB, 5 * GiB));
  PressureSample s = Ram(1, 100 * GiB, 5 * GiB);
  s.disks = {{"/var/lib/kitty", 1 * GiB}};
  EXPECT_EQ(m.update(s), 1u) << "disk's first event is not held back by ram's";
  EXPECT_EQ(m.events().back().kind, "disk");
}

TEST(PressureEvents, KeepsTheLast64NewestLast) {
  PressureMonitor m{PressureConfig{}};
  for (int i = 0; i < 70; ++i) m.update(Ram(i * 60, 100 * GiB, 5 * GiB));
  ASSERT_EQ(m.events().size(), PressureMonitor::kEventsKept);
  EXPECT_EQ(m.events().front().at, At(6 * 60).wall);
  EXPECT_EQ(m.events().back().at, At(69 * 60).wall);
}

TEST(PressureGpu, AnyGpuOverItsThresholdWithWhatToFreeOnEach) {
  PressureMonitor m{PressureConfig{}};
  PressureSample s = At(0);
  s.gpus = {Gpu(0, 100 * GiB, 88 * GiB), Gpu(1, 100 * GiB, 10 * GiB)};
  EXPECT_EQ(m.update(s), 1u);
  EXPECT_TRUE(m.state().gpu);
  ASSERT_EQ(m.state().gpus.size(), 2u);
  EXPECT_TRUE(m.state().gpus[0].over);
  EXPECT_EQ(m.state().gpus[0].to_free_bytes, 3 * GiB);
  EXPECT_FALSE(m.state().gpus[1].over);
  EXPECT_EQ(m.state().gpus[1].to_free_bytes, 0u);
  EXPECT_EQ(m.events().back().kind, "gpu");
  EXPECT_EQ(m.events().back().message,
            "GPU 0 (NVIDIA H200) 88% in use (threshold 85%): 88 GiB of 100 GiB, 3 GiB to free");
}

TEST(PressureGpu, OverItsBudgetThoughUnderTheThreshold) {
  PressureMonitor m{PressureConfig{}};
  PressureSample s = At(0);
  s.gpus = {Gpu(0, 100 * GiB, 70 * GiB, 64 * GiB)};
  m.update(s);
  EXPECT_TRUE(m.state().gpu);
  EXPECT_EQ(m.state().gpus[0].to_free_bytes, 6 * GiB);
  EXPECT_THAT(m.events().back().message, HasSubstr("(threshold 85%, budget 64 GiB)"));
  s = At(1);
  s.gpus = {Gpu(0, 100 * GiB, 64 * GiB, 64 * GiB)};
  m.update(s);
  EXPECT_FALSE(m.state().gpu) << "at the budget is within it";
}

TEST(PressureGpu, ABudgetAboveTheThresholdLeavesTheThresholdInCharge) {
  PressureMonitor m{PressureConfig{}};
  PressureSample s = At(0);
  s.gpus = {Gpu(0, 100 * GiB, 90 * GiB, 95 * GiB)};
  m.update(s);
  EXPECT_TRUE(m.state().gpu);
  EXPECT_EQ(m.state().gpus[0].to_free_bytes, 5 * GiB);
}

TEST(PressureGpu, SeveralOverMakeOneEventNamingEach) {
  PressureMonitor m{PressureConfig{}};
  PressureSample s = At(0);
  s.gpus = {Gpu(0, 100 * GiB, 90 * GiB), Gpu(1, 100 * GiB, 99 * GiB), Gpu(2, 0, 0)};
  EXPECT_EQ(m.update(s), 1u);
  EXPECT_THAT(m.events().back().message, HasSubstr("GPU 0 (NVIDIA H200) 90%"));
  EXPECT_THAT(m.events().back().message, HasSubstr("; GPU 1 (NVIDIA H200) 99%"));
  EXPECT_FALSE(m.state().gpus[2].over) << "a GPU without figures is no pressure";
}

TEST(PressureCpu, SustainedThirtySecondsTurnsItOnButTwentyNineDoNot) {
  PressureMonitor m{PressureConfig{}};
  m.update(At(0));  // the first reading: no busy share yet
  for (int s = 1; s <= 29; ++s) {
    EXPECT_EQ(m.update(Cpu(s, 95)), 0u) << s;
    EXPECT_FALSE(m.state().cpu) << s;
  }
  EXPECT_DOUBLE_EQ(m.state().cpu_busy_seconds, 29);
  EXPECT_EQ(m.update(Cpu(30, 95)), 1u);
  EXPECT_TRUE(m.state().cpu);
  EXPECT_EQ(m.events().back().kind, "cpu");
  EXPECT_EQ(m.events().back().message, "CPU 95% busy for 30s (threshold 80%)");
}

TEST(PressureCpu, ADipResetsTheWindow) {
  PressureMonitor m{PressureConfig{}};
  m.update(At(0));
  for (int s = 1; s <= 20; ++s) m.update(Cpu(s, 90));
  m.update(Cpu(21, 79));  // one sample under the threshold
  EXPECT_FALSE(m.state().cpu);
  EXPECT_DOUBLE_EQ(m.state().cpu_busy_seconds, 0);
  for (int s = 22; s <= 50; ++s) m.update(Cpu(s, 90));
  EXPECT_FALSE(m.state().cpu) << "29 s since the dip";
  m.update(Cpu(51, 90));
  EXPECT_TRUE(m.state().cpu);
}

TEST(PressureCpu, AMissingFigureResetsTheWindowAndTheFlagTurnsOff) {
  PressureMonitor m{PressureConfig{}};
  m.update(At(0));
  m.update(Cpu(40, 100));  // one sample covering 40 s, all busy
  EXPECT_TRUE(m.state().cpu);
  m.update(At(41));
  EXPECT_FALSE(m.state().cpu);
  m.update(Cpu(42, 100));
  EXPECT_FALSE(m.state().cpu);
  EXPECT_DOUBLE_EQ(m.state().cpu_busy_seconds, 1);
}

TEST(PressureCpu, TheEventShowsTheAverageOverTheWindow) {
  PressureConfig c;
  c.cpu_seconds = 20;
  PressureMonitor m{c};
  m.update(At(0));
  m.update(Cpu(10, 100));
  m.update(Cpu(20, 80));
  EXPECT_EQ(m.events().back().message, "CPU 90% busy for 20s (threshold 80%)");
}

TEST(PressureDisk, AnyDirUnderTheMinimum) {
  PressureMonitor m{PressureConfig{}};
  PressureSample s = At(0);
  s.disks = {{"/var/lib/kitty", GiB + GiB / 5}, {"/var/log/kitty", 50 * GiB}};
  EXPECT_EQ(m.update(s), 1u);
  EXPECT_TRUE(m.state().disk);
  EXPECT_EQ(m.state().low_disks, std::vector<std::string>{"/var/lib/kitty"});
  EXPECT_EQ(m.events().back().kind, "disk");
  EXPECT_EQ(m.events().back().message, "disk: /var/lib/kitty has 1.2 GiB free (minimum 2 GiB)");
  s = At(1);
  s.disks = {{"/var/lib/kitty", 2 * GiB}};
  m.update(s);
  EXPECT_FALSE(m.state().disk) << "exactly the minimum is enough";
  EXPECT_TRUE(m.state().low_disks.empty());
}

TEST(PressureFlags, TurnOffWhenTheirFiguresRecover) {
  PressureMonitor m{PressureConfig{}};
  PressureSample bad = Ram(0, 100 * GiB, 1 * GiB);
  bad.gpus = {Gpu(0, 100 * GiB, 99 * GiB)};
  bad.disks = {{"/s", 0}};
  m.update(bad);
  EXPECT_TRUE(m.state().ram && m.state().gpu && m.state().disk);
  PressureSample good = Ram(1, 100 * GiB, 50 * GiB);
  good.gpus = {Gpu(0, 100 * GiB, 1 * GiB)};
  good.disks = {{"/s", 100 * GiB}};
  EXPECT_EQ(m.update(good), 0u);
  EXPECT_FALSE(m.state().any());
  EXPECT_EQ(m.events().size(), 3u) << "turning off adds no event";
}

}  // namespace
}  // namespace kitty::sched
