// The memory ledger on a real loop and pool with a fake probe and a real MemorySampler: what
// each model is expected to take (config, unknown, learned), which runs are learned (only one
// sampled between its ready and its stop, or a crash sampled after its ready), the store written
// and read back by a later ledger for the same config only, budgets too small for a model, and
// the machine's figures as the sampler last read them.
#include "kitty/manager/memory_ledger.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "kitty/base/asio_clock.h"
#include "kitty/base/blocking_pool.h"
#include "kitty/base/file_system.h"
#include "kitty/memory/memory_probe.h"
#include "kitty/testing/fake_memory_probe.h"
#include "kitty/testing/temp_dir.h"

namespace kitty {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing_util::RunUntil;

constexpr uint64_t kGiB = 1ull << 30;

ModelConfig CommandModel(const std::string& id, std::optional<uint64_t> memory_bytes) {
  ModelConfig m;
  m.id = id;
  m.backend = Backend::kCommand;
  // Not on PATH: the key's engine stamp is empty, the same on every machine.
  m.command = {"kitty-ledger-test-engine-not-on-path", "--port", "${PORT}"};
  m.memory_bytes = memory_bytes;
  return m;
}

struct Rig {
  Rig() {
    env.clock = &clock;
    env.blocking = &pool;
    env.memory = &probe;
    env.events = &events;
    env.fs = &RealFileSystem();
  }
  ~Rig() {
    probe.gate(false);
    ledger.reset();  // before the sampler whose on_gone it clears
    sampler.reset();
  }

  std::string store_path() const { return dir.path() + "/footprints.json"; }

  /// A ledger over `models` and the rig's store, initialised, the sampler not yet attached.
  void make_ledger(std::vector<ModelConfig> ms) {
    models = std::move(ms);
    ledger = std::make_unique<MemoryLedger>(env, models, store_path());
    ledger->init();
  }
  /// The sampler over `running`, attached before it starts (as the daemon does); waits for
  /// its first read unless the probe is gated.
  void start_sampler(bool wait = true) {
    sampler = std::make_unique<MemorySampler>(env, [this] { return running; }, std::chrono::hours(1));
    ledger->attach(sampler.get());
    sampler->start();
    if (!wait) return;
    ASSERT_TRUE(RunUntil(io, [&] { return sampler->sampled_at().has_value(); }, 10s));
  }

  const ModelConfig& config(const std::string& id) const {
    for (const auto& m : models)
      if (m.id == id) return m;
    static ModelConfig none;
    return none;
  }

  /// Publishes `kind` for group `pgid` of model `id`; returns the clock just after, so that a
  /// read that began at or after it began after the event.
  TimePoint publish(EventKind kind, int pgid, const std::string& id = "m") {
    events.publish({kind, id, pgid, clock.now()});
    return clock.now();
  }
  /// Waits for a read of `pgid` that began at or after `t` (the sampler re-reads soon after
  /// any transition).
  bool sampled_since(int pgid, TimePoint t) {
    return RunUntil(
        io, [&] { auto p = sampler->peak(pgid); return p && p->samples > 0 && p->last_seen >= t; }, 10s);
  }
  /// A whole run the ledger learns from: spawned, ready, sampled while ready, stopped, gone.
  void learn_run(const std::string& id, int pgid) {
    running.push_back(pgid);
    publish(EventKind::kSpawned, pgid, id);
    const TimePoint ready = publish(EventKind::kReady, pgid, id);
    ASSERT_TRUE(sampled_since(pgid, ready));
    publish(EventKind::kStopping, pgid, id);
    publish(EventKind::kGone, pgid, id);
    std::erase(running, pgid);
  }

