#include "kitty/backends/backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
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
using testing_util::WriteFile;

// A scratch directory with a fake llama-server, a minimal GGUF model and a non-GGUF file.
class BackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ + "/bin");
    bin_ = dir_ + "/bin/llama-server";
    WriteFile(bin_, "#!/bin/sh\nexit 0\n", 0755);
    model_ = dir_ + "/m.gguf";
    // "GGUF", version 3, tensor_count 0, kv_count 0.
    std::string gguf("GGUF\x03\0\0\0", 8);
    gguf += std::string(16, '\0');
    WriteFile(model_, gguf, 0644);
    WriteFile(dir_ + "/not.gguf", "\x7f" "ELF and then some bytes here", 0644);
  }

  ModelConfig Llama() const {
    ModelConfig m;
    m.id = "kitty-q4";
    m.model_path = model_;
    m.llama_server_bin = bin_;
    return m;
  }

  EnvLookup Env() const { return MapEnv({{"PATH", "/nonexistent-dir"}}); }

  testing_util::TempDir tmp_;  // removed with the fixture
  std::string dir_ = tmp_.path(), bin_, model_;
};

TEST(LlamaServerArgvTest, SeedManualStyleConfig) {
  // seed 001 §3.3: --port 8083 --n_gpu_layers 999 --ctx-size 16384 --threads 20 --batch-size 4096
  // --ubatch-size 1024 -np 4 --model ... --alias kitty-q4 --flash-attn on --jinja
  ModelConfig m;
  m.id = "kitty-q4";
  m.model_path = "/models/q4.gguf";
  m.ngl = 999;
  m.ctx = 16384;
  m.threads = 20;
  m.batch = 4096;
  m.ubatch = 1024;
  m.parallel = 4;
  m.alias = "kitty-q4";
  m.flash_attn = true;
  m.jinja = true;
  EXPECT_THAT(LlamaServerArgv(m, "/bin/llama-server", 8083),
              ElementsAre("/bin/llama-server", "--host", "127.0.0.1", "--port", "8083", "--model", "/models/q4.gguf",
                          "--threads", "20", "--n-gpu-layers", "999", "--ctx-size", "16384", "--batch-size",
                          "4096", "--ubatch-size", "1024", "--parallel", "4", "--flash-attn", "on", "--jinja",
                          "--alias", "kitty-q4"));
}

TEST(LlamaServerArgvTest, OnlySetOptionsThenExtraArgsVerbatim) {
  ModelConfig m;
  m.model_path = "/m.gguf";
  m.host = "0.0.0.0";
  m.flash_attn = false;
  m.mmproj = "/p.gguf";
  m.extra_args = {"--seed", "42", "--threads", "3"};
  EXPECT_THAT(LlamaServerArgv(m, "ls", 1),
              ElementsAre("ls", "--host", "0.0.0.0", "--port", "1", "--model", "/m.gguf", "--flash-attn", "off",
                          "--mmproj", "/p.gguf", "--seed", "42", "--threads", "3"));
}

TEST_F(BackendTest, LlamaServerPlan) {
  ModelConfig m = Llama();
  m.threads = 2;
  m.env = {{"A", "1"}, {"KITTY_PORT", "overridden"}};
  m.cwd = dir_;
  auto plan = PlanLaunchWithEnv(m, 41000, Env());
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  // The model id names the model in llama-server's answers when no alias is set.
  EXPECT_THAT(plan->spawn.argv, ElementsAre(bin_, "--host", "127.0.0.1", "--port", "41000", "--model", model_,
                                            "--threads", "2", "--alias", "kitty-q4"));
  EXPECT_EQ(plan->spawn.env, (std::map<std::string, std::string>{
                                 {"A", "1"}, {"KITTY_MODEL_ID", "kitty-q4"}, {"KITTY_PORT", "41000"}}));
  EXPECT_EQ(plan->spawn.cwd, dir_);
  EXPECT_EQ(plan->host, "127.0.0.1");
  EXPECT_EQ(plan->port, 41000);
  EXPECT_EQ(plan->health_path, "/health");
  EXPECT_EQ(plan->shutdown_path, "");
}

TEST_F(BackendTest, FindLlamaServerOrder) {
  ModelConfig m = Llama();
  EXPECT_EQ(FindLlamaServerWithEnv(m, Env()).value(), bin_);
  // Configured path missing: $KITTY_LLAMA_SERVER next, then PATH.
  m.llama_server_bin = dir_ + "/nope/llama-server";
  EXPECT_EQ(FindLlamaServerWithEnv(m, MapEnv({{"KITTY_LLAMA_SERVER", bin_}})).value(), bin_);
  EXPECT_EQ(FindLlamaServerWithEnv(m, MapEnv({{"PATH", "/nonexistent:" + dir_ + "/bin"}})).value(), bin_);
  m.llama_server_bin.clear();
  EXPECT_EQ(FindLlamaServerWithEnv(m, MapEnv({{"PATH", dir_ + "/bin"}})).value(), bin_);
}

