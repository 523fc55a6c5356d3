#include "kitty/config/memory_section.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kitty/config/config_test_util.h"

namespace kitty {
namespace {

using ::testing::ElementsAre;
using config_test::Errors;
using config_test::Load;

TEST(ConfigMemoryTest, DefaultsAreAutoWithAReserve) {
  Config c = Load("models: {}\n");
  EXPECT_EQ(c.memory.budget.kind, MemoryBudget::Kind::kAuto);
  EXPECT_EQ(c.memory.reserve_bytes, 1ull << 30);
  EXPECT_EQ(c.memory.max_models, 0);
  EXPECT_EQ(c.memory.pressure.ram_percent, 90);
  EXPECT_EQ(c.memory.pressure.gpu_percent, 85);
  EXPECT_EQ(c.memory.pressure.cpu_percent, 80);
  EXPECT_EQ(c.memory.pressure.disk_free_min_bytes, 2ull << 30);
}

TEST(ConfigMemoryTest, EveryKeyIsRead) {
  Config c = Load(
      "memory:\n"
      "  budget: 80%\n"
      "  reserve: 2GiB\n"
      "  gpu_budgets: [40GiB, \"50%\"]\n"
      "  max_models: 3\n"
      "  wait_seconds: 5\n"
      "  recovery_seconds: 2.5\n"
      "  sample_seconds: 0.5\n"
      "  pressure: {ram_percent: 95, gpu_percent: 70%, cpu_percent: 60, cpu_seconds: 10, disk_free_min: 1GiB}\n");
  EXPECT_EQ(c.memory.budget.kind, MemoryBudget::Kind::kPercent);
  EXPECT_EQ(c.memory.budget.percent, 80);
  EXPECT_EQ(c.memory.budget.Resolve(1000), 800u);
  EXPECT_EQ(c.memory.budget.Describe(), "80%");
  EXPECT_EQ(c.memory.reserve_bytes, 2ull << 30);
  ASSERT_EQ(c.memory.gpu_budgets.size(), 2u);
  EXPECT_EQ(c.memory.gpu_budgets[0].bytes, 40ull << 30);
  EXPECT_EQ(c.memory.gpu_budgets[1].percent, 50);
  EXPECT_EQ(c.memory.max_models, 3);
  EXPECT_EQ(c.memory.wait_seconds, 5);
  EXPECT_EQ(c.memory.recovery_seconds, 2.5);
  EXPECT_EQ(c.memory.sample_seconds, 0.5);
  EXPECT_EQ(c.memory.pressure.ram_percent, 95);
  EXPECT_EQ(c.memory.pressure.gpu_percent, 70);
  EXPECT_EQ(c.memory.pressure.disk_free_min_bytes, 1ull << 30);
}

TEST(ConfigMemoryTest, BadValuesNameFileLineAndKey) {
  EXPECT_THAT(Errors("memory:\n  budget: lots\n  reserve: -1\n  max_models: x\n  pressure: {ram_percent: 120}\n  budgt: 1GiB\n"),
              ElementsAre("kitty.yaml:2: memory.budget: expected auto, a percentage (\"80%\") or a size "
                          "(\"20GiB\"), got \"lots\"",
                          ::testing::StartsWith("kitty.yaml:3: memory.reserve: "),
                          ::testing::StartsWith("kitty.yaml:4: memory.max_models: "),
                          "kitty.yaml:5: memory.pressure.ram_percent: expected a percentage in (0, 100], got \"120\"",
                          "kitty.yaml:6: memory.budgt: unknown key (did you mean 'budget'?)"));
}

TEST(ConfigMemoryTest, ModelKeysForTheScheduler) {
  Config c = Load(
      "models:\n"
      "  a: {backend: command, command: [x], memory: 8GiB, pinned: true, priority: 5}\n"
      "  b: {backend: command, command: [x], pressure_evict_only: yes, priority: -3}\n");
  EXPECT_EQ(c.models[0].memory_bytes, 8ull << 30);
  EXPECT_TRUE(c.models[0].pinned);
  EXPECT_EQ(c.models[0].priority, 5);
  EXPECT_FALSE(c.models[1].memory_bytes.has_value());
  EXPECT_TRUE(c.models[1].pressure_evict_only);
  EXPECT_EQ(c.models[1].priority, -3);
  EXPECT_THAT(Errors("models:\n  a: {backend: command, command: [x], priority: 5000, memory: 0}\n"),
              ElementsAre(::testing::HasSubstr("models.a.priority"),
                          "kitty.yaml:2: models.a.memory: must be more than 0 (leave it out when unknown)"));
}

TEST(ConfigMemoryTest, AModelThatCanNeverFitAFixedBudgetIsAnError) {
  EXPECT_THAT(Errors("memory: {budget: 16GiB}\n"
                     "models:\n"
                     "  big:\n"
                     "    backend: command\n"
                     "    command: [x]\n"
                     "    memory: 20GiB\n"),
              ElementsAre("kitty.yaml:6: models.big.memory: 20 GiB can never fit memory.budget 16 GiB"));
}

}  // namespace
}  // namespace kitty

namespace kitty {
namespace {

TEST(ConfigMemoryTest, MaxMemoryGbIsTheBudgetInGiB) {
  // Seed 004's name for the MLX pool's limit.
  Config c = config_test::Load("memory: {max_memory_gb: 48}\nmodels: {}\n");
  EXPECT_EQ(c.memory.budget.kind, MemoryBudget::Kind::kBytes);
  EXPECT_EQ(c.memory.budget.bytes, 48ull << 30);
  EXPECT_EQ(config_test::Load("memory: {max_memory_gb: 0.5}\nmodels: {}\n").memory.budget.bytes, 512ull << 20);
}

TEST(ConfigMemoryTest, MaxMemoryGbAndBudgetTogetherIsAnError) {
  auto e = config_test::Errors("memory:\n  budget: 20GiB\n  max_memory_gb: 48\nmodels: {}\n");
  ASSERT_EQ(e.size(), 1u) << ::testing::PrintToString(e);
  EXPECT_THAT(e[0], ::testing::HasSubstr("memory.max_memory_gb"));
  EXPECT_THAT(e[0], ::testing::HasSubstr("not both"));
  auto bad = config_test::Errors("memory: {max_memory_gb: lots}\nmodels: {}\n");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_THAT(bad[0], ::testing::HasSubstr("positive number of GiB"));
}

}  // namespace
}  // namespace kitty
