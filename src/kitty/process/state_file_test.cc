#include "kitty/process/state_file.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "kitty/testing/fake_file_system.h"
#include "kitty/testing/temp_dir.h"

namespace kitty {
namespace {

using testing_util::TempDir;

TEST(StateFile, RecordsAndForgetsWorkersAtomically) {
  TempDir dir;
  std::string path = dir.path() + "/sub/kittyd.state";
  StateFile file(path, "tok-1");
  ASSERT_TRUE(file.save().ok());
  ASSERT_TRUE(file.record_worker("qwen", getpid()).ok());
  ASSERT_TRUE(file.record_worker("llama", 424242).ok());
  ASSERT_TRUE(file.record_worker("qwen2", getpid()).ok());  // same pid: replaced, not doubled

  auto s = ReadStateFile(path);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->token, "tok-1");
  EXPECT_EQ(s->pid, getpid());
  ASSERT_EQ(s->workers.size(), 2u);
  EXPECT_EQ(s->workers[0].model_id, "llama");
  EXPECT_EQ(s->workers[1].model_id, "qwen2");
#ifdef __linux__
  EXPECT_GT(s->pid_start_time, 0u);
  EXPECT_EQ(s->workers[1].start_time, s->pid_start_time);
#endif
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  ASSERT_TRUE(file.forget_worker(424242).ok());
  s = ReadStateFile(path);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->workers.size(), 1u);

  ASSERT_TRUE(file.remove().ok());
  EXPECT_EQ(ReadStateFile(path).error().code, ErrorCode::kFileNotFound);
  EXPECT_TRUE(file.remove().ok());  // already gone: fine
}

TEST(StateFile, MalformedFilesAreErrors) {
  TempDir dir;
  std::string path = dir.path() + "/kittyd.state";
  std::ofstream(path) << "{not json";
  EXPECT_NE(ReadStateFile(path).error().message.find("not valid JSON"), std::string::npos);
  std::ofstream(path, std::ios::trunc) << R"({"token": 5, "pid": 1})";
  EXPECT_NE(ReadStateFile(path).error().message.find("malformed"), std::string::npos);
}

TEST(StateFile, GoesThroughItsFileSystem) {
  FakeFileSystem fs;
  StateFile file("/state/kittyd.state", "tok", 0, fs);
  ASSERT_TRUE(file.record_worker("qwen", 4242).ok());
  auto s = ReadStateFile("/state/kittyd.state", fs);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->workers.size(), 1u);
  EXPECT_EQ(s->workers[0].pid, 4242);
  fs.fail_writes = true;
  Status st = file.forget_worker(4242);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("disk full"), std::string::npos);
  ASSERT_TRUE(file.remove().ok());
  EXPECT_EQ(ReadStateFile("/state/kittyd.state", fs).error().code, ErrorCode::kFileNotFound);
}

}  // namespace
}  // namespace kitty
