#include "kitty/memory/footprint_store.h"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "kitty/testing/fake_file_system.h"
#include "kitty/testing/temp_dir.h"

namespace kitty {
namespace {

using ::testing::HasSubstr;
using std::chrono::hours;
using std::chrono::minutes;

constexpr const char* kPath = "/state/footprints.json";

// A fixed wall time: 2026-11-29 09:00 UTC.
const WallTime kT0 = WallTime(std::chrono::seconds(1'795'942'800));

ModelConfig Smol() {
  ModelConfig m;
  m.id = "smollm2-135m";
  m.model_path = "/models/smol.gguf";
  m.ctx = 2048;
  m.parallel = 2;
  m.threads = 2;
  return m;
}

FileStamp ModelStamp() { return {"/models/smol.gguf", 98'362'432, 1'700'000'000'000'000'000}; }
FileStamp EngineStamp() { return {"/bin/llama-server", 9'000'000, 1'700'000'001'000'000'000}; }

FootprintKey Key(const ModelConfig& m = Smol()) {
  return MakeFootprintKey(m, ModelStamp(), {}, EngineStamp());
}

class FootprintStoreTest : public ::testing::Test {
 protected:
  FakeFileSystem fs_;
  FootprintStore store_{kPath, fs_};
};

TEST_F(FootprintStoreTest, RoundTripThroughTheFile) {
  ASSERT_TRUE(store_.load(kT0).ok());  // no file yet: empty, fine
  EXPECT_EQ(store_.size(), 0u);
  store_.Record(Key(), 182'000'000, kT0);
  EXPECT_EQ(store_.Lookup(Key(), kT0), 182'000'000u);
  ASSERT_TRUE(store_.save().ok());
  EXPECT_EQ(fs_.writes, 1);

  // The next daemon reads it back.
  FootprintStore next(kPath, fs_);
  ASSERT_TRUE(next.load(kT0 + hours(1)).ok());
  EXPECT_EQ(next.size(), 1u);
  EXPECT_EQ(next.Lookup(Key(), kT0 + hours(1)), 182'000'000u);

  // The file is readable JSON that says what it holds.
  nlohmann::json j = nlohmann::json::parse(fs_.files[kPath]);
  EXPECT_EQ(j["version"], 1);
  ASSERT_EQ(j["entries"].size(), 1u);
  EXPECT_EQ(j["entries"][0]["key"]["model"]["path"], "/models/smol.gguf");
  EXPECT_EQ(j["entries"][0]["key"]["ctx"], 2048);
  EXPECT_TRUE(j["entries"][0]["key"]["batch"].is_null());
  EXPECT_EQ(j["entries"][0]["runs"][0]["peak_bytes"], 182'000'000u);
  EXPECT_EQ(j["entries"][0]["runs"][0]["recorded_at_ms"], 1'795'942'800'000);
}

TEST_F(FootprintStoreTest, RunsOlderThan24HoursAreStale) {
  store_.Record(Key(), 100, kT0);
  EXPECT_EQ(store_.Lookup(Key(), kT0 + hours(23) + minutes(59)), 100u);
  EXPECT_EQ(store_.Lookup(Key(), kT0 + hours(24)), 100u);  // exactly 24 h: still fresh
  EXPECT_FALSE(store_.Lookup(Key(), kT0 + hours(24) + minutes(1)).has_value());

  // Loading drops them from the file's contents too.
  ASSERT_TRUE(store_.save().ok());
  FootprintStore later(kPath, fs_);
  ASSERT_TRUE(later.load(kT0 + hours(25)).ok());
  EXPECT_EQ(later.size(), 0u);
  ASSERT_TRUE(later.save().ok());
  EXPECT_THAT(fs_.files[kPath], HasSubstr("\"entries\": []"));
}

TEST_F(FootprintStoreTest, LookupIsTheLargestFreshPeak) {
  store_.Record(Key(), 300, kT0);             // a busy run
  store_.Record(Key(), 200, kT0 + hours(2));  // a quiet one later the same day
  EXPECT_EQ(store_.Lookup(Key(), kT0 + hours(3)), 300u);
  // Once the busy run is stale, the quiet one is what is left.
  EXPECT_EQ(store_.Lookup(Key(), kT0 + hours(25)), 200u);
}

TEST_F(FootprintStoreTest, KeepsTheLastFewRunsPerKey) {
  for (uint64_t i = 1; i <= FootprintStore::kRunsPerKey + 1; ++i)
    store_.Record(Key(), i == 1 ? 1000 : i, kT0 + minutes(i));
  // The first (largest) run fell out: only the last kRunsPerKey are kept.
  EXPECT_EQ(store_.Lookup(Key(), kT0 + hours(1)), FootprintStore::kRunsPerKey + 1);
}

TEST_F(FootprintStoreTest, ZeroPeakIsIgnored) {
  store_.Record(Key(), 0, kT0);
  EXPECT_EQ(store_.size(), 0u);
  EXPECT_FALSE(store_.Lookup(Key(), kT0).has_value());
}

TEST_F(FootprintStoreTest, KeyChangesWithWhatChangesMemory) {
  store_.Record(Key(), 100, kT0);
  auto learned = [&](const FootprintKey& k) { return store_.Lookup(k, kT0).has_value(); };
  ASSERT_TRUE(learned(Key()));

  ModelConfig m = Smol();
  m.ctx = 4096;
  EXPECT_FALSE(learned(Key(m)));
  m = Smol();
  m.parallel = 4;
  EXPECT_FALSE(learned(Key(m)));
  m = Smol();
  m.ubatch = 256;
  EXPECT_FALSE(learned(Key(m)));
  m = Smol();
  m.ngl = 99;
  EXPECT_FALSE(learned(Key(m)));
  m = Smol();
  m.flash_attn = false;
  EXPECT_FALSE(learned(Key(m)));
  m = Smol();
  m.extra_args = {"-ctk", "q8_0"};
  EXPECT_FALSE(learned(Key(m)));
  m = Smol();
  m.env["LLAMA_ARG_CACHE_RAM"] = "0";
  EXPECT_FALSE(learned(Key(m)));

  // The model file rewritten (a new download), or a rebuilt engine.
  FileStamp stamp = ModelStamp();
  stamp.mtime_ns += 1;
  EXPECT_FALSE(learned(MakeFootprintKey(Smol(), stamp, {}, EngineStamp())));
  stamp = ModelStamp();
  stamp.size_bytes += 1;
  EXPECT_FALSE(learned(MakeFootprintKey(Smol(), stamp, {}, EngineStamp())));
  FileStamp engine = EngineStamp();
  engine.mtime_ns += 1;
  EXPECT_FALSE(learned(MakeFootprintKey(Smol(), ModelStamp(), {}, engine)));
  const FileStamp mmproj{"/models/proj.gguf", 1, 1};
  EXPECT_FALSE(learned(MakeFootprintKey(Smol(), ModelStamp(), mmproj, EngineStamp())));

  // What does not change memory keeps the key.
  m = Smol();
  m.threads = 8;
  m.port = 29001;
  m.alias = "smol";
  m.jinja = true;
  m.env["HOME"] = "/root";
  EXPECT_TRUE(learned(Key(m)));
  EXPECT_EQ(Key(m), Key());
  EXPECT_EQ(Key(m).canonical(), Key().canonical());
}

TEST_F(FootprintStoreTest, CorruptFilesAreIgnoredNotFatal) {
  for (const char* text : {
           "not json at all",
           "[1, 2, 3]",
           "{\"version\": 2, \"entries\": []}",
           "{\"version\": 1}",
           "{\"version\": 1, \"entries\": [{\"key\": {}, \"runs\": []}]}",
           "{\"version\": 1, \"entries\": [{\"key\": {\"backend\": 5}}]}",
       }) {
    SCOPED_TRACE(text);
    fs_.files[kPath] = text;
    store_.Record(Key(), 100, kT0);  // whatever was there is replaced by the (empty) file's
    Status st = store_.load(kT0);
    EXPECT_FALSE(st.ok());
    EXPECT_THAT(st.error().message, HasSubstr("footprints file /state/footprints.json"));
    EXPECT_EQ(store_.size(), 0u);
    // Still usable, and the next save replaces the bad file.
    store_.Record(Key(), 100, kT0);
    ASSERT_TRUE(store_.save().ok());
    FootprintStore next(kPath, fs_);
    ASSERT_TRUE(next.load(kT0).ok());
    EXPECT_EQ(next.Lookup(Key(), kT0), 100u);
  }
}

TEST_F(FootprintStoreTest, OneBadRunDoesNotHideTheRest) {
  // A half-valid file is refused whole: the store never plans on figures it half understood.
  store_.Record(Key(), 100, kT0);
  ASSERT_TRUE(store_.save().ok());
  nlohmann::json j = nlohmann::json::parse(fs_.files[kPath]);
  j["entries"][0]["runs"].push_back({{"peak_bytes", "big"}, {"recorded_at_ms", 1}});
  fs_.files[kPath] = j.dump();
  EXPECT_FALSE(store_.load(kT0).ok());
  EXPECT_EQ(store_.size(), 0u);
}

TEST_F(FootprintStoreTest, WriteFailureIsReported) {
  store_.Record(Key(), 100, kT0);
  fs_.fail_writes = true;
  Status st = store_.save();
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.error().message, HasSubstr("disk full"));
  // The figures stay in memory for the next try.
  EXPECT_EQ(store_.Lookup(Key(), kT0), 100u);
}

TEST_F(FootprintStoreTest, SnapshotOnTheOwnerWriteOnThePool) {
  store_.Record(Key(), 100, kT0);
  const std::string text = store_.snapshot();
  store_.Record(Key(), 200, kT0 + minutes(1));  // the owner goes on; the snapshot is fixed
  ASSERT_TRUE(FootprintStore::WriteSnapshot(fs_, kPath, text).ok());
  FootprintStore next(kPath, fs_);
  ASSERT_TRUE(next.load(kT0).ok());
  EXPECT_EQ(next.Lookup(Key(), kT0), 100u);
}

TEST_F(FootprintStoreTest, ForgetAndTheKeyLimit) {
  store_.Record(Key(), 100, kT0);
  store_.Forget(Key());
  EXPECT_FALSE(store_.Lookup(Key(), kT0).has_value());

  // Full: the key recorded longest ago goes first.
  for (size_t i = 0; i < FootprintStore::kMaxKeys; ++i) {
    ModelConfig m = Smol();
    m.ctx = static_cast<int>(1024 + i);
    store_.Record(Key(m), 100, kT0 + minutes(i));
  }
  EXPECT_EQ(store_.size(), FootprintStore::kMaxKeys);
  store_.Record(Key(), 100, kT0 + hours(20));
  EXPECT_EQ(store_.size(), FootprintStore::kMaxKeys);
  ModelConfig first = Smol();
  first.ctx = 1024;
  EXPECT_FALSE(store_.Lookup(Key(first), kT0 + hours(20)).has_value());
  EXPECT_TRUE(store_.Lookup(Key(), kT0 + hours(20)).has_value());
}

TEST(FootprintStamp, StatsARealFile) {
  testing_util::TempDir dir;
  const std::string path = dir.path() + "/m.gguf";
  std::ofstream(path) << "GGUF1234";
  auto s = StampFile(path);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->path, path);
  EXPECT_EQ(s->size_bytes, 8u);
  EXPECT_GT(s->mtime_ns, 0);
  auto missing = StampFile(dir.path() + "/none.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kFileNotFound);
}

TEST(FootprintStamp, RealDiskRoundTrip) {
  testing_util::TempDir dir;
  const std::string path = dir.path() + "/state/footprints.json";  // parent created on save
  FootprintStore store(path);
  ASSERT_TRUE(store.load(kT0).ok());
  store.Record(Key(), 123, kT0);
  ASSERT_TRUE(store.save().ok());
  FootprintStore next(path);
  ASSERT_TRUE(next.load(kT0).ok());
  EXPECT_EQ(next.Lookup(Key(), kT0), 123u);
}

}  // namespace
}  // namespace kitty
