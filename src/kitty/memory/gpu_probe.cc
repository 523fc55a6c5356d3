#include "kitty/memory/gpu_probe.h"

#include "kitty/memory/process_memory.h"

namespace kitty {

void AddGpuFigures(const GpuReading& gpu, std::map<int, GroupMemory>* groups) {
  for (auto& [pgid, mem] : *groups) {
    mem.gpu_bytes = 0;
    mem.gpu_available = gpu.per_process;
    if (!mem.gpu_available) continue;
    for (int pid : mem.pids) {
      if (gpu.unknown_pids.count(pid)) {
        mem.gpu_available = false;
        mem.gpu_bytes = 0;
        break;
      }
      auto it = gpu.used_by_pid.find(pid);
      if (it != gpu.used_by_pid.end()) mem.gpu_bytes += it->second;
    }
  }
}

void AddGpuFigures(const GpuReading& gpu, SystemMemory* system) { system->gpus = gpu.gpus; }

}  // namespace kitty
