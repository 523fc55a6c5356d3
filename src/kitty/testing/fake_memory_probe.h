// FakeMemoryProbe: a MemoryProbe that answers from figures the test sets, for the sampler and
// the ledger on a real loop and pool. Groups: `mem[pgid]` if set (set, set_rss), else RSS =
// pgid × 1000; with `gpu_tenth` every group also holds a tenth of its RSS on a GPU; groups in
// `dead` have no live member. System: `sys`, or an error while `system_fails`. gate(true) holds
// every group read on the pool until gate(false), for races with a read in flight. The figures
// are read on the pool: change them under `mu` once a sampler runs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <vector>

#include "kitty/memory/memory_probe.h"

namespace kitty::testing_util {

class FakeMemoryProbe : public MemoryProbe {
 public:
  FakeMemoryProbe(uint64_t total, uint64_t available) {
    sys.total_bytes = total;
    sys.available_bytes = available;
    sys.gpus.push_back({0, "NVIDIA H200", 1000, 100});
  }

  Result<GroupMemory> group(int) override { return MakeError("unused"); }
  Result<SystemMemory> system() override {
    std::lock_guard lock(mu);
    if (system_fails) return MakeError("meminfo unreadable", ErrorCode::kIoError);
    return sys;
  }
  Result<std::map<int, GroupMemory>> groups(const std::vector<int>& pgids) override {
    ++calls;
    std::unique_lock lock(mu);
    gate_cv.wait(lock, [&] { return !gated; });
    last = pgids;
    std::map<int, GroupMemory> out;
    for (int g : pgids) {
      if (dead.count(g)) continue;
      GroupMemory m;
      if (auto it = mem.find(g); it != mem.end()) m = it->second;
      else m.rss_bytes = static_cast<uint64_t>(g) * 1000;
      if (gpu_tenth) {
        m.gpu_bytes = m.rss_bytes / 10;
        m.gpu_available = true;
      }
      m.process_count = 1;
      m.pids = {g};
      out[g] = m;
    }
    return out;
  }

  void gate(bool on) {
    {
      std::lock_guard lock(mu);
      gated = on;
    }
    gate_cv.notify_all();
  }
  void set(int pgid, GroupMemory m) {
    std::lock_guard lock(mu);
    mem[pgid] = m;
  }
  void set_rss(int pgid, uint64_t rss) {
    GroupMemory m;
    m.rss_bytes = rss;
    set(pgid, m);
  }

  std::atomic<int> calls{0};
  std::mutex mu;
  std::condition_variable gate_cv;
  bool gated = false;
  SystemMemory sys;
  bool system_fails = false;
  bool gpu_tenth = false;
  std::map<int, GroupMemory> mem;
  std::set<int> dead;     // groups without a live member
  std::vector<int> last;  // the pgids of the last group read
};

}  // namespace kitty::testing_util