  /// The store file, once it parses and `done` holds for it.
  bool wait_store(const std::function<bool(const nlohmann::json&)>& done) {
    return RunUntil(
        io,
        [&] {
          std::ifstream in(store_path());
          if (!in) return false;
          std::stringstream text;
          text << in.rdbuf();
          auto j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
          return !j.is_discarded() && done(j);
        },
        10s);
  }

  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard =
      boost::asio::make_work_guard(io);
  AsioClock clock{io};
  testing_util::FakeMemoryProbe probe{64 * kGiB, 40 * kGiB};
  EventBus events;
  testing_util::TempDir dir;
  // Two threads: a read held at the gate must not hold up the store's writes. After what its
  // jobs use: destroyed (joined) before them.
  BlockingPool pool{2};
  Env env;
  std::vector<ModelConfig> models;
  std::vector<int> running;
  std::unique_ptr<MemorySampler> sampler;  // outlives the ledger, which clears its on_gone
  std::unique_ptr<MemoryLedger> ledger;
};

// The peak_bytes of the store's runs, over all entries.
std::vector<uint64_t> StoredPeaks(const nlohmann::json& j) {
  std::vector<uint64_t> out;
  for (const auto& e : j.at("entries"))
    for (const auto& r : e.at("runs")) out.push_back(r.at("peak_bytes").get<uint64_t>());
  return out;
}

// ---- 1. expected footprints before any run -------------------------------------------------

TEST(MemoryLedgerTest, ACommandModelWithMemoryIsExpectedAtThatFigure) {
  Rig r;
  r.make_ledger({CommandModel("m", 3 * kGiB)});
  EXPECT_EQ(r.ledger->expected_bytes(r.config("m")), 3 * kGiB);
  ModelMemory mm = r.ledger->model("m");
  EXPECT_EQ(mm.basis, "config");
  EXPECT_EQ(mm.expected_bytes, 3 * kGiB);
  EXPECT_EQ(mm.estimate_bytes, 3 * kGiB);
  EXPECT_FALSE(mm.learned_bytes.has_value());
  EXPECT_FALSE(mm.estimate_error.has_value());
  EXPECT_THAT(mm.explanation, HasSubstr("configured"));
}

TEST(MemoryLedgerTest, AModelWithNeitherMemoryNorGgufIsUnknown) {
  Rig r;
  r.make_ledger({CommandModel("m", std::nullopt)});
  EXPECT_FALSE(r.ledger->expected_bytes(r.config("m")).has_value());
  ModelMemory mm = r.ledger->model("m");
  EXPECT_EQ(mm.basis, "unknown");
  EXPECT_FALSE(mm.expected_bytes.has_value());
  EXPECT_FALSE(mm.estimate_bytes.has_value());
  EXPECT_FALSE(mm.explanation.empty());

  // Nor is anything expected of a model the ledger was not given.
  EXPECT_FALSE(r.ledger->expected_bytes(CommandModel("other", kGiB)).has_value());
  EXPECT_EQ(r.ledger->model("other").basis, "unknown");
}

TEST(MemoryLedgerTest, ALlamaServerModelWhoseFileCannotBeReadIsUnknownWithAnExplanation) {
  Rig r;
  ModelConfig missing;
  missing.id = "missing";
  missing.model_path = r.dir.path() + "/no-such-model.gguf";
  ModelConfig garbage = missing;
  garbage.id = "garbage";
  garbage.model_path = r.dir.path() + "/not-a-gguf.gguf";
  std::ofstream(garbage.model_path) << "this is not a GGUF file\n";
  r.make_ledger({missing, garbage});
  for (const char* id : {"missing", "garbage"}) {
    SCOPED_TRACE(id);
    EXPECT_FALSE(r.ledger->expected_bytes(r.config(id)).has_value());
    ModelMemory mm = r.ledger->model(id);
    EXPECT_EQ(mm.basis, "unknown");
    EXPECT_FALSE(mm.expected_bytes.has_value());
    EXPECT_FALSE(mm.estimate_bytes.has_value());
    EXPECT_THAT(mm.explanation, HasSubstr("no estimate: "));
  }
  // The explanation says why: the file is missing, or is not a GGUF file.
  EXPECT_THAT(r.ledger->model("missing").explanation, HasSubstr("no-such-model.gguf"));
  EXPECT_THAT(r.ledger->model("garbage").explanation, HasSubstr("GGUF"));
}

// ---- 2-6. which runs are learned -----------------------------------------------------------

TEST(MemoryLedgerTest, ARunSampledWhileReadyIsLearnedAndSaved) {
  Rig r;
  r.make_ledger({CommandModel("m", 4000)});
  ASSERT_NO_FATAL_FAILURE(r.start_sampler());
  GroupMemory g;  // host bytes = PSS when there is PSS (no footprint on Linux)
  g.rss_bytes = 5000;
  g.pss_bytes = 3000;
  g.pss_available = true;
  r.probe.set(7, g);
  ASSERT_EQ(g.host_bytes(), 3000u);

  ASSERT_NO_FATAL_FAILURE(r.learn_run("m", 7));

  ModelMemory mm = r.ledger->model("m");
  EXPECT_EQ(mm.basis, "learned");
  EXPECT_EQ(mm.learned_bytes, 3000u);
  EXPECT_EQ(mm.expected_bytes, 3000u);
  EXPECT_EQ(mm.estimate_bytes, 4000u) << "the initial footprint is still reported";
  ASSERT_TRUE(mm.estimate_error.has_value());
  EXPECT_DOUBLE_EQ(*mm.estimate_error, (4000.0 - 3000.0) / 3000.0);
  EXPECT_EQ(r.ledger->expected_bytes(r.config("m")), 3000u);

  ASSERT_TRUE(r.wait_store([](const nlohmann::json& j) { return StoredPeaks(j) == std::vector<uint64_t>{3000}; }))
      << "footprints.json written with the run's peak";
}

TEST(MemoryLedgerTest, TheLearnedFigureIsThePeakOfTheRun) {
  Rig r;
  r.make_ledger({CommandModel("m", std::nullopt)});
  ASSERT_NO_FATAL_FAILURE(r.start_sampler());
  r.running = {7};
  r.probe.set_rss(7, 6000);
  r.publish(EventKind::kSpawned, 7);
  TimePoint t = r.publish(EventKind::kReady, 7);
  ASSERT_TRUE(r.sampled_since(7, t));
  r.probe.set_rss(7, 2000);  // it shrinks later on: the peak stays
  t = r.publish(EventKind::kReady, 8, "unrelated");  // any transition asks for a re-read
  ASSERT_TRUE(r.sampled_since(7, t));
  EXPECT_EQ(r.sampler->peak(7)->samples, 2);
  r.publish(EventKind::kStopping, 7);
  r.publish(EventKind::kGone, 7);

  ModelMemory mm = r.ledger->model("m");
  EXPECT_EQ(mm.basis, "learned");
  EXPECT_EQ(mm.learned_bytes, 6000u);
  EXPECT_FALSE(mm.estimate_bytes.has_value());
  EXPECT_FALSE(mm.estimate_error.has_value()) << "no estimate to compare";
}

TEST(MemoryLedgerTest, ARunStoppedBeforeAnySampleAfterItsReadyIsNotLearned) {
  Rig r;
  r.make_ledger({CommandModel("m", 4000)});
  ASSERT_NO_FATAL_FAILURE(r.start_sampler());
  r.running = {7};
  const TimePoint spawned = r.publish(EventKind::kSpawned, 7);
  ASSERT_TRUE(r.sampled_since(7, spawned)) << "sampled while loading: the sampler has a peak to hand over";
  // Ready, then stopped at once: nothing runs on the loop in between, so no read lands.
  r.publish(EventKind::kReady, 7);
  r.publish(EventKind::kStopping, 7);
  r.publish(EventKind::kGone, 7);

  ModelMemory mm = r.ledger->model("m");
  EXPECT_EQ(mm.basis, "config");
  EXPECT_FALSE(mm.learned_bytes.has_value());
  EXPECT_EQ(r.ledger->expected_bytes(r.config("m")), 4000u);
}

TEST(MemoryLedgerTest, AReadBegunBeforeTheReadyDoesNotCountButTheReadyStillGetsItsReRead) {
  Rig r;
  r.make_ledger({CommandModel("m", 4000)});
  ASSERT_NO_FATAL_FAILURE(r.start_sampler());
  r.running = {7};
  r.probe.gate(true);
  const int calls = r.probe.calls.load();
  r.publish(EventKind::kSpawned, 7);
  ASSERT_TRUE(RunUntil(r.io, [&] { return r.probe.calls.load() > calls; }, 10s)) << "a read on the pool";
  const TimePoint ready = r.publish(EventKind::kReady, 7);  // while that read is held
  r.probe.gate(false);
  ASSERT_TRUE(RunUntil(r.io, [&] { return r.sampler->peak(7).has_value(); }, 10s));
  EXPECT_LT(r.sampler->peak(7)->last_seen, ready) << "its figures are as of its start, before the ready";

  // The ready came while a read was on the pool: a fresh read follows soon, not an interval
  // later (here an hour).
  ASSERT_TRUE(r.sampled_since(7, ready)) << "no re-read after a ready that came during a read";
  r.publish(EventKind::kStopping, 7);
  r.publish(EventKind::kGone, 7);
  EXPECT_EQ(r.ledger->model("m").learned_bytes, 7000u);
}

TEST(MemoryLedgerTest, AReadBegunBeforeTheReadyAloneDoesNotMakeARunLearned) {
  Rig r;
  r.make_ledger({CommandModel("m", 4000)});
  ASSERT_NO_FATAL_FAILURE(r.start_sampler());
  r.running = {7};
  r.probe.gate(true);
  const int calls = r.probe.calls.load();
  r.publish(EventKind::kSpawned, 7);
  ASSERT_TRUE(RunUntil(r.io, [&] { return r.probe.calls.load() > calls; }, 10s));
  const TimePoint ready = r.publish(EventKind::kReady, 7);
  r.probe.gate(false);
  ASSERT_TRUE(RunUntil(r.io, [&] { return r.sampler->peak(7).has_value(); }, 10s));
  ASSERT_LT(r.sampler->peak(7)->last_seen, ready);
  r.publish(EventKind::kStopping, 7);
  r.publish(EventKind::kGone, 7);

  EXPECT_FALSE(r.ledger->model("m").learned_bytes.has_value());
  EXPECT_EQ(r.ledger->model("m").basis, "config");
}

TEST(MemoryLedgerTest, ARunSampledOnlyDuringItsTeardownIsNotLearned) {
  Rig r;
  r.make_ledger({CommandModel("m", 4000)});
  ASSERT_NO_FATAL_FAILURE(r.start_sampler());
  r.running = {7};
  r.publish(EventKind::kSpawned, 7);
  r.publish(EventKind::kReady, 7);
  const TimePoint stopping = r.publish(EventKind::kStopping, 7);
  ASSERT_TRUE(r.sampled_since(7, stopping)) << "a read after the ready, but during the teardown";
  r.publish(EventKind::kGone, 7);

  EXPECT_FALSE(r.ledger->model("m").learned_bytes.has_value());
  EXPECT_EQ(r.ledger->model("m").basis, "config");
}

TEST(MemoryLedgerTest, ACrashSampledAfterItsReadyIsLearned) {
  Rig r;
  r.make_ledger({CommandModel("m", 4000)});
  ASSERT_NO_FATAL_FAILURE(r.start_sampler());
  r.running = {7};
  r.publish(EventKind::kSpawned, 7);
  const TimePoint ready = r.publish(EventKind::kReady, 7);
  ASSERT_TRUE(r.sampled_since(7, ready));
  r.publish(EventKind::kGone, 7);  // no kStopping: it died on its own

  EXPECT_EQ(r.ledger->model("m").basis, "learned");
  EXPECT_EQ(r.ledger->model("m").learned_bytes, 7000u);
  ASSERT_TRUE(r.wait_store([](const nlohmann::json& j) { return StoredPeaks(j) == std::vector<uint64_t>{7000}; }));
}

TEST(MemoryLedgerTest, ARunThatNeverBecameReadyIsNotLearned) {
  Rig r;
  r.make_ledger({CommandModel("m", 4000)});
  ASSERT_NO_FATAL_FAILURE(r.start_sampler());
  r.running = {7};
  const TimePoint spawned = r.publish(EventKind::kSpawned, 7);
  ASSERT_TRUE(r.sampled_since(7, spawned));
  r.publish(EventKind::kGone, 7);  // a failed load

  EXPECT_FALSE(r.ledger->model("m").learned_bytes.has_value());
  EXPECT_EQ(r.ledger->model("m").basis, "config");
}

TEST(MemoryLedgerTest, AnEarlierRunUnderTheSamePgidDoesNotMakeAFailedLoadLearned) {
  Rig r;
  r.make_ledger({CommandModel("m", 4000), CommandModel("n", 4000)});
  ASSERT_NO_FATAL_FAILURE(r.start_sampler());
  // A run that became ready and crashed before any read saw its group: the sampler has no
  // peak to hand over, so the ledger hears nothing of it at its kGone.
  r.publish(EventKind::kSpawned, 7, "m");
  r.publish(EventKind::kReady, 7, "m");
  r.publish(EventKind::kGone, 7, "m");
  EXPECT_FALSE(r.ledger->model("m").learned_bytes.has_value());

  // Later the pgid is reused by a worker whose load fails: sampled, never ready.
  r.running = {7};
  const TimePoint spawned = r.publish(EventKind::kSpawned, 7, "n");
  ASSERT_TRUE(r.sampled_since(7, spawned));
  r.publish(EventKind::kGone, 7, "n");

  EXPECT_FALSE(r.ledger->model("n").learned_bytes.has_value()) << "the earlier run's ready is not this one's";
  EXPECT_EQ(r.ledger->model("n").basis, "config");
}

// ---- teardown --------------------------------------------------------------------------------

// The daemon builds the sampler after the ledger, so destroys it first; a test may do the
// reverse. Neither order may reach the one already gone (ASan sees it if it does).
TEST(MemoryLedgerTest, TheSamplerMayBeDestroyedBeforeTheLedger) {
  Rig r;
  r.make_ledger({CommandModel("m", 4000)});
  ASSERT_NO_FATAL_FAILURE(r.start_sampler());
  r.sampler.reset();
  r.ledger.reset();
}

TEST(MemoryLedgerTest, AGroupGoneAfterTheLedgerIsDestroyedDoesNotReachIt) {
  Rig r;
  r.make_ledger({CommandModel("m", 4000)});
  ASSERT_NO_FATAL_FAILURE(r.start_sampler());
  r.running = {7};
  r.publish(EventKind::kSpawned, 7);
  const TimePoint ready = r.publish(EventKind::kReady, 7);
  ASSERT_TRUE(r.sampled_since(7, ready));
  r.ledger.reset();
  r.publish(EventKind::kGone, 7);  // the sampler hands the peak over to no one
  EXPECT_FALSE(r.sampler->peak(7).has_value());
}

// ---- 7. persistence ------------------------------------------------------------------------

TEST(MemoryLedgerTest, ALaterLedgerReadsTheLearnedFigureForTheSameConfigOnly) {
  Rig r;
  ModelConfig m = CommandModel("m", 4000);
  r.make_ledger({m});
  ASSERT_NO_FATAL_FAILURE(r.start_sampler());
  r.probe.set_rss(7, 2500);
  ASSERT_NO_FATAL_FAILURE(r.learn_run("m", 7));
  ASSERT_EQ(r.ledger->model("m").learned_bytes, 2500u);
  ASSERT_TRUE(r.wait_store([](const nlohmann::json& j) { return StoredPeaks(j) == std::vector<uint64_t>{2500}; }));

  ModelConfig other_argv = m;
  other_argv.id = "argv";
  other_argv.command.push_back("--big-cache");
  ModelConfig other_ctx = m;
  other_ctx.id = "ctx";
  other_ctx.ctx = 8192;
  ASSERT_NE(MakeFootprintKey(m, {}, {}, {}), MakeFootprintKey(other_argv, {}, {}, {}));
  ASSERT_NE(MakeFootprintKey(m, {}, {}, {}), MakeFootprintKey(other_ctx, {}, {}, {}));
  MemoryLedger later(r.env, {m, other_argv, other_ctx}, r.store_path());
  EXPECT_EQ(later.model("m").basis, "unknown") << "nothing known before init()";
  later.init();

  ModelMemory mm = later.model("m");
  EXPECT_EQ(mm.basis, "learned");
  EXPECT_EQ(mm.learned_bytes, 2500u);
  EXPECT_EQ(later.expected_bytes(m), 2500u);
  ASSERT_TRUE(mm.estimate_error.has_value());
  EXPECT_DOUBLE_EQ(*mm.estimate_error, (4000.0 - 2500.0) / 2500.0);
  for (const ModelConfig* changed : {&other_argv, &other_ctx}) {
    SCOPED_TRACE(changed->id);
    ModelMemory c = later.model(changed->id);
    EXPECT_EQ(c.basis, "config");
    EXPECT_FALSE(c.learned_bytes.has_value());
    EXPECT_EQ(later.expected_bytes(*changed), 4000u);
  }
}

// ---- 8. budgets too small ------------------------------------------------------------------

TEST(MemoryLedgerTest, AFixedBudgetSmallerThanAModelNamesItAndBothFigures) {
  Rig r;
  r.make_ledger({CommandModel("big", 8 * kGiB), CommandModel("small", 1 * kGiB),
                 CommandModel("unknown", std::nullopt)});
  MemoryBudget bytes;
  bytes.kind = MemoryBudget::Kind::kBytes;
  bytes.bytes = 4 * kGiB;
  auto too_big = r.ledger->too_big_for(bytes, 64 * kGiB);
  ASSERT_EQ(too_big.size(), 1u);
  EXPECT_THAT(too_big[0], HasSubstr("'big'"));
  EXPECT_THAT(too_big[0], HasSubstr("8 GiB"));
  EXPECT_THAT(too_big[0], HasSubstr("4 GiB"));

  MemoryBudget percent;
  percent.kind = MemoryBudget::Kind::kPercent;
  percent.percent = 25;
  too_big = r.ledger->too_big_for(percent, 16 * kGiB);
  ASSERT_EQ(too_big.size(), 1u);
  EXPECT_THAT(too_big[0], HasSubstr("'big'"));
  EXPECT_THAT(too_big[0], HasSubstr("8 GiB"));
  EXPECT_THAT(too_big[0], HasSubstr("25% = 4 GiB"));

  bytes.bytes = 8 * kGiB;
  EXPECT_TRUE(r.ledger->too_big_for(bytes, 64 * kGiB).empty()) << "exactly the budget fits";
  EXPECT_TRUE(r.ledger->too_big_for(MemoryBudget{}, 1).empty()) << "auto budgets are never too small up front";
}

TEST(MemoryLedgerTest, ALearnedFigureUnderTheBudgetClearsATooBigEstimate) {
  Rig r;
  r.make_ledger({CommandModel("big", 8 * kGiB)});
  ASSERT_NO_FATAL_FAILURE(r.start_sampler());
  MemoryBudget budget;
  budget.kind = MemoryBudget::Kind::kBytes;
  budget.bytes = 4 * kGiB;
  ASSERT_EQ(r.ledger->too_big_for(budget, 64 * kGiB).size(), 1u);

  r.probe.set_rss(7, 3 * kGiB);
  ASSERT_NO_FATAL_FAILURE(r.learn_run("big", 7));
  ASSERT_EQ(r.ledger->model("big").learned_bytes, 3 * kGiB);
  EXPECT_TRUE(r.ledger->too_big_for(budget, 64 * kGiB).empty());

  budget.bytes = 2 * kGiB;  // and one under the learned figure names that figure
  auto too_big = r.ledger->too_big_for(budget, 64 * kGiB);
  ASSERT_EQ(too_big.size(), 1u);
  EXPECT_THAT(too_big[0], HasSubstr("3 GiB"));
  EXPECT_THAT(too_big[0], HasSubstr("learned"));
  EXPECT_THAT(too_big[0], HasSubstr("2 GiB"));
}

// ---- 9. the machine ------------------------------------------------------------------------

TEST(MemoryLedgerTest, SystemFiguresAreTheSamplersLastReadWithTheWorkersInIt) {
  Rig r;
  r.make_ledger({CommandModel("m", std::nullopt)});
  EXPECT_FALSE(r.ledger->system().has_value()) << "no sampler";
  EXPECT_FALSE(r.ledger->sampled_at().has_value());
  EXPECT_FALSE(r.ledger->measured_bytes(7).has_value());

  GroupMemory a;  // host bytes 3000 (PSS)
  a.rss_bytes = 5000;
  a.pss_bytes = 3000;
  a.pss_available = true;
  a.gpu_bytes = 400;
  a.gpu_available = true;
  r.probe.set(7, a);
  r.probe.set_rss(8, 1500);  // host bytes 1500 (RSS), no GPU figures
  r.probe.dead = {9};        // listed, no live member
  r.running = {7, 8, 9};
  r.probe.gate(true);
  ASSERT_NO_FATAL_FAILURE(r.start_sampler(/*wait=*/false));
  ASSERT_TRUE(RunUntil(r.io, [&] { return r.probe.calls.load() == 1; }, 10s));
  EXPECT_FALSE(r.ledger->system().has_value()) << "before the first read is back";
  EXPECT_FALSE(r.ledger->sampled_at().has_value());
  const TimePoint before = r.clock.now();
  r.probe.gate(false);
  ASSERT_TRUE(RunUntil(r.io, [&] { return r.ledger->sampled_at().has_value(); }, 10s));

  EXPECT_LE(*r.ledger->sampled_at(), before) << "as of the read's start";
  auto s = r.ledger->system();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->total_bytes, 64 * kGiB);
  EXPECT_EQ(s->available_bytes, 40 * kGiB);
  ASSERT_EQ(s->gpus.size(), 1u);
  EXPECT_EQ(s->gpus[0].name, "NVIDIA H200");
  EXPECT_EQ(s->gpus[0].used_bytes, 100u);
  EXPECT_EQ(s->workers_bytes, 3000u + 1500u);
  EXPECT_EQ(r.ledger->measured_bytes(7), 3000u);
  EXPECT_EQ(r.ledger->measured_gpu_bytes(7), 400u);
  EXPECT_EQ(r.ledger->measured_bytes(8), 1500u);
  EXPECT_FALSE(r.ledger->measured_gpu_bytes(8).has_value());
  EXPECT_FALSE(r.ledger->measured_bytes(9).has_value());

