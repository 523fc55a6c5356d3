// OsMemoryProbe with a fake GpuProbe: GPU figures summed per group from its members' pids,
// per-GPU figures in the system's, one GPU reading per MemoryProbe::read, and no GPU figures
// (rather than low ones) when the driver could not say.
#include "kitty/memory/memory_probe.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>

namespace kitty {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

class FakeGpu : public GpuProbe {
 public:
  Result<GpuReading> read() override {
    ++reads;
    if (fail) return MakeError("GPU is lost", ErrorCode::kIoError);
    return reading;
  }
  GpuReading reading;
  bool fail = false;
  std::atomic<int> reads{0};
};

GpuReading OneGpu() {
  GpuReading r;
  r.gpus.push_back({0, "NVIDIA H200", 140 * kGiB, 30 * kGiB});
  r.per_process = true;
  return r;
}

GroupMemory Group(std::vector<int> pids) {
  GroupMemory m;
  m.pids = std::move(pids);
  m.process_count = static_cast<int>(m.pids.size());
  return m;
}

TEST(AddGpuFigures, SumsMembersAndSaysWhenThereAreNoFigures) {
  GpuReading gpu = OneGpu();
  gpu.used_by_pid = {{10, 4 * kGiB}, {11, 1 * kGiB}, {99, 7 * kGiB}};
  gpu.unknown_pids = {30};
  std::map<int, GroupMemory> groups = {
      {10, Group({10, 11})}, {20, Group({20})}, {30, Group({30, 31})}};
  AddGpuFigures(gpu, &groups);
  EXPECT_TRUE(groups[10].gpu_available);
  EXPECT_EQ(groups[10].gpu_bytes, 5 * kGiB);
  EXPECT_TRUE(groups[20].gpu_available) << "a CPU-only worker on a GPU machine uses 0";
  EXPECT_EQ(groups[20].gpu_bytes, 0u);
  EXPECT_FALSE(groups[30].gpu_available) << "a member the driver could not measure";

  gpu.per_process = false;
  AddGpuFigures(gpu, &groups);
  EXPECT_FALSE(groups[10].gpu_available);
  EXPECT_EQ(groups[10].gpu_bytes, 0u);

  AddGpuFigures(GpuReading{}, &groups);
  EXPECT_FALSE(groups[20].gpu_available) << "no GPU: no figures";

  SystemMemory sys;
  AddGpuFigures(gpu, &sys);
  ASSERT_EQ(sys.gpus.size(), 1u);
  EXPECT_EQ(sys.gpus[0].name, "NVIDIA H200");
}

TEST(OsMemoryProbe, AddsGpuFiguresToRealGroupsAndTheMachineInOneReading) {
  auto gpu = std::make_unique<FakeGpu>();
  FakeGpu* fake = gpu.get();
  fake->reading = OneGpu();
  fake->reading.used_by_pid[getpid()] = 3 * kGiB;
  OsMemoryProbe probe(std::move(gpu));
  const int pgid = getpgrp();  // this test's own group

  MemoryReading r = probe.read({pgid});
  EXPECT_EQ(fake->reads.load(), 1) << "one GPU reading shared by groups and machine";
  ASSERT_TRUE(r.groups.ok()) << r.groups.error().message;
  ASSERT_TRUE(r.groups->count(pgid));
  const GroupMemory& g = r.groups->at(pgid);
  EXPECT_TRUE(g.gpu_available);
  EXPECT_EQ(g.gpu_bytes, 3 * kGiB);
  EXPECT_GT(g.rss_bytes, 0u);
  ASSERT_TRUE(r.system.ok()) << r.system.error().message;
  ASSERT_EQ(r.system->gpus.size(), 1u);
  EXPECT_EQ(r.system->gpus[0].total_bytes, 140 * kGiB);

  auto one = probe.group(pgid);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->gpu_bytes, 3 * kGiB);
  EXPECT_EQ(probe.group(0x3ffffff0).error().code, ErrorCode::kFileNotFound);

  MemoryReading none = probe.read({});
  ASSERT_TRUE(none.groups.ok());
  EXPECT_TRUE(none.groups->empty()) << "no groups asked, no /proc scan";
  EXPECT_TRUE(none.system.ok());
}

TEST(OsMemoryProbe, AFailingGpuLeavesTheRest) {
  auto gpu = std::make_unique<FakeGpu>();
  gpu->fail = true;
  OsMemoryProbe probe(std::move(gpu));
  MemoryReading r = probe.read({getpgrp()});
  ASSERT_TRUE(r.groups.ok());
  ASSERT_TRUE(r.groups->count(getpgrp()));
  EXPECT_FALSE(r.groups->at(getpgrp()).gpu_available);
  EXPECT_GT(r.groups->at(getpgrp()).rss_bytes, 0u);
  ASSERT_TRUE(r.system.ok());
  EXPECT_TRUE(r.system->gpus.empty());

  OsMemoryProbe no_gpu(nullptr);
  EXPECT_TRUE(no_gpu.system().ok());
}

}  // namespace
}  // namespace kitty
