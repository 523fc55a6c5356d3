#include "kitty/memory/memory_probe.h"

#include <spdlog/spdlog.h>

#include "kitty/memory/nvml_gpu_probe.h"

namespace kitty {

MemoryReading MemoryProbe::read(const std::vector<int>& pgids) {
  return {pgids.empty() ? Result<std::map<int, GroupMemory>>(std::map<int, GroupMemory>{})
                        : groups(pgids),
          system()};
}

OsMemoryProbe::OsMemoryProbe() : OsMemoryProbe(std::make_unique<NvmlGpuProbe>()) {}
OsMemoryProbe::OsMemoryProbe(std::unique_ptr<GpuProbe> gpu) : gpu_(std::move(gpu)) {}
OsMemoryProbe::~OsMemoryProbe() = default;

GpuReading OsMemoryProbe::read_gpu() {
  if (!gpu_) return {};
  auto got = gpu_->read();
  if (got.ok()) return std::move(got.value());
  spdlog::debug("GPU memory: {}", got.error().message);
  return {};
}

Result<GroupMemory> OsMemoryProbe::group(int pgid) { return OneGroup(groups({pgid}), pgid); }

Result<std::map<int, GroupMemory>> OsMemoryProbe::groups(const std::vector<int>& pgids) {
  auto all = ReadGroupsMemory(pgids);
  if (all.ok()) AddGpuFigures(read_gpu(), &all.value());
  return all;
}

Result<SystemMemory> OsMemoryProbe::system() {
  auto sys = ReadSystemMemory();
  if (sys.ok()) AddGpuFigures(read_gpu(), &sys.value());
  return sys;
}

MemoryReading OsMemoryProbe::read(const std::vector<int>& pgids) {
  // One GPU reading for both: the driver's process list is the slow part of it.
  const GpuReading gpu = read_gpu();
  MemoryReading r{pgids.empty() ? Result<std::map<int, GroupMemory>>(std::map<int, GroupMemory>{})
                                : ReadGroupsMemory(pgids),
                  ReadSystemMemory()};
  if (r.groups.ok()) AddGpuFigures(gpu, &r.groups.value());
  if (r.system.ok()) AddGpuFigures(gpu, &r.system.value());
  return r;
}

}  // namespace kitty