  // The next read: both figures move together.
  {
    std::lock_guard lock(r.probe.mu);
    r.probe.sys.available_bytes = 30 * kGiB;
  }
  r.probe.set_rss(8, 2500);
  const TimePoint t = r.publish(EventKind::kReady, 8);
  ASSERT_TRUE(r.sampled_since(8, t));
  s = r.ledger->system();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->available_bytes, 30 * kGiB);
  EXPECT_EQ(s->workers_bytes, 3000u + 2500u);
  EXPECT_GE(*r.ledger->sampled_at(), t);
}

TEST(MemoryLedgerTest, ReadSystemReadsTheProbeOffTheLoopAndAnswersOnIt) {
  Rig r;
  r.make_ledger({CommandModel("m", std::nullopt)});
  const auto loop = std::this_thread::get_id();
  std::optional<SystemFigures> got;
  bool called = false, on_loop = false;
  r.ledger->read_system([&](std::optional<SystemFigures> f) {
    called = true;
    on_loop = std::this_thread::get_id() == loop;
    got = std::move(f);
  });
  ASSERT_TRUE(RunUntil(r.io, [&] { return called; }, 10s));
  EXPECT_TRUE(on_loop);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->total_bytes, 64 * kGiB);
  EXPECT_EQ(got->available_bytes, 40 * kGiB);
  EXPECT_FALSE(got->workers_bytes.has_value()) << "not read with the workers";
}

}  // namespace
}  // namespace kitty
