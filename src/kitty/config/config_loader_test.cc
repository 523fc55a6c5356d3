#include "kitty/config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kitty/config/config_test_util.h"

namespace kitty {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using config_test::Errors;
using config_test::Load;
using config_test::MapEnv;

TEST(ConfigLoaderTest, SeedModelsYamlLoadsUnchanged) {
  auto c = LoadConfigFile(std::string(KITTY_SOURCE_DIR) + "/config/seed_models.yaml");
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->models.size(), 3u);
  const ModelConfig& q = c->models[0];
  EXPECT_EQ(q.id, "qwen_32b");
  EXPECT_EQ(q.backend, Backend::kLlamaServer);
  EXPECT_EQ(q.model_path, "/models/qwen2.5-32b-q4.gguf");
  EXPECT_EQ(q.host, "127.0.0.1");
  EXPECT_EQ(q.port, 7001);
  EXPECT_EQ(q.threads, 12);
  EXPECT_EQ(q.ngl, 99);
  EXPECT_EQ(q.idle_shutdown_seconds, 900);
  EXPECT_EQ(q.mark.line, 2);
  EXPECT_THAT(q.mark.file, HasSubstr("seed_models.yaml"));
  EXPECT_EQ(c->models[1].id, "gptoss_120b");
  EXPECT_EQ(c->models[1].port, 7002);
  EXPECT_EQ(c->models[1].threads, 16);
  EXPECT_EQ(c->models[1].idle_shutdown_seconds, 300);
  const ModelConfig& o = c->models[2];
  EXPECT_EQ(o.id, "gptoss_120b_ollama");
  EXPECT_EQ(o.backend, Backend::kOllama);
  EXPECT_EQ(o.ollama_model, "gpt-oss-120b");
  EXPECT_EQ(o.idle_shutdown_seconds, 0);
  EXPECT_EQ(o.port, 0);
  EXPECT_NE(c->find("qwen_32b"), nullptr);
  EXPECT_EQ(c->find("nope"), nullptr);
}

TEST(ConfigLoaderTest, EveryModelKey) {
  Config c = Load(R"(
models:
  m:
    backend: llama_server
    model_path: ~/models/m.gguf
    host: 0.0.0.0
    port: 8083
    threads: 20
    ngl: 999
    ctx: 16384
    batch: 4096
    ubatch: 1024
    parallel: 4
    flash_attn: on
    jinja: true
    mmproj: ~/models/mmproj.gguf
    alias: kitty-q4
    aliases: [q4, "kq"]
    extra_args: [--seed, 42, --no-warmup, 1.5, true]
    env: {CUDA_VISIBLE_DEVICES: 0, FOO: bar}
    cwd: ~/work
    health_path: /healthz
    shutdown_path: /shutdown
    idle_shutdown_seconds: 1.5
    stop_timeout_seconds: 3
    start_timeout_seconds: 60
    preload: yes
    llama_server_bin: ~/bin/llama-server
    ollama_model: ignored
    ollama_url: http://h:1
  c:
    backend: command
    command: [python3, -m, srv, --port, "${PORT}"]
    shell: false
)");
  ASSERT_EQ(c.models.size(), 2u);
  const ModelConfig& m = c.models[0];
  EXPECT_EQ(m.model_path, "/home/t/models/m.gguf");
  EXPECT_EQ(m.host, "0.0.0.0");
  EXPECT_EQ(m.port, 8083);
  EXPECT_EQ(m.threads, 20);
  EXPECT_EQ(m.ngl, 999);
  EXPECT_EQ(m.ctx, 16384);
  EXPECT_EQ(m.batch, 4096);
  EXPECT_EQ(m.ubatch, 1024);
  EXPECT_EQ(m.parallel, 4);
  EXPECT_EQ(m.flash_attn, true);
  EXPECT_TRUE(m.jinja);
  EXPECT_EQ(m.mmproj, "/home/t/models/mmproj.gguf");
  EXPECT_EQ(m.alias, "kitty-q4");
  EXPECT_THAT(m.aliases, ElementsAre("q4", "kq", "kitty-q4"));
  EXPECT_THAT(m.extra_args, ElementsAre("--seed", "42", "--no-warmup", "1.5", "true"));
  EXPECT_EQ(m.env, (std::map<std::string, std::string>{{"CUDA_VISIBLE_DEVICES", "0"}, {"FOO", "bar"}}));
  EXPECT_EQ(m.cwd, "/home/t/work");
  EXPECT_EQ(m.health_path, "/healthz");
  EXPECT_EQ(m.shutdown_path, "/shutdown");
  EXPECT_DOUBLE_EQ(m.idle_shutdown_seconds, 1.5);
  EXPECT_EQ(m.stop_timeout_seconds, 3);
  EXPECT_EQ(m.start_timeout_seconds, 60);
  EXPECT_TRUE(m.preload);
  EXPECT_EQ(m.llama_server_bin, "/home/t/bin/llama-server");
  EXPECT_EQ(m.ollama_url, "http://h:1");
  EXPECT_EQ(c.models[1].backend, Backend::kCommand);
  EXPECT_THAT(c.models[1].command, ElementsAre("python3", "-m", "srv", "--port", "${PORT}"));
  EXPECT_FALSE(c.models[1].shell);
  EXPECT_EQ(c.models[1].health_path, "/health");
}

