// The scheduler's decision time (issue 9: ≤ 100 µs with 100 configured models). Run:
//   ninja -C build sched_bench && build/sched_bench
#include <benchmark/benchmark.h>

#include <random>

#include "kitty/sched/plan.h"

namespace {

using kitty::sched::EvictionClass;
using kitty::sched::Holder;

std::vector<Holder> Holders(int n) {
  std::mt19937 rng(42);
  std::vector<Holder> hs;
  for (int i = 0; i < n; ++i) {
    Holder h;
    h.id = "model-" + std::to_string(i);
    h.bytes = (1ull << 30) + rng() % (8ull << 30);
    h.cls = static_cast<EvictionClass>(rng() % 4);
    h.priority = static_cast<int>(rng() % 5);
    h.last_used = static_cast<double>(rng() % 100000);
    h.pinned = rng() % 20 == 0;
    hs.push_back(std::move(h));
  }
  return hs;
}

// The worst case: nothing fits, so every candidate is sorted and walked.
void BM_PlanStart(benchmark::State& state) {
  const auto hs = Holders(static_cast<int>(state.range(0)));
  const kitty::sched::Room room{0, static_cast<int>(hs.size()), 0};
  for (auto _ : state) {
    auto plan = kitty::sched::PlanStart(uint64_t{40} << 30, hs, room);
    benchmark::DoNotOptimize(plan);
  }
}
BENCHMARK(BM_PlanStart)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_ClassOf(benchmark::State& state) {
  kitty::sched::ClassInputs in;
  in.idle_seconds = 120;
  for (auto _ : state) benchmark::DoNotOptimize(kitty::sched::ClassOf(in));
}
BENCHMARK(BM_ClassOf);

}  // namespace

BENCHMARK_MAIN();
