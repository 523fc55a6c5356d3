#include "kitty/config/default_config.h"
#include "kitty/config/memory_section.h"
#include "kitty/config/ollama_section.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "kitty/config/config_loader.h"

namespace kitty {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DefaultConfigTest, EmbeddedTextIsByteIdenticalToConfigDefaultYaml) {
  std::string file = ReadFile(std::string(KITTY_SOURCE_DIR) + "/config/default.yaml");
  ASSERT_FALSE(file.empty());
  EXPECT_EQ(std::string(EmbeddedDefaultConfig()), file)
      << "config/default.yaml and src/kitty/config/default_config.cc differ; edit both";
}

TEST(DefaultConfigTest, LoadsOneSmallModelWithEnvOverrides) {
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return std::string("/home/t");
    return std::nullopt;
  };
  auto c = LoadConfigString(EmbeddedDefaultConfig(), kEmbeddedDefaultName, env);
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->models.size(), 1u);
  const ModelConfig& m = c->models[0];
  EXPECT_EQ(m.id, "smollm2-135m");
  EXPECT_EQ(m.aliases, std::vector<std::string>{"smol"});
  EXPECT_EQ(m.backend, Backend::kLlamaServer);
  EXPECT_EQ(m.model_path, "/home/t/.cache/kitty/models/SmolLM2-135M-Instruct.Q4_1.gguf");
  EXPECT_EQ(m.llama_server_bin, "/home/t/.cache/kitty/bin/llama-server");
  EXPECT_EQ(m.ctx, 2048);
  EXPECT_EQ(m.threads, 2);
  EXPECT_EQ(m.parallel, 2);
  EXPECT_EQ(m.idle_shutdown_seconds, 300);
  EXPECT_EQ(m.port, 0);
  EXPECT_EQ(c->server.port, 7700);
  EXPECT_EQ(c->path, "<embedded default>");

  auto env2 = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return std::string("/home/t");
    if (name == "KITTY_TEST_MODEL") return std::string("/m/x.gguf");
    if (name == "KITTY_LLAMA_SERVER") return std::string("/opt/llama-server");
    return std::nullopt;
  };
  auto c2 = LoadConfigString(EmbeddedDefaultConfig(), kEmbeddedDefaultName, env2);
  ASSERT_TRUE(c2.ok()) << c2.error().message;
  EXPECT_EQ(c2->models[0].model_path, "/m/x.gguf");
  EXPECT_EQ(c2->models[0].llama_server_bin, "/opt/llama-server");
}

TEST(DefaultConfigTest, ExampleConfigLoads) {
  auto env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "HOME") return std::string("/home/t");
    return std::nullopt;
  };
  std::string path = std::string(KITTY_SOURCE_DIR) + "/config/example.yaml";
  auto c = LoadConfigString(ReadFile(path), path, env);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_GE(c->models.size(), 3u);
}

TEST(DefaultConfigTest, ExampleConfigShowsEveryKey) {
  // The README promises that config/example.yaml shows every key; a new key must be added there.
  std::string text = ReadFile(std::string(KITTY_SOURCE_DIR) + "/config/example.yaml");
  for (auto key : ServerKeys()) EXPECT_NE(text.find(" " + std::string(key) + ":"), std::string::npos) << key;
  for (auto key : ModelKeys()) EXPECT_NE(text.find(" " + std::string(key) + ":"), std::string::npos) << key;
  for (auto key : MemoryKeys()) EXPECT_NE(text.find(" " + std::string(key) + ":"), std::string::npos) << key;
  for (auto key : OllamaKeys()) EXPECT_NE(text.find(" " + std::string(key) + ":"), std::string::npos) << key;
}

}  // namespace
}  // namespace kitty