TEST(ConfigLoaderTest, FlashAttnForms) {
  Config c = Load(R"(
defaults: {model_path: /m.gguf}
models:
  a: {flash_attn: "off"}
  b: {flash_attn: auto}
  c: {flash_attn: false}
  d: {}
)");
  EXPECT_EQ(c.models[0].flash_attn, false);
  EXPECT_EQ(c.models[1].flash_attn, std::nullopt);
  EXPECT_EQ(c.models[2].flash_attn, false);
  EXPECT_EQ(c.models[3].flash_attn, std::nullopt);
  EXPECT_THAT(Errors("models:\n  a: {model_path: /m, flash_attn: sometimes}\n"),
              ElementsAre("kitty.yaml:2: models.a.flash_attn: expected true, false, \"on\", \"off\" or \"auto\", "
                          "got \"sometimes\""));
}

TEST(ConfigLoaderTest, DefaultsApplyUnlessOverridden) {
  Config c = Load(R"(
models:
  a:
    model_path: /a.gguf
    threads: 4
    env: {B: model}
  b:
    model_path: /b.gguf
defaults:
  threads: 8
  ngl: 99
  idle_shutdown_seconds: 60
  env: {A: "1", B: default}
  extra_args: [--x]
)");
  ASSERT_EQ(c.models.size(), 2u);
  EXPECT_EQ(c.models[0].threads, 4);
  EXPECT_EQ(c.models[1].threads, 8);
  EXPECT_EQ(c.models[0].ngl, 99);
  EXPECT_EQ(c.models[0].idle_shutdown_seconds, 60);
  EXPECT_EQ(c.models[1].stop_timeout_seconds, 10);  // built-in default
  EXPECT_EQ(c.models[0].env, (std::map<std::string, std::string>{{"A", "1"}, {"B", "model"}}));
  EXPECT_EQ(c.models[1].env, (std::map<std::string, std::string>{{"A", "1"}, {"B", "default"}}));
  EXPECT_THAT(c.models[1].extra_args, ElementsAre("--x"));
}

TEST(ConfigLoaderTest, UnknownKeySuggestsNearest) {
  auto errors = Errors(R"(server:
  listen: 127.0.0.1:7700
models:
  qwen_32b:
    backend: llama_worker
    model_path: /models/q.gguf
    treads: 12
    colour: blue
)");
  EXPECT_THAT(errors, ElementsAre("kitty.yaml:7: models.qwen_32b.treads: unknown key (did you mean 'threads'?)",
                                  "kitty.yaml:8: models.qwen_32b.colour: unknown key"));
}

TEST(ConfigLoaderTest, UnknownKeysInServerAndDefaults) {
  auto errors = Errors(R"(server:
  lisen: 127.0.0.1:1
  threads: 3
defaults:
  ngll: 3
  max_body_bytes: 1
)");
  EXPECT_THAT(errors,
              ElementsAre("kitty.yaml:2: server.lisen: unknown key (did you mean 'listen'?)",
                          "kitty.yaml:3: server.threads: unknown key (a model key: put it under defaults: or "
                          "models.<id>:)",
                          "kitty.yaml:5: defaults.ngll: unknown key (did you mean 'ngl'?)",
                          "kitty.yaml:6: defaults.max_body_bytes: unknown key (a server key: put it under server:)"));
}

