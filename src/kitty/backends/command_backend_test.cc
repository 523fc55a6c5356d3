#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "kitty/backends/plan.h"
#include "kitty/testing/map_env.h"
#include "kitty/testing/temp_dir.h"

namespace kitty {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing_util::MapEnv;

class CommandBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ + "/bin");
    srv_ = dir_ + "/bin/my-server";
    testing_util::WriteFile(srv_, "#!/bin/sh\nexit 0\n", 0755);
    testing_util::WriteFile(dir_ + "/plain", "data\n", 0644);
  }

  ModelConfig Cmd(std::vector<std::string> command) const {
    ModelConfig m;
    m.id = "any";
    m.backend = Backend::kCommand;
    m.command = std::move(command);
    return m;
  }
  EnvLookup Env() const { return MapEnv({{"PATH", "/nonexistent:" + dir_ + "/bin"}}); }

  testing_util::TempDir tmp_;  // removed with the fixture
  std::string dir_ = tmp_.path(), srv_;
};

TEST_F(CommandBackendTest, PlaceholdersAreFilled) {
  ModelConfig m = Cmd({"my-server", "--port", "${PORT}", "--host=${HOST}", "-m", "${MODEL_PATH}", "--id",
                       "${MODEL_ID}", "-t", "${THREADS}", "-c", "${CTX}", "${OTHER}", "$5"});
  m.model_path = "/m/x.gguf";
  m.threads = 6;
  m.ctx = 4096;
  m.env = {{"SERVE_PORT", "${PORT}"}, {"PLAIN", "v"}};
  m.health_path = "/v1/models";
  m.shutdown_path = "/shutdown";
  auto plan = PlanLaunchWithEnv(m, 41234, Env());
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_THAT(plan->spawn.argv, ElementsAre("my-server", "--port", "41234", "--host=127.0.0.1", "-m", "/m/x.gguf",
                                            "--id", "any", "-t", "6", "-c", "4096", "${OTHER}", "$5"));
  EXPECT_EQ(plan->spawn.env, (std::map<std::string, std::string>{{"SERVE_PORT", "41234"},
                                                                 {"PLAIN", "v"},
                                                                 {"KITTY_MODEL_ID", "any"},
                                                                 {"KITTY_PORT", "41234"}}));
  EXPECT_EQ(plan->health_path, "/v1/models");
  EXPECT_EQ(plan->shutdown_path, "/shutdown");
  EXPECT_EQ(plan->port, 41234);
}

TEST_F(CommandBackendTest, PlaceholderDefaultsAndMissingValues) {
  ModelConfig m = Cmd({});
  EXPECT_EQ(ExpandLaunchPlaceholders("-t ${THREADS:-4} -c ${CTX:-}", m, 1).value(), "-t 4 -c ");
  m.threads = 8;
  EXPECT_EQ(ExpandLaunchPlaceholders("-t ${THREADS:-4}", m, 1).value(), "-t 8");
  EXPECT_EQ(ExpandLaunchPlaceholders("${PORT}${PORT} ${unterminated", m, 7).value(), "77 ${unterminated");
  auto r = ExpandLaunchPlaceholders("-c ${CTX}", m, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kLaunchInvalid);
  EXPECT_EQ(r.error().message, "command uses ${CTX} but model 'any' sets no ctx");
  EXPECT_EQ(ExpandLaunchPlaceholders("${MODEL_PATH}", m, 1).error().message,
            "command uses ${MODEL_PATH} but model 'any' sets no model_path");
}

TEST_F(CommandBackendTest, ShellJoinsArgvOnlyWhenAsked) {
  ModelConfig m = Cmd({"exec my-server --port ${PORT} 2>&1", "| cat"});
  m.shell = true;
  auto plan = PlanLaunchWithEnv(m, 5000, Env());
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_THAT(plan->spawn.argv, ElementsAre("/bin/sh", "-c", "exec my-server --port 5000 2>&1 | cat"));

  m.shell = false;
  m.command = {"my-server", "a b", "c;d"};
  plan = PlanLaunchWithEnv(m, 5000, Env());
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_THAT(plan->spawn.argv, ElementsAre("my-server", "a b", "c;d"));
}

TEST_F(CommandBackendTest, ProgramChecks) {
  EXPECT_TRUE(PlanLaunchWithEnv(Cmd({srv_}), 1, Env()).ok());

  auto r = PlanLaunchWithEnv(Cmd({dir_ + "/missing"}), 1, Env());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kLaunchInvalid);
  EXPECT_EQ(r.error().message, "command '" + dir_ + "/missing' does not exist");

  EXPECT_EQ(PlanLaunchWithEnv(Cmd({dir_ + "/plain"}), 1, Env()).error().message,
            "command '" + dir_ + "/plain' is not executable");
  EXPECT_EQ(PlanLaunchWithEnv(Cmd({dir_ + "/bin"}), 1, Env()).error().message,
            "command '" + dir_ + "/bin' is a directory");
  EXPECT_EQ(PlanLaunchWithEnv(Cmd({"no-such-server-xyz"}), 1, Env()).error().message,
            "command 'no-such-server-xyz' not found: no 'no-such-server-xyz' on PATH");
  EXPECT_EQ(PlanLaunchWithEnv(Cmd({"my-server"}), 1, MapEnv({})).error().message,
            "command 'my-server' not found: $PATH is not set");

  // A relative path is checked from the worker's cwd; a PATH in the worker's env is used.
  ModelConfig rel = Cmd({"bin/my-server"});
  rel.cwd = dir_;
  EXPECT_TRUE(PlanLaunchWithEnv(rel, 1, Env()).ok());
  ModelConfig own_path = Cmd({"my-server"});
  own_path.env = {{"PATH", dir_ + "/bin"}};
  EXPECT_TRUE(PlanLaunchWithEnv(own_path, 1, MapEnv({})).ok());
  EXPECT_EQ(PlanLaunchWithEnv(Cmd({}), 1, Env()).error().message, "model 'any' has no command");
}

}  // namespace
}  // namespace kitty
