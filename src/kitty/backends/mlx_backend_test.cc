// The mlx backend's launch (seed 004): the argv of mlx_lm.server, where the binary is looked
// for, and what is checked before a spawn. (That kittyd runs it: tests/e2e/test_mlx.py, with the
// fake engine in mlx_lm.server's place.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "kitty/backends/backend.h"
#include "kitty/backends/plan.h"
#include "kitty/testing/map_env.h"
#include "kitty/testing/temp_dir.h"

namespace kitty {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing_util::MapEnv;

class MlxBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ + "/bin");
    std::filesystem::create_directories(dir_ + "/Qwen2.5-7B-4bit");
    bin_ = dir_ + "/bin/mlx_lm.server";
    testing_util::WriteFile(bin_, "#!/bin/sh\nexit 0\n", 0755);
  }

  ModelConfig Mlx(std::string model_path) const {
    ModelConfig m;
    m.id = "qwen";
    m.backend = Backend::kMlx;
    m.model_path = std::move(model_path);
    m.health_path = "/v1/models";  // what the loader gives an mlx model
    return m;
  }
  testing_util::TempDir tmp_;  // removed with the fixture
  std::string dir_ = tmp_.path(), bin_;
};

TEST_F(MlxBackendTest, ArgvIsModelHostPortThenExtraArgs) {
  ModelConfig m = Mlx("mlx-community/Qwen2.5-7B-Instruct-4bit");
  m.extra_args = {"--trust-remote-code"};
  EXPECT_THAT(MlxServerArgv(m, "/opt/bin/mlx_lm.server", 41001),
              ElementsAre("/opt/bin/mlx_lm.server", "--model", "mlx-community/Qwen2.5-7B-Instruct-4bit", "--host",
                          "127.0.0.1", "--port", "41001", "--trust-remote-code"));
}

TEST_F(MlxBackendTest, FoundOnPathHealthOnModels) {
  auto plan = PlanLaunchWithEnv(Mlx("mlx-community/Qwen2.5-7B-Instruct-4bit"), 41001, MapEnv({{"PATH", dir_ + "/bin"}}));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->spawn.argv[0], bin_);
  EXPECT_EQ(plan->health_path, "/v1/models");
  EXPECT_EQ(plan->shutdown_path, "");
  EXPECT_EQ(plan->spawn.env.at("KITTY_MODEL_ID"), "qwen");
}

TEST_F(MlxBackendTest, ConfiguredBinaryThenEnvThenPath) {
  ModelConfig m = Mlx(dir_ + "/Qwen2.5-7B-4bit");
  m.mlx_server_bin = dir_ + "/missing";
  auto plan = PlanLaunchWithEnv(m, 41001, MapEnv({{"KITTY_MLX_SERVER", bin_}}));
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->spawn.argv[0], bin_);
  auto none = PlanLaunchWithEnv(m, 41001, MapEnv({{"PATH", "/nonexistent"}}));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kLaunchInvalid);
  EXPECT_THAT(none.error().message, HasSubstr("mlx_server_bin '" + dir_ + "/missing'"));
  EXPECT_THAT(none.error().message, HasSubstr("pip install mlx-lm"));
}

TEST_F(MlxBackendTest, ALocalModelMustBeADirectory) {
  auto missing = PlanLaunchWithEnv(Mlx(dir_ + "/nope"), 41001, MapEnv({{"KITTY_MLX_SERVER", bin_}}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kModelFileInvalid);
  auto file = PlanLaunchWithEnv(Mlx(bin_), 41001, MapEnv({{"KITTY_MLX_SERVER", bin_}}));
  ASSERT_FALSE(file.ok());
  EXPECT_THAT(file.error().message, HasSubstr("is not a directory"));
  EXPECT_TRUE(PlanLaunchWithEnv(Mlx(dir_ + "/Qwen2.5-7B-4bit"), 41001, MapEnv({{"KITTY_MLX_SERVER", bin_}})).ok());
}

}  // namespace
}  // namespace kitty