TEST(ConfigLoaderTest, WrongTypes) {
  auto errors = Errors(R"(models:
  x:
    model_path: /m.gguf
    port: abc
    threads: many
    jinja: perhaps
    extra_args: --foo
    env: [A, B]
    aliases: {a: 1}
    idle_shutdown_seconds: 15m
    host: [a]
)");
  EXPECT_THAT(errors, ElementsAre("kitty.yaml:4: models.x.port: expected an integer or \"auto\", got \"abc\"",
                                  "kitty.yaml:5: models.x.threads: expected an integer, got \"many\"",
                                  "kitty.yaml:6: models.x.jinja: expected true or false, got \"perhaps\"",
                                  "kitty.yaml:7: models.x.extra_args: expected a list of strings, got \"--foo\"",
                                  "kitty.yaml:8: models.x.env: expected a map of NAME: value, got a list",
                                  "kitty.yaml:9: models.x.aliases: expected a list of strings, got a map",
                                  "kitty.yaml:10: models.x.idle_shutdown_seconds: expected a number of seconds, "
                                  "got \"15m\"",
                                  "kitty.yaml:11: models.x.host: expected a string, got a list"));
}

TEST(ConfigLoaderTest, NestedListItemIsAnError) {
  EXPECT_THAT(Errors("models:\n  x:\n    model_path: /m\n    extra_args:\n      - [a, b]\n"),
              ElementsAre("kitty.yaml:5: models.x.extra_args[0]: expected a string, got a list"));
}

TEST(ConfigLoaderTest, NullValueErrorNamesTheKeyLine) {
  auto errors = Errors("models:\n  x:\n    model_path: /m\n    port:\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("kitty.yaml:4: models.x.port: expected an integer or \"auto\", got nothing"));
}

TEST(ConfigLoaderTest, MissingRequiredKeysPerBackend) {
  auto errors = Errors(R"(models:
  a:
    threads: 2
  b:
    backend: command
  c:
    backend: ollama
  d:
    backend: command
    command: "srv --port ${PORT}"
)");
  EXPECT_THAT(errors,
              ElementsAre("kitty.yaml:2: models.a.model_path: required for backend llama_server (the seed's "
                          "llama_worker)",
                          "kitty.yaml:4: models.b.command: required for backend command (an argv list such as "
                          "[my-server, --port, \"${PORT}\"])",
                          "kitty.yaml:6: models.c.ollama_model: required for backend ollama (the model's name in "
                          "Ollama)",
                          "kitty.yaml:10: models.d.command: a command given as one string needs shell: true; "
                          "otherwise give a list of arguments"));
  Config c = Load("models:\n  d:\n    backend: command\n    shell: true\n    command: \"srv --port ${PORT}\"\n");
  EXPECT_THAT(c.models[0].command, ElementsAre("srv --port ${PORT}"));
}

TEST(ConfigLoaderTest, TwoModelsOnOneFixedPort) {
  auto errors = Errors(R"(models:
  a:
    model_path: /a
    port: 7001
  b:
    model_path: /b
    port: 7001
  c:
    model_path: /c
    port: 7700
)");
  EXPECT_THAT(errors,
              ElementsAre("kitty.yaml:7: models.b.port: port 7001 is also used by model 'a' (kitty.yaml:4)",
                          "kitty.yaml:10: models.c.port: port 7700 is kittyd's own listen port (the default)"));
}

TEST(ConfigLoaderTest, PortRangeAndAuto) {
  auto errors = Errors("models:\n  a:\n    model_path: /a\n    port: 70000\n  b:\n    model_path: /b\n    port: 0\n");
  EXPECT_THAT(errors,
              ElementsAre("kitty.yaml:4: models.a.port: port 70000 is outside 1..65535 (use \"auto\" for a free port)",
                          "kitty.yaml:7: models.b.port: port 0 is outside 1..65535 (use \"auto\" for a free port)"));
  Config c = Load("models:\n  a: {model_path: /a, port: auto}\n  b: {model_path: /b}\n");
  EXPECT_EQ(c.models[0].port, 0);
  EXPECT_EQ(c.models[1].port, 0);
}

