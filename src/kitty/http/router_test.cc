// The routes on fakes: a real Router and WorkerManager on a fake spawner, fake clock and fake
// worker HTTP, requests handed to Router::handle on one io_context. No process is started.
#include "kitty/http/router.h"

#include <gtest/gtest.h>

#include "kitty/testing/loopback.h"
#include "kitty/testing/test_env.h"

namespace kitty::web {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    models_.push_back(Model("smol", {"tiny"}));
    models_.push_back(Model("qwen", {}));
    ModelConfig ollama = Model("gpt", {});
    ollama.backend = Backend::kOllama;
    models_.push_back(ollama);
  }

  static ModelConfig Model(std::string id, std::vector<std::string> aliases) {
    ModelConfig m;
    m.id = std::move(id);
    m.aliases = std::move(aliases);
    m.backend = Backend::kCommand;
    m.command = {"engine"};
    m.idle_shutdown_seconds = 60;
    m.stop_timeout_seconds = 2;
    return m;
  }

  void build(ServerConfig server = {}) {
    manager_ = std::make_unique<WorkerManager>(models_, t_.env, PortRange{7001, 7010});
    RouteContext rc;
    rc.manager = manager_.get();
    rc.control = io_.get_executor();
    rc.clock = &t_.clock;
    rc.server = std::move(server);
    rc.version = "test";
    router_ = std::make_unique<Router>(rc);
  }

  struct Answer {
    int status = 0;
    json body;
    std::string raw;
  };

  // Sends one request through the router and returns its answer (the fake clock moves 1 ms
  // per turn of the loop, so worker timers run).
  Answer call(http::verb method, std::string target, std::string body = "",
              std::string auth = "") {
    if (!manager_) build();
    auto pair = testing_util::SocketPair(io_);
    beast::tcp_stream stream(std::move(pair.second));
    Request req{method, target, 11};
    if (!auth.empty()) req.set(http::field::authorization, auth);
    req.body() = std::move(body);
    req.prepare_payload();
    Exchange ex{stream, std::move(req)};
    bool done = false;
    net::co_spawn(io_, router_->handle(ex), [&](std::exception_ptr) { done = true; });
    for (int i = 0; i < 20000 && !done; ++i) {
      io_.poll();
      io_.restart();
      t_.clock.advance(1ms);
    }
    EXPECT_TRUE(done) << target << " did not finish";
    Answer a;
    if (ex.response) {
      a.status = ex.response->result_int();
      a.raw = ex.response->body();
      a.body = json::parse(a.raw, nullptr, false);
    }
    return a;
  }

  net::io_context io_;
  testing_util::TestEnv t_;
  std::vector<ModelConfig> models_;
  std::unique_ptr<WorkerManager> manager_;
  std::unique_ptr<Router> router_;
};

TEST_F(RouterTest, PathsOutsideTheForwardedRoutesNeverReachAWorker) {
  auto a = call(http::verb::post, "/v1/../../shutdown", R"({"model":"smol"})");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body["error"]["code"], "not_found");
  a = call(http::verb::post, "/v1/%2e%2e/admin", R"({"model":"smol"})");
  EXPECT_EQ(a.status, 404);
  a = call(http::verb::post, "/v1/unknown/route", R"({"model":"smol"})");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(t_.spawner.spawn_count(), 0);
}

TEST_F(RouterTest, MalformedTargetIs400) {
  auto a = call(http::verb::post, "/v1/chat%2Fcompletions", R"({"model":"smol"})");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["error"]["code"], "invalid_request");
}

TEST_F(RouterTest, BadBodiesAndUnknownModels) {
  auto a = call(http::verb::post, "/v1/chat/completions", "{nope");
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["error"]["code"], "invalid_json");
  a = call(http::verb::post, "/v1/chat/completions", R"({"messages":[]})");
  EXPECT_EQ(a.body["error"]["code"], "missing_model");
  a = call(http::verb::post, "/v1/chat/completions", R"({"model":"llama"})");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body["error"]["code"], "model_not_found");
  EXPECT_EQ(a.body["error"]["available"], json({"smol", "qwen", "gpt"}));
  EXPECT_NE(a.body["error"]["message"].get<std::string>().find("smol, qwen, gpt"),
            std::string::npos);
  a = call(http::verb::get, "/v1/chat/completions");
  EXPECT_EQ(a.status, 405);
  EXPECT_EQ(a.body["error"]["code"], "method_not_allowed");
}

TEST_F(RouterTest, AnOllamaModelWhoseDaemonIsDownIs503AtOnce) {
  t_.env.upstream_unavailable = [](const ModelConfig& m) -> std::optional<Error> {
    if (m.backend != Backend::kOllama) return std::nullopt;
    return MakeError("the Ollama daemon at http://127.0.0.1:11434 is down (connection refused)",
                     ErrorCode::kWorkerStartFailed);
  };
  auto a = call(http::verb::post, "/v1/chat/completions", R"({"model":"gpt"})");
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.body["error"]["code"], "worker_start_failed");
  EXPECT_NE(a.body["error"]["message"].get<std::string>().find("Ollama daemon"), std::string::npos);
  EXPECT_EQ(t_.spawner.spawn_count(), 0);
}

