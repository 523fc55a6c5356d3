// The `server:` section and kittyd's --listen override (config_loader.cc).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kitty/config/config_loader.h"
#include "kitty/config/config_test_util.h"

namespace kitty {
namespace {

using ::testing::ElementsAre;
using config_test::Errors;
using config_test::kEnv;
using config_test::Load;

TEST(ConfigServerTest, ServerSection) {
  Config c = Load(R"(
server:
  listen: 0.0.0.0:8080
  api_keys: [a, b]
  admin_keys: [root]
  max_body_bytes: 64MiB
  log_bodies: true
  open_metrics: true
  auto_ports: 42000-42010
)");
  EXPECT_EQ(c.server.host, "0.0.0.0");
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_THAT(c.server.api_keys, ElementsAre("a", "b"));
  EXPECT_THAT(c.server.admin_keys, ElementsAre("root"));
  EXPECT_EQ(c.server.max_body_bytes, 64ull << 20);
  EXPECT_TRUE(c.server.log_bodies);
  EXPECT_TRUE(c.server.open_metrics);
  EXPECT_EQ(c.server.auto_ports.first, 42000);
  EXPECT_EQ(c.server.auto_ports.last, 42010);

  Config d = Load("server:\n  host: ::1\n  port: 7800\n  max_body_bytes: 1000\n  auto_ports: [5000, 5001]\n");
  EXPECT_EQ(d.server.host, "::1");
  EXPECT_EQ(d.server.port, 7800);
  EXPECT_EQ(d.server.max_body_bytes, 1000u);
  EXPECT_EQ(d.server.auto_ports.first, 5000);
  EXPECT_EQ(d.server.auto_ports.last, 5001);

  Config e = Load("server:\n  listen: '[::1]:7701'\n");
  EXPECT_EQ(e.server.host, "::1");
  EXPECT_EQ(e.server.port, 7701);
}

TEST(ConfigServerTest, ServerErrors) {
  EXPECT_THAT(Errors(R"(server:
  listen: 127.0.0.1
  max_body_bytes: lots
  auto_ports: 42010-42000
  port: 70000
models:
  a: {model_path: /a, port: 7701}
)"),
              ElementsAre("kitty.yaml:2: server.listen: expected \"host:port\" (e.g. \"127.0.0.1:7700\" or "
                          "\"[::1]:7700\"), got \"127.0.0.1\"",
                          "kitty.yaml:3: server.max_body_bytes: expected a byte size such as 1048576, \"32MiB\" or "
                          "\"1GB\", got \"lots\"",
                          "kitty.yaml:4: server.auto_ports: first port 42010 is above last port 42000",
                          "kitty.yaml:5: server.port: must be in 1..65535, got 70000",
                          "kitty.yaml:5: server: set either listen or host/port, not both (listen is at "
                          "kitty.yaml:2)"));
  EXPECT_THAT(Errors("server:\n  listen: 127.0.0.1:7701\nmodels:\n  a: {model_path: /a, port: 7701}\n"),
              ElementsAre("kitty.yaml:4: models.a.port: port 7701 is kittyd's own listen port (server at "
                          "kitty.yaml:2)"));
}

TEST(ConfigServerTest, ConnectionLimitDefaults) {
  Config c = Load("");
  EXPECT_EQ(c.server.header_timeout_seconds, 10);
  EXPECT_EQ(c.server.body_timeout_seconds, 10);
  EXPECT_EQ(c.server.keep_alive_seconds, 300);
  EXPECT_EQ(c.server.max_connections, 16384);
  EXPECT_EQ(c.server.io_threads, 0);
}

TEST(ConfigServerTest, ConnectionLimits) {
  Config c = Load(R"(
server:
  header_timeout_seconds: 2.5
  body_timeout_seconds: 30
  keep_alive_seconds: 86400
  max_connections: 20000
  io_threads: 4
)");
  EXPECT_EQ(c.server.header_timeout_seconds, 2.5);
  EXPECT_EQ(c.server.body_timeout_seconds, 30);
  EXPECT_EQ(c.server.keep_alive_seconds, 86400);
  EXPECT_EQ(c.server.max_connections, 20000);
  EXPECT_EQ(c.server.io_threads, 4);

  Config edges = Load("server: {max_connections: 1, io_threads: 1024, header_timeout_seconds: 0.001}\n");
  EXPECT_EQ(edges.server.max_connections, 1);
  EXPECT_EQ(edges.server.io_threads, 1024);
  EXPECT_EQ(edges.server.header_timeout_seconds, 0.001);

  Config from_env = Load("server: {io_threads: \"${N}\"}\n", config_test::MapEnv({{"HOME", "/h"}, {"N", "3"}}));
  EXPECT_EQ(from_env.server.io_threads, 3);
}

TEST(ConfigServerTest, ConnectionLimitErrors) {
  EXPECT_THAT(Errors(R"(server:
  header_timeout_seconds: 0
  body_timeout_seconds: -1
  keep_alive_seconds: 100000
  max_connections: 0
  io_threads: -1
)"),
              ElementsAre("kitty.yaml:2: server.header_timeout_seconds: must be greater than 0",
                          "kitty.yaml:3: server.body_timeout_seconds: must not be negative, got -1",
                          "kitty.yaml:4: server.keep_alive_seconds: must be at most 86400 (a day), got 100000",
                          "kitty.yaml:5: server.max_connections: must be in 1..1000000, got 0",
                          "kitty.yaml:6: server.io_threads: must be in 0..1024, got -1"));
  EXPECT_THAT(Errors(R"(server:
  header_timeout_seconds: soon
  body_timeout_seconds: [1]
  max_connections: 2000000
  io_threads: many
)"),
              ElementsAre("kitty.yaml:2: server.header_timeout_seconds: expected a number of seconds, got \"soon\"",
                          "kitty.yaml:3: server.body_timeout_seconds: expected a number of seconds, got a list",
                          "kitty.yaml:4: server.max_connections: must be in 1..1000000, got 2000000",
                          "kitty.yaml:5: server.io_threads: expected an integer, got \"many\""));
}

TEST(ConfigServerTest, ConnectionLimitTyposAndMisplacedKeys) {
  EXPECT_THAT(Errors("server:\n  header_timout_seconds: 5\n  max_conections: 10\n  keepalive_seconds: 9\n"),
              ElementsAre("kitty.yaml:2: server.header_timout_seconds: unknown key (did you mean "
                          "'header_timeout_seconds'?)",
                          "kitty.yaml:3: server.max_conections: unknown key (did you mean 'max_connections'?)",
                          "kitty.yaml:4: server.keepalive_seconds: unknown key (did you mean "
                          "'keep_alive_seconds'?)"));
  EXPECT_THAT(Errors("models:\n  a: {model_path: /a, io_threads: 2}\n"),
              ElementsAre("kitty.yaml:2: models.a.io_threads: unknown key (a server key: put it under server:)"));
}

TEST(ConfigServerTest, BodyTimeoutGrowsPerMiB) {
  ServerConfig s;  // 10 s per MiB
  EXPECT_EQ(s.BodyTimeout(0), 10);
  EXPECT_EQ(s.BodyTimeout(1), 10);
  EXPECT_EQ(s.BodyTimeout(1 << 20), 10);
  EXPECT_EQ(s.BodyTimeout((1 << 20) + 1), 20);  // a started MiB counts
  EXPECT_EQ(s.BodyTimeout(32ull << 20), 320);
  s.body_timeout_seconds = 0.5;
  EXPECT_EQ(s.BodyTimeout(3ull << 20), 1.5);
  // A declared length near 2^64 stays a finite, representable deadline.
  s.body_timeout_seconds = 86400;
  EXPECT_EQ(s.BodyTimeout(UINT64_MAX), 1e9);
}

TEST(ConfigServerTest, ListenOverrideReplacesTheFilesListen) {
  ConfigOverrides flag{"0.0.0.0:9100"};
  Config c = Load("server:\n  listen: 127.0.0.1:7700\n", kEnv, flag);
  EXPECT_EQ(c.server.host, "0.0.0.0");
  EXPECT_EQ(c.server.port, 9100);
  Config hp = Load("server:\n  host: ::1\n  port: 7800\n", kEnv, ConfigOverrides{"[::1]:9101"});
  EXPECT_EQ(hp.server.host, "::1");
  EXPECT_EQ(hp.server.port, 9101);
  Config none = Load("", kEnv, ConfigOverrides{});
  EXPECT_EQ(none.server.port, 7700);
  // The embedded default goes through the same path (kittyd without --config).
  auto d = LoadConfigString("server: {listen: 127.0.0.1:7700}\n", "<embedded default>", ConfigOverrides{"h:1"});
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->server.host, "h");
  EXPECT_EQ(d->server.port, 1);
}

TEST(ConfigServerTest, ListenOverrideHasServerListensChecks) {
  // The same messages as server.listen's, naming the flag instead of file:line.
  for (const char* bad : {"127.0.0.1", ":7700", "host:", "::1:7700", "[::1]7700", "h:x"})
    EXPECT_THAT(Errors("", kEnv, ConfigOverrides{bad}),
                ElementsAre(std::string("--listen: expected \"host:port\" (e.g. \"127.0.0.1:7700\" or "
                                        "\"[::1]:7700\"), got \"") +
                            bad + "\""))
        << bad;
  EXPECT_THAT(Errors("", kEnv, ConfigOverrides{"h:0"}),
              ElementsAre("--listen: port 0 is outside 1..65535 in \"h:0\""));
  EXPECT_THAT(Errors("server:\n  listen: 127.0.0.1\n", kEnv, ConfigOverrides{"h:70000"}),
              ElementsAre("kitty.yaml:2: server.listen: expected \"host:port\" (e.g. \"127.0.0.1:7700\" or "
                          "\"[::1]:7700\"), got \"127.0.0.1\"",
                          "--listen: port 70000 is outside 1..65535 in \"h:70000\""));
  // A model's fixed port against kittyd's own, where the flag put it.
  EXPECT_THAT(Errors("models:\n  a: {model_path: /a, port: 7701}\n", kEnv, ConfigOverrides{"127.0.0.1:7701"}),
              ElementsAre("kitty.yaml:2: models.a.port: port 7701 is kittyd's own listen port (--listen)"));
  // ... and the flag moving kittyd off a model's port clears the clash.
  Config moved = Load("server: {listen: 127.0.0.1:7701}\nmodels:\n  a: {model_path: /a, port: 7701}\n", kEnv,
                      ConfigOverrides{"127.0.0.1:7702"});
  EXPECT_EQ(moved.server.port, 7702);
  // A YAML error in the file and a bad flag are both reported.
  EXPECT_THAT(Errors("models: [\n", kEnv, ConfigOverrides{"nope"}),
              ElementsAre("kitty.yaml:1: YAML syntax error: unclosed '[' opened here at column 9 (parsing stopped "
                          "at line 2, column 1: end of sequence flow not found)",
                          "--listen: expected \"host:port\" (e.g. \"127.0.0.1:7700\" or \"[::1]:7700\"), got "
                          "\"nope\""));
}

}  // namespace
}  // namespace kitty