TEST(ConfigLoaderTest, NegativeDurations) {
  auto errors = Errors(R"(defaults:
  stop_timeout_seconds: -1
models:
  a:
    model_path: /a
    idle_shutdown_seconds: -5
    start_timeout_seconds: 0
)");
  EXPECT_THAT(errors, ElementsAre("kitty.yaml:2: defaults.stop_timeout_seconds: must not be negative, got -1",
                                  "kitty.yaml:6: models.a.idle_shutdown_seconds: must not be negative, got -5",
                                  "kitty.yaml:7: models.a.start_timeout_seconds: must be greater than 0"));
}

TEST(ConfigLoaderTest, IntegerBounds) {
  EXPECT_THAT(Errors("models:\n  a: {model_path: /a, parallel: 0, threads: -2}\n"),
              ElementsAre("kitty.yaml:2: models.a.parallel: must be >= 1, got 0",
                          "kitty.yaml:2: models.a.threads: must be >= -1, got -2"));
}

TEST(ConfigLoaderTest, DuplicateIdsAndAliasClashes) {
  auto errors = Errors(R"(models:
  a:
    model_path: /a
    aliases: [shared]
  a:
    model_path: /a2
  b:
    model_path: /b
    alias: a
  c:
    model_path: /c
    aliases: [c, shared]
)");
  EXPECT_THAT(errors,
              ElementsAre("kitty.yaml:5: models.a: duplicate model id (first defined at kitty.yaml:2)",
                          "kitty.yaml:9: models.b.alias: alias 'a' is already the id of model 'a' (kitty.yaml:2)",
                          "kitty.yaml:12: models.c.aliases: alias 'shared' is already an alias of model 'a' "
                          "(kitty.yaml:4)"));
}

TEST(ConfigLoaderTest, DuplicateKeyInAModel) {
  EXPECT_THAT(Errors("models:\n  a:\n    model_path: /a\n    port: 1\n    port: 2\n"),
              ElementsAre("kitty.yaml:5: models.a.port: duplicate key (first set at kitty.yaml:4)"));
}

TEST(ConfigLoaderTest, UnknownBackendListsValidOnes) {
  EXPECT_THAT(Errors("models:\n  a:\n    backend: llama_sever\n    model_path: /a\n  b:\n    backend: vllm\n"),
              ElementsAre("kitty.yaml:3: models.a.backend: unknown backend 'llama_sever' (valid: llama_server, "
                          "llama_worker, command, ollama, remote, mlx); did you mean 'llama_server'?",
                          "kitty.yaml:6: models.b.backend: unknown backend 'vllm' (valid: llama_server, "
                          "llama_worker, command, ollama, remote, mlx)",
                          "kitty.yaml:5: models.b.model_path: required for backend llama_server (the seed's "
                          "llama_worker)"));
}

TEST(ConfigLoaderTest, UnknownTopLevelSection) {
  EXPECT_THAT(Errors("modles:\n  a: {}\nthreads: 3\nfoo: 1\n"),
              ElementsAre("kitty.yaml:1: modles: unknown section (valid: server, memory, ollama, defaults, models); did you mean "
                          "'models'?",
                          "kitty.yaml:3: threads: unknown section (valid: server, memory, ollama, defaults, models); model keys go "
                          "under defaults: or models.<id>:",
                          "kitty.yaml:4: foo: unknown section (valid: server, memory, ollama, defaults, models)"));
  EXPECT_THAT(Errors("- a\n- b\n"),
              ElementsAre("kitty.yaml:1: expected a map with sections server, defaults, models; got a list"));
}