TEST_F(BackendTest, FindLlamaServerErrorListsEveryPlace) {
  ModelConfig m = Llama();
  m.llama_server_bin = "/x/llama-server";
  auto r = FindLlamaServerWithEnv(m, Env());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kLaunchInvalid);
  EXPECT_EQ(r.error().message,
            "llama-server not found: llama_server_bin '/x/llama-server' does not exist; $KITTY_LLAMA_SERVER is not "
            "set; no 'llama-server' on PATH (run scripts/install_engine.sh or set llama_server_bin)");

  WriteFile(dir_ + "/noexec", "#!/bin/sh\n", 0644);
  m.llama_server_bin = dir_;
  r = FindLlamaServerWithEnv(m, MapEnv({{"KITTY_LLAMA_SERVER", dir_ + "/noexec"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("llama_server_bin '" + dir_ + "' is a directory; $KITTY_LLAMA_SERVER '" +
                                           dir_ + "/noexec' is not executable; no 'llama-server' on PATH ($PATH "
                                           "is not set)"));
}

TEST_F(BackendTest, ModelFileChecks) {
  ModelConfig m = Llama();
  m.model_path = dir_ + "/missing.gguf";
  auto r = PlanLaunchWithEnv(m, 41000, Env());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kModelFileInvalid);
  EXPECT_THAT(r.error().message, HasSubstr("'" + dir_ + "/missing.gguf' does not exist"));

  m.model_path = dir_ + "/not.gguf";
  r = PlanLaunchWithEnv(m, 41000, Env());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("'" + dir_ + "/not.gguf' is not a GGUF file"));

  m.model_path = dir_;
  r = PlanLaunchWithEnv(m, 41000, Env());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr(dir_));

  m.model_path = model_;
  m.mmproj = dir_ + "/proj.gguf";
  r = PlanLaunchWithEnv(m, 41000, Env());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("mmproj: "));
  EXPECT_THAT(r.error().message, HasSubstr("proj.gguf"));
}

TEST_F(BackendTest, UnreadableModelFile) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads any file";
  ModelConfig m = Llama();
  chmod(model_.c_str(), 0);
  auto r = PlanLaunchWithEnv(m, 41000, Env());
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr(model_));
  EXPECT_THAT(r.error().message, HasSubstr("not readable"));
}

TEST_F(BackendTest, MissingModelFileIsCheckedBeforeTheBinary) {
  ModelConfig m = Llama();
  m.model_path.clear();
  auto r = PlanLaunchWithEnv(m, 41000, Env());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "model 'kitty-q4' has no model_path");
}

TEST_F(BackendTest, BadPortAndCwd) {
  ModelConfig m = Llama();
  EXPECT_EQ(PlanLaunchWithEnv(m, 0, Env()).error().message, "model 'kitty-q4': port 0 is outside 1..65535");
  m.cwd = dir_ + "/nope";
  EXPECT_EQ(PlanLaunchWithEnv(m, 1, Env()).error().message,
            "model 'kitty-q4': cwd '" + dir_ + "/nope' is not a directory");
}

TEST(AgentBackendTest, OllamaRunsTheAgentAndSendsRequestsToOllama) {
  ModelConfig m;
  m.id = "gptoss";
  m.backend = Backend::kOllama;
  m.ollama_model = "gpt-oss:20b";
  m.ollama_url = "http://127.0.0.1:11500";
  m.ollama_modelfile = "/m/Modelfile";
  auto r = PlanLaunchWithEnv(m, 41000, MapEnv({{"KITTY_AGENT", "/bin/true"}}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(r->spawn.argv, ElementsAre("/bin/true", "ollama", "--url", "http://127.0.0.1:11500", "--model",
                                         "gpt-oss:20b", "--host", "127.0.0.1", "--port", "41000", "--lease", "300s",
                                         "--modelfile", "/m/Modelfile"));
  EXPECT_EQ(r->port, 41000);
  EXPECT_EQ(r->health_path, "/health");
  ASSERT_TRUE(r->upstream);
  EXPECT_EQ(r->upstream->host, "127.0.0.1");
  EXPECT_EQ(r->upstream->port, 11500);
  EXPECT_EQ(r->upstream->model, "gpt-oss:20b");
  EXPECT_EQ(r->upstream->authorization, "");
  EXPECT_EQ(r->evicted_exit_code, 3);
  EXPECT_EQ(r->spawn.env.at("KITTY_MODEL_ID"), "gptoss");
}

TEST(AgentBackendTest, RemoteKeyTravelsInTheEnvironmentNeverInArgv) {
  ModelConfig m;
  m.id = "cloud";
  m.backend = Backend::kRemote;
  m.remote_url = "http://10.0.0.5/v1";
  m.remote_api_key_env = "CLOUD_KEY";
  auto r = PlanLaunchWithEnv(m, 41001, MapEnv({{"KITTY_AGENT", "/bin/true"}, {"CLOUD_KEY", "sk-123"}}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_THAT(r->spawn.argv, ElementsAre("/bin/true", "remote", "--url", "http://10.0.0.5/v1", "--model", "cloud",
                                         "--host", "127.0.0.1", "--port", "41001"));
  EXPECT_EQ(r->spawn.env.at("KITTY_REMOTE_API_KEY"), "sk-123");
  EXPECT_EQ(r->upstream->port, 80);
  EXPECT_EQ(r->upstream->prefix, "/v1");
  EXPECT_EQ(r->upstream->authorization, "Bearer sk-123");
  EXPECT_EQ(r->evicted_exit_code, 0);

  auto missing = PlanLaunchWithEnv(m, 41001, MapEnv({{"KITTY_AGENT", "/bin/true"}}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            "model 'cloud': the environment variable CLOUD_KEY (remote_api_key_env) is not set in kittyd's environment");
  auto no_agent = PlanLaunchWithEnv(m, 41001, MapEnv({{"PATH", "/nonexistent"}, {"CLOUD_KEY", "k"}}));
  ASSERT_FALSE(no_agent.ok());
  EXPECT_THAT(no_agent.error().message, HasSubstr("kitty-agent (which kittyd runs for ollama and remote models) was not found"));
}

}  // namespace
}  // namespace kitty