TEST_F(RouterTest, AStartThatCannotExecIs503WithItsReason) {
  t_.spawner.next_spawn_error = MakeError("cannot execute '/x/engine': Exec format error",
                                          ErrorCode::kExecFailed);
  auto a = call(http::verb::post, "/v1/completions", R"({"model":"tiny"})");
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.body["error"]["code"], "worker_start_failed");
  EXPECT_EQ(a.body["error"]["reason"], "exec_failed");
  EXPECT_EQ(a.body["error"]["type"], "server_error");
  EXPECT_EQ(a.body["error"]["model_id"], "smol");
  EXPECT_TRUE(a.body["error"]["log_tail"].is_array());
}

TEST_F(RouterTest, KeysGuardTheirRoutesAndHealthStaysOpen) {
  ServerConfig s;
  s.api_keys = {"k1"};
  s.admin_keys = {"admin"};
  build(s);
  EXPECT_EQ(call(http::verb::get, "/v1/models").status, 401);
  EXPECT_EQ(call(http::verb::get, "/v1/models", "", "Bearer k1").status, 200);
  EXPECT_EQ(call(http::verb::get, "/kitty/system/workers", "", "Bearer k1").status, 401);
  EXPECT_EQ(call(http::verb::get, "/kitty/system/workers", "", "Bearer admin").status, 200);
  auto h = call(http::verb::get, "/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body["status"], "ok");
  EXPECT_EQ(call(http::verb::get, "/kitty/health").status, 200);
}

TEST_F(RouterTest, EnsureReleaseAndStatus) {
  t_.http.answers[7001] = 200;
  auto a = call(http::verb::post, "/kitty/workers/tiny/ensure");
  ASSERT_EQ(a.status, 200) << a.raw;
  EXPECT_EQ(a.body["model_id"], "smol");
  EXPECT_EQ(a.body["status"], "ready");
  EXPECT_EQ(a.body["port"], 7001);
  auto list = call(http::verb::get, "/kitty/system/workers");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body["workers"][0]["status"], "ready");
  EXPECT_EQ(list.body["workers"][1]["status"], "stopped");
  auto r = call(http::verb::post, "/kitty/workers/smol/release");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["status"], "stopped");
  EXPECT_EQ(t_.spawner.alive_count(), 0);
}

TEST_F(RouterTest, ReleaseAllStopsEveryWorker) {
  t_.http.answers[7001] = 200;
  t_.http.answers[7002] = 200;
  ASSERT_EQ(call(http::verb::post, "/kitty/workers/smol/ensure").status, 200);
  ASSERT_EQ(call(http::verb::post, "/kitty/workers/qwen/ensure").status, 200);
  EXPECT_EQ(t_.spawner.alive_count(), 2);
  auto a = call(http::verb::post, "/kitty/workers/release-all");
  EXPECT_EQ(a.status, 200);
  for (const auto& w : a.body["workers"]) EXPECT_EQ(w["status"], "stopped");
  EXPECT_EQ(t_.spawner.alive_count(), 0);
}

TEST_F(RouterTest, HoldsAreTakenRenewedAndDropped) {
  t_.http.answers[7001] = 200;
  auto h = call(http::verb::post, "/kitty/workers/smol/hold", R"({"lease_seconds": 30, "owner": "g"})");
  ASSERT_EQ(h.status, 200) << h.raw;
  const std::string id = h.body["hold_id"];
  auto renew = call(http::verb::post, "/kitty/holds/" + id + "/renew");
  EXPECT_EQ(renew.status, 200);
  EXPECT_EQ(renew.body["model_id"], "smol");
  EXPECT_EQ(call(http::verb::delete_, "/kitty/holds/" + id).body["released"], true);
  auto gone = call(http::verb::post, "/kitty/holds/" + id + "/renew");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.body["error"]["code"], "hold_not_found");
  auto bad = call(http::verb::post, "/kitty/workers/smol/hold", R"({"lease_seconds": "x"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["error"]["code"], "invalid_request");
}

TEST_F(RouterTest, UnknownAdminRoutesAndMethods) {
  EXPECT_EQ(call(http::verb::get, "/kitty/nothing").status, 404);
  EXPECT_EQ(call(http::verb::get, "/kitty/workers/smol/ensure").status, 405);
  auto a = call(http::verb::get, "/kitty/workers/nope");
  EXPECT_EQ(a.status, 404);
  EXPECT_EQ(a.body["error"]["code"], "model_not_found");
}

TEST_F(RouterTest, ModelListShowsStatesAndAliases) {
  auto a = call(http::verb::get, "/v1/models");
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.body["object"], "list");
  ASSERT_EQ(a.body["data"].size(), 3u);
  EXPECT_EQ(a.body["data"][0]["id"], "smol");
  EXPECT_EQ(a.body["data"][0]["aliases"], json({"tiny"}));
  EXPECT_EQ(a.body["data"][0]["status"], "stopped");
  EXPECT_EQ(call(http::verb::get, "/v1/models/qwen").body["status"], "stopped");
}

}  // namespace
}  // namespace kitty::web