TEST(ConfigLoaderTest, YamlSyntaxErrorHasLine) {
  // Where the unclosed '[' opened (line 4), and where yaml-cpp stopped (the end of the file).
  EXPECT_THAT(Errors("models:\n  a:\n    model_path: /a\n    port: [1, 2\n"),
              ElementsAre("kitty.yaml:4: YAML syntax error: unclosed '[' opened here at column 11 (parsing "
                          "stopped at line 5, column 1: end of sequence flow not found)"));
  auto errors = Errors("models:\n  a: {model_path: /a\n  b: 1\n\tc: 2\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("kitty.yaml:2: YAML syntax error: unclosed '{' opened here at column 6"));
  // Nothing open: only where it stopped.
  EXPECT_THAT(Errors("models:\n  a: b: c\n"),
              ElementsAre("kitty.yaml:2: YAML syntax error at column 7: illegal map value"));
}

TEST(ConfigLoaderTest, SecondDocumentAndRunawayQuoteAreRefused) {
  // Both used to load silently: the second document was ignored, and the quote swallowed
  // the rest of the file into model_path.
  EXPECT_THAT(Errors("models:\n  a: {model_path: /a}\n---\nmodels:\n  b: {model_path: /b}\n"),
              ElementsAre("kitty.yaml:3: a second YAML document starts here, but a config file holds one "
                          "document (kittyd would ignore this one)"));
  EXPECT_THAT(Errors("models:\n  a:\n    model_path: \"/a\n    threads: 4\n"),
              ElementsAre("kitty.yaml:3: YAML syntax error: unclosed '\"' opened here at column 17 (the string "
                          "runs to the end of the file)"));
  EXPECT_EQ(Load("---\nmodels:\n  a: {model_path: /a}\n...\n").models.size(), 1u);
}

TEST(ConfigLoaderTest, EmptyOrAbsentModelsIsAllowed) {
  EXPECT_TRUE(Load("").models.empty());
  EXPECT_TRUE(Load("# only a comment\n").models.empty());
  EXPECT_TRUE(Load("models:\n").models.empty());
  EXPECT_TRUE(Load("models: {}\n").models.empty());
  EXPECT_TRUE(Load("server:\n  listen: 127.0.0.1:9000\n").models.empty());
}

TEST(ConfigLoaderTest, CollectsAllErrors) {
  auto errors = Errors(R"(bogus: 1
models:
  a:
    treads: 1
    port: x
  b:
    backend: ollama
)");
  EXPECT_EQ(errors.size(), 5u);  // bogus, treads, port, a.model_path, b.ollama_model
}

TEST(ConfigLoaderTest, EnvExpansionEverywhere) {
  auto env = MapEnv({{"HOME", "/home/t"}, {"MODELS", "/srv/models"}, {"KEY", "sk-1"}, {"N", "6"}, {"P", "7555"}});
  Config c = Load(R"(
server:
  api_keys: ["${KEY}"]
  logs_dir: ${LOGS:-~/logs}
models:
  a:
    model_path: ${MODELS}/a.gguf
    threads: ${N}
    port: ${P}
    extra_args: [--lora, "${MODELS}/l.gguf", "$$HOME"]
    env: {HF_HOME: "${MODELS}/hf", X: "${UNSET_X:-dflt}"}
  c:
    backend: command
    command: [srv, --port, "${PORT}", --host, "${HOST}", -m, "${MODEL_PATH}", --id, "${MODEL_ID}",
              -t, "${THREADS}", -c, "${CTX}", --data, "${MODELS}"]
)",
                  env);
  EXPECT_THAT(c.server.api_keys, ElementsAre("sk-1"));
  EXPECT_EQ(c.server.logs_dir, "/home/t/logs");
  const ModelConfig& a = c.models[0];
  EXPECT_EQ(a.model_path, "/srv/models/a.gguf");
  EXPECT_EQ(a.threads, 6);
  EXPECT_EQ(a.port, 7555);
  EXPECT_THAT(a.extra_args, ElementsAre("--lora", "/srv/models/l.gguf", "$HOME"));
  EXPECT_EQ(a.env.at("HF_HOME"), "/srv/models/hf");
  EXPECT_EQ(a.env.at("X"), "dflt");
  EXPECT_THAT(c.models[1].command,
              ElementsAre("srv", "--port", "${PORT}", "--host", "${HOST}", "-m", "${MODEL_PATH}", "--id",
                          "${MODEL_ID}", "-t", "${THREADS}", "-c", "${CTX}", "--data", "/srv/models"));
}

TEST(ConfigLoaderTest, UnsetVariableNamesFileLineKey) {
  EXPECT_THAT(Errors("models:\n  a:\n    model_path: /a\n    extra_args: [--x, \"${NOPE_VAR}\"]\n    env:\n      "
                     "K: ${NOPE2}\n"),
              ElementsAre("kitty.yaml:4: models.a.extra_args[1]: environment variable 'NOPE_VAR' is not set (use "
                          "${NOPE_VAR:-default} to give a default)",
                          "kitty.yaml:6: models.a.env.K: environment variable 'NOPE2' is not set (use "
                          "${NOPE2:-default} to give a default)"));
}

TEST(ConfigLoaderTest, TildeOnlyInPathKeys) {
  Config c = Load("models:\n  a:\n    model_path: ~/m.gguf\n    alias: ~/x\n    cwd: \"~\"\n");
  EXPECT_EQ(c.models[0].model_path, "/home/t/m.gguf");
  EXPECT_EQ(c.models[0].alias, "~/x");
  EXPECT_EQ(c.models[0].cwd, "/home/t");
}

