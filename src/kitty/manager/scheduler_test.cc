// The Scheduler on fakes (clock, spawner, worker HTTP, memory figures): room made in eviction
// order, busy and pinned models left alone, waits bounded, recovery observed, restores, max
// models, headroom and pressure (RAM, GPU, CPU, disk) — every timer in microseconds.
#include "kitty/manager/scheduler.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "kitty/testing/test_env.h"

namespace kitty {
namespace {

using namespace std::chrono_literals;
constexpr uint64_t MiB = 1ull << 20;

class FakeMemory : public MemoryView {
 public:
  std::map<std::string, uint64_t> expected;  // model id -> bytes
  std::optional<SystemFigures> sys;
  int reads = 0;

  std::map<int, uint64_t> measured;  // pgid -> bytes
  std::optional<TimePoint> sampled;
  std::optional<uint64_t> measured_bytes(int pgid) override {
    auto it = measured.find(pgid);
    return it == measured.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<TimePoint> sampled_at() override { return sampled; }
  std::map<int, uint64_t> measured_gpu;  // pgid -> bytes
  uint64_t gpu_recover_per_read = 0;      // GPU 0's use falls by this at each read_system
  std::optional<uint64_t> measured_gpu_bytes(int pgid) override {
    auto it = measured_gpu.find(pgid);
    return it == measured_gpu.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<uint64_t> expected_bytes(const ModelConfig& m) override {
    auto it = expected.find(m.id);
    return it == expected.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<SystemFigures> system() override { return sys; }
  void read_system(std::function<void(std::optional<SystemFigures>)> done) override {
    ++reads;
    if (sys && !sys->gpus.empty())
      sys->gpus[0].used_bytes -= std::min(sys->gpus[0].used_bytes, gpu_recover_per_read);
    done(sys);
  }
};

// CPU and disk figures as the test sets them, answered at once.
class FakeLoad : public LoadProbe {
 public:
  std::optional<double> cpu;
  std::map<std::string, uint64_t> free;  // dir -> bytes; a dir not here is unreadable
  std::vector<std::string> asked;        // the dirs of the last read
  int reads = 0;
  void read(const std::vector<std::string>& dirs, std::function<void(LoadReading)> done) override {
    ++reads;
    asked = dirs;
    LoadReading r;
    r.cpu_busy_percent = cpu;
    for (const auto& d : dirs)
      if (auto it = free.find(d); it != free.end()) r.disks.push_back({d, it->second});
    done(std::move(r));
  }
};

class SchedulerTest : public ::testing::Test {
 protected:
  SchedulerTest() { config_.budget = *ParseBudgetBytes(1024 * MiB); }

  static std::optional<MemoryBudget> ParseBudgetBytes(uint64_t b) {
    MemoryBudget m;
    m.kind = MemoryBudget::Kind::kBytes;
    m.bytes = b;
    return m;
  }

  void make(std::vector<std::string> ids, uint64_t each = 400 * MiB) {
    scheduler_ = std::make_unique<Scheduler>(t_.env, config_, memory_, load_, disk_dirs_,
                                             [this]() -> const auto& { return workers_; });
    t_.env.admission = scheduler_.get();
    int port = 7001;
    for (const auto& id : ids) {
      ModelConfig m;
      m.id = id;
      m.backend = Backend::kCommand;
      m.command = {"engine"};
      m.idle_shutdown_seconds = 100;
      m.stop_timeout_seconds = 2;
      auto it = policies_.find(id);
      if (it != policies_.end()) it->second(m);
      memory_.expected[id] = each;
      t_.http.answers[port] = 200;
      const int p = port++;
      workers_.push_back(Worker::Create(m, t_.env, [p](const ModelConfig&) -> Result<int> { return p; }));
    }
    scheduler_->start();
  }
  std::shared_ptr<Worker> w(const std::string& id) {
    for (auto& x : workers_)
      if (x->id() == id) return x;
    return nullptr;
  }
  // Starts `id` and returns its lease (or the error), moving the fake clock up to `limit`.
  Result<Lease> acquire(const std::string& id, Duration limit = 2s) {
    std::optional<Result<Lease>> got;
    w(id)->acquire([&](Result<Lease> r) { got.emplace(std::move(r)); });
    for (Duration d{}; !got && d < limit; d += 10ms) t_.clock.advance(10ms);
    if (!got) return MakeError("no answer in time");
    return std::move(*got);
  }
  void ready(const std::string& id) {
    auto l = acquire(id);
    ASSERT_TRUE(l.ok()) << l.error().message;
  }
  WorkerState state(const std::string& id) { return w(id)->state(); }
  // The machine's figures change: a new sample of them, read now.
  void sample(uint64_t available_bytes) {
    memory_.sys->available_bytes = available_bytes;
    memory_.sampled = t_.clock.now();
  }
  size_t events_of(const std::string& kind) {
    size_t n = 0;
    for (const auto& e : scheduler_->status().pressure.events) n += e.kind == kind;
    return n;
  }

  testing_util::TestEnv t_;
  MemoryConfig config_;
  FakeMemory memory_;
  FakeLoad load_;
  std::vector<std::string> disk_dirs_ = {"/state", "/logs"};
  std::map<std::string, std::function<void(ModelConfig&)>> policies_;
  std::vector<std::shared_ptr<Worker>> workers_;
  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerTest, TheThirdModelEvictsTheLeastRecentlyUsed) {
  make({"a", "b", "c"});
  ready("a");
  t_.clock.advance(1s);
  ready("b");
  t_.clock.advance(1s);
  ready("c");
  EXPECT_EQ(state("a"), WorkerState::kStopped) << "a was used longest ago";
  EXPECT_EQ(state("b"), WorkerState::kReady);
  EXPECT_EQ(state("c"), WorkerState::kReady);
  EXPECT_EQ(t_.spawner.alive_count(), 2);
}

TEST_F(SchedulerTest, AModelWithARequestInFlightIsWaitedForNotEvicted) {
  make({"a", "b", "c"});
  auto la = acquire("a");  // held: a request in flight
  ASSERT_TRUE(la.ok());
  ready("b");
  t_.clock.advance(1s);
  // c needs room: b is idle, so b goes, not a.
  ready("c");
  EXPECT_EQ(state("a"), WorkerState::kReady);
  EXPECT_EQ(state("b"), WorkerState::kStopped);
}

TEST_F(SchedulerTest, WhenEveryHolderIsBusyTheStartWaitsThenGoesAsSoonAsOneIsFree) {
  make({"a", "b", "c"});
  auto la = acquire("a");
  auto lb = acquire("b");
  ASSERT_TRUE(la.ok() && lb.ok());
  std::optional<Result<Lease>> got;
  w("c")->acquire([&](Result<Lease> r) { got.emplace(std::move(r)); });
  t_.clock.advance(3s);
  EXPECT_FALSE(got.has_value()) << "waits while a and b serve";
  EXPECT_EQ(state("c"), WorkerState::kStarting);
  EXPECT_EQ(t_.spawner.spawn_count(), 2) << "c is not spawned while it would not fit";
  lb->reset();
  t_.clock.advance(1s);
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->ok()) << got->error().message;
  EXPECT_EQ(state("b"), WorkerState::kStopped);
  EXPECT_EQ(state("a"), WorkerState::kReady);
}

TEST_F(SchedulerTest, AWaitPastWaitSecondsIsBusyNoRoomNamingWhoHoldsTheMemory) {
  config_.wait_seconds = 2;
  make({"a", "b", "c"});
  auto la = acquire("a");
  auto lb = acquire("b");
  auto lc = acquire("c", 5s);
  ASSERT_FALSE(lc.ok());
  // Models in use hold the memory: not now, but soon (429 with Retry-After at the edge).
  EXPECT_EQ(lc.error().code, ErrorCode::kNoRoomBusy);
  EXPECT_NE(lc.error().message.find("waited 2s"), std::string::npos) << lc.error().message;
  EXPECT_NE(lc.error().message.find("in use: a (400 MiB), b (400 MiB)"), std::string::npos)
      << lc.error().message;
  EXPECT_EQ(state("c"), WorkerState::kStopped);
  EXPECT_EQ(t_.spawner.spawn_count(), 2);
}

TEST_F(SchedulerTest, AFixedBudgetCountsWhatOllamaHoldsForAModelNotItsAgent) {
  // The agent's own process holds a few MiB; Ollama's runner holds the model (size_bytes).
  t_.env.plan_launch = [](const ModelConfig& m, int port) -> Result<LaunchPlan> {
    LaunchPlan p;
    p.spawn.argv = {"kitty-agent"};
    p.host = "127.0.0.1";
    p.port = port;
    p.health_path = "/health";
    if (m.backend == Backend::kOllama) p.upstream = LaunchPlan::Upstream{"127.0.0.1", 11434, "big", "", ""};
    return p;
  };
  t_.http.bodies[7001] = R"({"status":"ok","backend":"ollama","size_bytes":734003200})";  // 700 MiB
  policies_["o"] = [](ModelConfig& m) { m.backend = Backend::kOllama; };
  make({"o", "b"}, 100 * MiB);
  memory_.expected["b"] = 400 * MiB;
  ready("o");
  memory_.measured[w("o")->pid()] = 5 * MiB;
  memory_.sampled = t_.clock.now();
  t_.clock.advance(1s);
  ready("b");  // 700 + 400 > 1024: the idle Ollama model makes room
  EXPECT_EQ(state("o"), WorkerState::kStopped);
  EXPECT_EQ(state("b"), WorkerState::kReady);
}

TEST_F(SchedulerTest, AHeldModelIsNotEvicted) {
  make({"a", "b", "c"});
  ready("a");
  const std::string hold = w("a")->add_hold(60, "graph");
  t_.clock.advance(1s);
  ready("b");
  t_.clock.advance(1s);
  ready("c");
  EXPECT_EQ(state("a"), WorkerState::kReady) << "held";
  EXPECT_EQ(state("b"), WorkerState::kStopped);
}

TEST_F(SchedulerTest, APinnedModelSurvivesEveryKindOfEviction) {
  policies_["a"] = [](ModelConfig& m) { m.pinned = true; };
  make({"a", "b", "c"});
  ready("a");
  t_.clock.advance(500s);  // far past a's idle period: pinned models are never idled out either
  EXPECT_EQ(state("a"), WorkerState::kReady);
  ready("b");
  t_.clock.advance(1s);
  ready("c");
  EXPECT_EQ(state("a"), WorkerState::kReady);
  EXPECT_EQ(state("b"), WorkerState::kStopped);
  auto r = std::optional<Result<Scheduler::HeadroomResult>>();
  scheduler_->make_headroom(2048 * MiB, [&](Result<Scheduler::HeadroomResult> h) { r.emplace(std::move(h)); });
  t_.clock.advance(1s);
  EXPECT_EQ(state("a"), WorkerState::kReady) << "headroom does not take a pinned model";
}

TEST_F(SchedulerTest, TooBigWithPinnedModelsIsNoRoomAtOnce) {
  policies_["a"] = [](ModelConfig& m) { m.pinned = true; };
  make({"a", "big"}, 400 * MiB);
  memory_.expected["big"] = 900 * MiB;
  ready("a");
  auto r = acquire("big");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNoRoom);
  EXPECT_NE(r.error().message.find("pinned: a"), std::string::npos) << r.error().message;
}

TEST_F(SchedulerTest, TwoStartsAtOnceArePlannedOneAfterTheOtherNeverOverlapping) {
  make({"a", "b"}, 600 * MiB);  // 600 + 600 > 1024: never both
  std::optional<Result<Lease>> ga, gb;
  w("a")->acquire([&](Result<Lease> r) { ga.emplace(std::move(r)); });
  w("b")->acquire([&](Result<Lease> r) { gb.emplace(std::move(r)); });
  int most_alive = 0;
  for (int i = 0; i < 300 && !(ga && gb); ++i) {
    t_.clock.advance(10ms);
    most_alive = std::max(most_alive, t_.spawner.alive_count());
    if (ga && ga->ok()) ga->value().reset();  // a's request ends: it may go
  }
  ASSERT_TRUE(ga && gb);
  EXPECT_TRUE(ga->ok());
  EXPECT_TRUE(gb->ok()) << gb->error().message;
  EXPECT_EQ(most_alive, 1) << "the two models were never in memory together";
}

TEST_F(SchedulerTest, MaxModelsEvictsByTheSameOrder) {
  config_.max_models = 2;
  config_.budget = MemoryBudget{};  // auto, no system figures: only the count applies
  make({"a", "b", "c"}, 10 * MiB);
  ready("a");
  t_.clock.advance(1s);
  ready("b");
  t_.clock.advance(1s);
  ready("c");
  EXPECT_EQ(state("a"), WorkerState::kStopped);
  EXPECT_EQ(t_.spawner.alive_count(), 2);
}

TEST_F(SchedulerTest, TheNextStartWaitsUntilTheFreedGpuMemoryShowsAsFree) {
  config_.recovery_seconds = 5;
  memory_.sys = SystemFigures{4096 * MiB, 3000 * MiB};
  memory_.sys->gpus.push_back({0, "GPU", 8192 * MiB, 1000 * MiB});
  memory_.gpu_recover_per_read = 50 * MiB;  // the driver tears the context down slowly
  make({"a", "b", "c"});
  ready("a");
  t_.clock.advance(1s);
  ready("b");
  t_.clock.advance(1s);
  memory_.measured_gpu = {{w("a")->pid(), 400 * MiB}, {w("b")->pid(), 400 * MiB}};
  const int reads_before = memory_.reads;
  ready("c");
  // 400 MiB freed on the GPU: at 90 % that is 360 MiB, 8 reads of 50 MiB, 50 ms apart (the
  // first read, just before the stop, sees nothing freed yet).
  EXPECT_GE(memory_.reads - reads_before, 8);
  EXPECT_EQ(state("c"), WorkerState::kReady);
}

TEST_F(SchedulerTest, HostMemoryIsBackWhenTheVictimsAreGone) {
  config_.recovery_seconds = 5;
  memory_.sys = SystemFigures{4096 * MiB, 3000 * MiB};  // MemAvailable never rises (see await_recovery)
  make({"a", "b", "c"});
  ready("a");
  t_.clock.advance(1s);
  ready("b");
  t_.clock.advance(1s);
  memory_.measured = {{w("a")->pid(), 400 * MiB}, {w("b")->pid(), 400 * MiB}};
  memory_.sampled = t_.clock.now();
  const TimePoint before = t_.clock.now();
  ready("c");
  EXPECT_EQ(state("a"), WorkerState::kStopped);
  EXPECT_LT(t_.clock.now() - before, 1s) << "no wait on host figures";
}

TEST_F(SchedulerTest, AnAutoBudgetIsWhatWasAvailablePlusWhatOurWorkersHeldInTheSameRead) {
  config_.budget = MemoryBudget{};  // auto
  config_.reserve_bytes = 100 * MiB;
  make({"a", "b", "c", "d"});
  ready("a");
  t_.clock.advance(1s);
  ready("b");
  t_.clock.advance(1s);
  // The last read: 900 MiB available while a and b held 800 MiB. Budget 900 + 800 - 100.
  memory_.measured = {{w("a")->pid(), 400 * MiB}, {w("b")->pid(), 400 * MiB}};
  memory_.sampled = t_.clock.now();
  memory_.sys = SystemFigures{4096 * MiB, 900 * MiB};
  memory_.sys->workers_bytes = 800 * MiB;
  ready("c");  // 1600 - 800 held = 800 free: c (400) fits beside both
  EXPECT_EQ(state("a"), WorkerState::kReady);
  EXPECT_EQ(state("b"), WorkerState::kReady);
  // The next read: c holds its 400 MiB, 500 MiB are left. d (400) would leave the reserve
  // short, so a, used longest ago, goes.
  t_.clock.advance(1s);
  memory_.measured[w("c")->pid()] = 400 * MiB;
  memory_.sampled = t_.clock.now();
  memory_.sys->available_bytes = 450 * MiB;
  memory_.sys->workers_bytes = 1200 * MiB;
  ready("d");
  EXPECT_EQ(state("a"), WorkerState::kStopped);
  EXPECT_EQ(state("b"), WorkerState::kReady);
  EXPECT_EQ(state("c"), WorkerState::kReady);
  EXPECT_EQ(state("d"), WorkerState::kReady);
}

TEST_F(SchedulerTest, AWorkerIsPlannedWithItsExpectedSizeUntilASampleAfterItsReadySettlesIt) {
  make({"a", "b", "c"});
  // A sample read while a and b were still loading saw little of them.
  memory_.sampled = t_.clock.now();
  ready("a");
  ready("b");
  memory_.measured = {{w("a")->pid(), 50 * MiB}, {w("b")->pid(), 50 * MiB}};
  t_.clock.advance(1s);
  ready("c");  // 400 + 400 + 400 > 1024: the stale 50 MiB figures must not let c in beside both
  EXPECT_EQ(state("a"), WorkerState::kStopped);
  EXPECT_EQ(state("b"), WorkerState::kReady);
  // Once a sample after b's ready shows it holds 50 MiB, that figure is what is planned with.
  memory_.measured = {{w("b")->pid(), 50 * MiB}, {w("c")->pid(), 400 * MiB}};
  memory_.sampled = t_.clock.now();
  ready("a");
  EXPECT_EQ(state("b"), WorkerState::kReady) << "50 + 400 + 400 MiB fit in 1 GiB";
  EXPECT_EQ(state("c"), WorkerState::kReady);
}

TEST_F(SchedulerTest, AModelDisplacedByAnotherIsRestoredWhenThatOneIdles) {
  policies_["a"] = [](ModelConfig& m) { m.preload = true; };
  make({"a", "b", "c"});
  ready("a");
  t_.clock.advance(1s);
  ready("b");
  t_.clock.advance(1s);
  ready("c");  // pushes a out (least recently used)
  ASSERT_EQ(state("a"), WorkerState::kStopped);
  EXPECT_EQ(scheduler_->status().restore_queue, std::vector<std::string>{"a"});
  // c and b idle past half their period (IDLE), and room appears when b is released.
  w("b")->release(false, nullptr);
  t_.clock.advance(60s);
  EXPECT_EQ(state("a"), WorkerState::kReady) << "restored once its displacer idled and room was there";
  EXPECT_TRUE(scheduler_->status().restore_queue.empty()) << "restored once, never again";
}

TEST_F(SchedulerTest, NothingIsRestoredOnceKittydIsShuttingDown) {
  policies_["a"] = [](ModelConfig& m) { m.preload = true; };
  make({"a", "b", "c"});
  ready("a");
  t_.clock.advance(1s);
  ready("b");
  t_.clock.advance(1s);
  ready("c");
  ASSERT_EQ(state("a"), WorkerState::kStopped);
  scheduler_->stop();  // the shutdown stops b and c next: a must not come back meanwhile
  w("b")->release(false, nullptr);
  w("c")->release(false, nullptr);
  t_.clock.advance(60s);
  EXPECT_EQ(state("a"), WorkerState::kStopped);
  EXPECT_EQ(t_.spawner.alive_count(), 0);
  EXPECT_TRUE(scheduler_->status().restore_queue.empty());
}

TEST_F(SchedulerTest, HeadroomStopsModelsInEvictionOrderAndSaysWhatItFreed) {
  memory_.sys = SystemFigures{4096 * MiB, 1500 * MiB};
  config_.budget = MemoryBudget{};  // auto
  config_.reserve_bytes = 100 * MiB;
  make({"a", "b"});
  ready("a");
  t_.clock.advance(1s);
  ready("b");
  std::optional<Result<Scheduler::HeadroomResult>> got;
  scheduler_->make_headroom(1600 * MiB, [&](Result<Scheduler::HeadroomResult> r) { got.emplace(std::move(r)); });
  t_.clock.advance(1s);
  ASSERT_TRUE(got && got->ok());
  EXPECT_EQ(got->value().evicted, std::vector<std::string>{"a"});
  EXPECT_EQ(got->value().freed_bytes, 400 * MiB);
  EXPECT_EQ(state("a"), WorkerState::kStopped);
  EXPECT_EQ(state("b"), WorkerState::kReady);
}

TEST_F(SchedulerTest, RamPressureStopsModelsUntilUnderTheThresholdPressureOnlyOnesToo) {
  policies_["a"] = [](ModelConfig& m) { m.pressure_evict_only = true; };
  config_.budget = MemoryBudget{};
  memory_.sys = SystemFigures{10000 * MiB, 5000 * MiB};
  make({"a", "b"});
  ready("a");
  ready("b");
  t_.clock.advance(500s);  // both far past their idle period: b is idled out, a is not
  EXPECT_EQ(state("a"), WorkerState::kReady) << "pressure-only: never idled out";
  EXPECT_EQ(state("b"), WorkerState::kStopped);
  memory_.sys->available_bytes = 500 * MiB;  // 95 % in use
  t_.clock.advance(2s);
  EXPECT_EQ(state("a"), WorkerState::kStopped) << "under pressure it goes";
  EXPECT_TRUE(scheduler_->status().pressure.ram);
  ASSERT_FALSE(scheduler_->status().pressure.events.empty());
  EXPECT_EQ(scheduler_->status().pressure.events.back().kind, "ram");
}

TEST_F(SchedulerTest, RamPressureStopsModelsInEvictionOrderAndStopsOnceUnder) {
  config_.budget = MemoryBudget{};  // auto
  memory_.sys = SystemFigures{10000 * MiB, 6000 * MiB};
  make({"a", "b", "c"});
  ready("a");
  t_.clock.advance(1s);
  ready("b");
  t_.clock.advance(1s);
  ready("c");
  memory_.measured = {{w("a")->pid(), 400 * MiB}, {w("b")->pid(), 400 * MiB}, {w("c")->pid(), 400 * MiB}};
  sample(700 * MiB);  // 93 % in use: 300 MiB over the 90 % threshold
  t_.clock.advance(2s);
  EXPECT_EQ(state("a"), WorkerState::kStopped) << "used longest ago";
  EXPECT_EQ(state("b"), WorkerState::kReady) << "a's 400 MiB cover the 300";
  EXPECT_EQ(state("c"), WorkerState::kReady);
  // Samples read before a was gone still count its memory: no second victim on them.
  t_.clock.advance(5s);
  EXPECT_EQ(state("b"), WorkerState::kReady);
  // A sample after it: still 100 MiB over (something else grew), so the next in order goes.
  sample(900 * MiB);
  t_.clock.advance(2s);
  EXPECT_EQ(state("b"), WorkerState::kStopped);
  EXPECT_EQ(state("c"), WorkerState::kReady);
  sample(1300 * MiB);  // 87 %: under
  t_.clock.advance(10s);
  EXPECT_EQ(state("c"), WorkerState::kReady);
  EXPECT_FALSE(scheduler_->status().pressure.ram);
  EXPECT_EQ(events_of("ram"), 1u) << "one event a minute while it lasts";
}

TEST_F(SchedulerTest, GpuPressureStopsOnlyAModelHoldingGpuMemory) {
  config_.budget = MemoryBudget{};
  config_.recovery_seconds = 1;
  memory_.sys = SystemFigures{10000 * MiB, 6000 * MiB};
  memory_.sys->gpus.push_back({0, "GPU", 10000 * MiB, 1000 * MiB});
  make({"a", "b"});
  ready("a");
  t_.clock.advance(1s);
  ready("b");
  memory_.measured_gpu = {{w("b")->pid(), 3000 * MiB}};
  memory_.sys->gpus[0].used_bytes = 9000 * MiB;  // 90 % of the GPU: 500 MiB over 85 %
  memory_.gpu_recover_per_read = 3000 * MiB;
  memory_.sampled = t_.clock.now();
  t_.clock.advance(2s);
  EXPECT_EQ(state("b"), WorkerState::kStopped) << "it holds the GPU memory";
  EXPECT_EQ(state("a"), WorkerState::kReady) << "first in eviction order, but holds none on a GPU";
  EXPECT_EQ(events_of("gpu"), 1u);
  memory_.sampled = t_.clock.now();  // the GPU's use came down with b (gpu_recover_per_read)
  t_.clock.advance(5s);
  EXPECT_FALSE(scheduler_->status().pressure.gpu);
  EXPECT_EQ(state("a"), WorkerState::kReady);
}

TEST_F(SchedulerTest, GpuPressureWithABudgetUnderTheThreshold) {
  config_.budget = MemoryBudget{};
  config_.gpu_budgets = {*ParseBudgetBytes(5000 * MiB)};
  memory_.sys = SystemFigures{10000 * MiB, 6000 * MiB};
  memory_.sys->gpus.push_back({0, "GPU", 10000 * MiB, 6000 * MiB});  // 60 %, but over the budget
  make({"a"});
  t_.clock.advance(2s);
  const auto st = scheduler_->status();
  EXPECT_TRUE(st.pressure.gpu);
  ASSERT_EQ(st.pressure.events.size(), 1u);
  EXPECT_NE(st.pressure.events[0].message.find("(threshold 85%, budget 4.9 GiB)"), std::string::npos)
      << st.pressure.events[0].message;
}

TEST_F(SchedulerTest, SustainedCpuPressureStopsIdleModelsOneAMinuteButNeverAWarmOne) {
  config_.budget = MemoryBudget{};
  policies_["c"] = [](ModelConfig& m) { m.pressure_evict_only = true; };  // never idled out
  make({"a", "b", "c"});  // idle period 100 s: WARM for 50 s after a request, then IDLE
  ready("a");
  ready("c");
  t_.clock.advance(60s);  // a and c are IDLE
  ready("b");             // b is WARM
  load_.cpu = 95;
  t_.clock.advance(20s);
  EXPECT_EQ(state("a"), WorkerState::kReady) << "not sustained yet (30 s)";
  EXPECT_FALSE(scheduler_->status().pressure.cpu);
  t_.clock.advance(12s);
  EXPECT_TRUE(scheduler_->status().pressure.cpu);
  EXPECT_EQ(state("a"), WorkerState::kStopped) << "first in eviction order";
  EXPECT_EQ(state("c"), WorkerState::kReady) << "one a minute";
  EXPECT_EQ(state("b"), WorkerState::kReady);
  // The CPU stays busy for minutes; b is used every 40 s, so it stays WARM and stays.
  ready("b");
  t_.clock.advance(40s);
  EXPECT_EQ(state("c"), WorkerState::kReady) << "a minute has not passed since a went";
  for (int i = 0; i < 3; ++i) {
    ready("b");
    t_.clock.advance(40s);
    EXPECT_EQ(state("b"), WorkerState::kReady) << i;
  }
  EXPECT_EQ(state("c"), WorkerState::kStopped);
  EXPECT_TRUE(scheduler_->status().pressure.cpu);
  EXPECT_EQ(events_of("cpu"), 3u) << "one a minute";
}

TEST_F(SchedulerTest, LowDiskSetsTheFlagAndOneEventAndStopsNothing) {
  config_.budget = MemoryBudget{};
  load_.free = {{"/state", 1024 * MiB}, {"/logs", 100 * 1024 * MiB}};
  make({"a"});
  ready("a");
  t_.clock.advance(5s);
  EXPECT_EQ(load_.asked, (std::vector<std::string>{"/state", "/logs"}));
  const auto st = scheduler_->status();
  EXPECT_TRUE(st.pressure.disk);
  EXPECT_FALSE(st.pressure.ram || st.pressure.gpu || st.pressure.cpu);
  ASSERT_EQ(st.pressure.events.size(), 1u);
  EXPECT_EQ(st.pressure.events[0].kind, "disk");
  EXPECT_NE(st.pressure.events[0].message.find("/state has 1 GiB free"), std::string::npos)
      << st.pressure.events[0].message;
  EXPECT_EQ(state("a"), WorkerState::kReady);
  load_.free["/state"] = 50ull * 1024 * MiB;
  t_.clock.advance(2s);
  EXPECT_FALSE(scheduler_->status().pressure.disk);
}

TEST_F(SchedulerTest, PressureEventsAreDebouncedOnePerKindPerMinute) {
  config_.budget = MemoryBudget{};
  load_.free = {{"/state", 0}};
  memory_.sys = SystemFigures{10000 * MiB, 100 * MiB};  // 99 % in use, nothing to stop
  make({});
  t_.clock.advance(59s);
  EXPECT_EQ(events_of("disk"), 1u);
  EXPECT_EQ(events_of("ram"), 1u);
  t_.clock.advance(2s);  // a minute after the first ones
  EXPECT_EQ(events_of("disk"), 2u);
  EXPECT_EQ(events_of("ram"), 2u);
  t_.clock.advance(120s);
  EXPECT_EQ(events_of("disk"), 4u);
  std::vector<WallTime> disk_at;
  for (const auto& e : scheduler_->status().pressure.events)
    if (e.kind == "disk") disk_at.push_back(e.at);
  for (size_t i = 1; i < disk_at.size(); ++i) EXPECT_EQ(disk_at[i] - disk_at[i - 1], 60s) << i;
  EXPECT_GE(load_.reads, 180);
  EXPECT_LE(load_.reads, 182) << "sampled once a second, not every tick";
}

}  // namespace
}  // namespace kitty