TEST(ConfigLoaderTest, StateAndLogsDirDefaults) {
  Config c1 = Load("", MapEnv({{"HOME", "/h"}, {"XDG_STATE_HOME", "/x"}, {"KITTY_STATE_DIR", "/k"}}));
  EXPECT_EQ(c1.server.state_dir, "/k");
  EXPECT_EQ(c1.server.logs_dir, "/k/logs");
  Config c2 = Load("", MapEnv({{"HOME", "/h"}, {"XDG_STATE_HOME", "/x"}}));
  EXPECT_EQ(c2.server.state_dir, "/x/kitty");
  EXPECT_EQ(c2.server.logs_dir, "/x/kitty/logs");
  Config c3 = Load("", MapEnv({{"HOME", "/h"}}));
  EXPECT_EQ(c3.server.state_dir, "/h/.local/state/kitty");
  EXPECT_EQ(c3.server.logs_dir, "/h/.local/state/kitty/logs");
  Config c4 = Load("server: {state_dir: ~/s}\n", MapEnv({{"HOME", "/h"}}));
  EXPECT_EQ(c4.server.state_dir, "/h/s");
  EXPECT_EQ(c4.server.logs_dir, "/h/s/logs");
  Config c5 = Load("server: {logs_dir: /l}\n", MapEnv({{"HOME", "/h"}}));
  EXPECT_EQ(c5.server.logs_dir, "/l");
}

TEST(ConfigLoaderTest, BadModelIdsAndShapes) {
  EXPECT_THAT(Errors("models:\n  a/b: {model_path: /a}\n  c:\n  d: 3\n"),
              ElementsAre("kitty.yaml:2: models.a/b: model ids may not contain '/', spaces or control characters",
                          "kitty.yaml:3: models.c: expected a map of model keys (backend, model_path, ...), got "
                          "nothing",
                          "kitty.yaml:4: models.d: expected a map of model keys (backend, model_path, ...), got "
                          "\"3\""));
  EXPECT_THAT(Errors("models: [a, b]\n"),
              ElementsAre("kitty.yaml:1: models: expected a map of model id → settings, got a list"));
}

TEST(ConfigLoaderTest, PathsMustStartWithSlash) {
  EXPECT_THAT(Errors("models:\n  a: {model_path: /a, health_path: health}\n"),
              ElementsAre("kitty.yaml:2: models.a.health_path: must start with '/', got \"health\""));
}

TEST(ConfigLoaderTest, LoadConfigFileErrors) {
  auto c = LoadConfigFile("/nonexistent/kitty.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kFileNotFound);
  EXPECT_THAT(c.error().message, HasSubstr("/nonexistent/kitty.yaml"));
}

TEST(ConfigLoaderRecoveryTest, FallbackChainsAndDowngradeLadders) {
  Config c = Load(R"(
defaults: {backend: command}
models:
  big:
    command: [engine]
    ctx: 16384
    fallback: [small-alias, tiny]
    downgrade: [{ngl: 40}, {ngl: 0, ctx: 4096, extra_args: [--no-mmap]}]
  small: {command: [engine], aliases: [small-alias], fallback: big}
  tiny: {command: [engine]}
)");
  const ModelConfig& big = *c.find("big");
  EXPECT_THAT(big.fallback, ElementsAre("small", "tiny")) << "an alias is kept as the model's id";
  EXPECT_THAT(c.find("small")->fallback, ElementsAre("big")) << "a loop is allowed: never followed twice";
  ASSERT_EQ(big.downgrade.size(), 2u);
  EXPECT_EQ(big.downgrade[0].ngl, 40);
  EXPECT_FALSE(big.downgrade[0].ctx.has_value());
  EXPECT_EQ(big.downgrade[1].ctx, 4096);
  EXPECT_EQ(big.downgrade[1].extra_args, std::vector<std::string>{"--no-mmap"});
  EXPECT_EQ(big.downgrade[1].text, "{ngl: 0, ctx: 4096, extra_args: [--no-mmap]}");
  EXPECT_EQ(AtRung(big, 2).ctx, 4096);
}

TEST(ConfigLoaderRecoveryTest, BadFallbacksAndRungsNameTheirLineAndKey) {
  EXPECT_THAT(Errors("models:\n  a: {backend: command, command: [e], fallback: [b]}\n"),
              ElementsAre("kitty.yaml:2: models.a.fallback: unknown model 'b' (models: a)"));
  EXPECT_THAT(Errors("models:\n  a: {backend: command, command: [e], fallback: a}\n"),
              ElementsAre("kitty.yaml:2: models.a.fallback: a model cannot fall back to itself ('a')"));
  auto errors = Errors("models:\n  a:\n    backend: command\n    command: [e]\n    downgrade: [{ngl: 0, port: 5}]\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], HasSubstr("kitty.yaml:5: models.a.downgrade[0].port: unknown key"));
  EXPECT_THAT(Errors("models:\n  a:\n    backend: command\n    command: [e]\n    downgrade: {ngl: 0}\n"),
              ElementsAre(HasSubstr("kitty.yaml:5: models.a.downgrade: expected a list of overrides")));
  EXPECT_THAT(Errors("models:\n  a:\n    backend: command\n    command: [e]\n    downgrade: [{ngl: lots}]\n"),
              ElementsAre(HasSubstr("kitty.yaml:5: models.a.downgrade[0].ngl:")));
}

TEST(ConfigLoaderTest, OllamaSectionAndRemoteModels) {
  Config c = Load(R"(
ollama:
  url: http://127.0.0.1:11500
  manage: true
  bin: ~/bin/ollama
  start_command: systemctl --user restart ollama
  shell: true
  env: {OLLAMA_MODELS: /data/o}
  health_interval_seconds: 10
  max_restarts_per_hour: 5
models:
  o:
    backend: ollama
    ollama_model: gpt-oss:20b
    ollama_modelfile: ~/Modelfile
  r:
    backend: remote
    remote_url: http://10.0.0.5:7700/v1
    remote_model: qwen
    remote_api_key_env: CLOUD_KEY
)");
  EXPECT_TRUE(c.ollama.configured);
  EXPECT_EQ(c.ollama.url, "http://127.0.0.1:11500");
  EXPECT_TRUE(c.ollama.manage);
  EXPECT_EQ(c.ollama.bin, "/home/t/bin/ollama");
  EXPECT_EQ(c.ollama.start_command, std::vector<std::string>{"systemctl --user restart ollama"});
  EXPECT_EQ(c.ollama.env.at("OLLAMA_MODELS"), "/data/o");
  EXPECT_EQ(c.ollama.health_interval_seconds, 10);
  EXPECT_EQ(c.ollama.max_restarts_per_hour, 5);
  EXPECT_EQ(c.ollama.down_seconds, 15);
  ASSERT_EQ(c.models.size(), 2u);
  EXPECT_EQ(c.models[0].ollama_modelfile, "/home/t/Modelfile");
  EXPECT_EQ(c.models[1].backend, Backend::kRemote);
  EXPECT_EQ(c.models[1].remote_url, "http://10.0.0.5:7700/v1");
  EXPECT_EQ(c.models[1].remote_api_key_env, "CLOUD_KEY");
  EXPECT_FALSE(Load("models: {}\n").ollama.configured);
}

TEST(ConfigLoaderTest, OllamaAndRemoteErrorsNameTheKey) {
  EXPECT_THAT(Errors(R"(ollama:
  url: https://ollama.example.com
  manage: maybe
  restart_per_hour: 3
models:
  r:
    backend: remote
    remote_api_key_env: sk-abc123
  o:
    backend: ollama
    ollama_model: x
    ollama_pull: true
    ollama_modelfile: /m
)"),
              ::testing::UnorderedElementsAre(
                  ::testing::HasSubstr("kitty.yaml:2: ollama.url: https:// is not supported yet"),
                  ::testing::HasSubstr("kitty.yaml:3: ollama.manage:"),
                  ::testing::HasSubstr("kitty.yaml:4: ollama.restart_per_hour: unknown key"),
                  "kitty.yaml:8: models.r.remote_api_key_env: expected the name of an environment variable (such as "
                  "OPENAI_API_KEY), not the key itself",
                  "kitty.yaml:6: models.r.remote_url: required for backend remote (an OpenAI-compatible server's base URL)",
                  ::testing::HasSubstr("models.o.ollama_pull: set either ollama_pull or ollama_modelfile")));
}

}  // namespace
}  // namespace kitty
