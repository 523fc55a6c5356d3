// A Worker whose plan sends requests elsewhere (backends ollama and remote: the spawned process
// is kitty-agent, which stands for a model upstream): health goes to the agent, leases point at
// the upstream, the agent's report shows in status, and the agent's "evicted" exit is an
// eviction (stopped), not a crash (failed). Also the upstream_unavailable hook.
#include <gtest/gtest.h>

#include "kitty/testing/worker_fixture.h"

namespace kitty {
namespace {

using namespace std::chrono_literals;

class WorkerAgentTest : public testing_util::WorkerFixture {
 protected:
  WorkerAgentTest() {
    t_.env.plan_launch = [](const ModelConfig& m, int port) -> Result<LaunchPlan> {
      LaunchPlan p;
      p.spawn.argv = {"kitty-agent", "ollama"};
      p.host = "127.0.0.1";
      p.port = port;
      p.health_path = "/health";
      p.upstream = LaunchPlan::Upstream{"127.0.0.1", 11434, "gpt-oss:20b", "", ""};
      p.evicted_exit_code = 3;
      return p;
    };
    t_.http.bodies[7001] = R"({"status":"ok","backend":"ollama","size_bytes":123})";
  }
};

TEST_F(WorkerAgentTest, LeasesPointAtTheUpstreamAndHealthAtTheAgent) {
  auto w = make();
  make_ready(*w);
  EXPECT_EQ(t_.http.calls.back().port, 7001);
  auto lease = w->gate().try_lease();
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->endpoint().port, 11434);
  EXPECT_EQ(lease->endpoint().model, "gpt-oss:20b");
  EXPECT_EQ(lease->endpoint().pid, w->pid());
  auto info = w->info();
  EXPECT_EQ(info.port, 7001);
  EXPECT_EQ(info.backend_status, R"({"status":"ok","backend":"ollama","size_bytes":123})");
}

TEST_F(WorkerAgentTest, TheUpstreamDroppingTheModelIsAnEvictionNotACrash) {
  auto w = make();
  make_ready(*w);
  t_.spawner.exit(w->pid(), ExitStatus{3, 0});
  t_.clock.advance(50ms);
  auto info = w->info();
  EXPECT_EQ(info.state, WorkerState::kStopped);
  ASSERT_TRUE(info.last_exit);
  EXPECT_EQ(info.last_exit->kind, "evicted");
  EXPECT_NE(info.last_exit->message.find("unloaded it on its own"), std::string::npos);
  EXPECT_EQ(info.exits["evicted"], 1);
  EXPECT_FALSE(w->unavailable());
  // The next request loads it again.
  make_ready(*w);
  EXPECT_EQ(t_.spawner.spawn_count(), 2);
}

TEST_F(WorkerAgentTest, AnUpstreamThatIsDownFailsTheStartAtOnceWithoutABackoff) {
  bool down = true;
  t_.env.upstream_unavailable = [&](const ModelConfig&) -> std::optional<Error> {
    if (!down) return std::nullopt;
    return MakeError("the Ollama daemon at http://127.0.0.1:11434 is down", ErrorCode::kWorkerStartFailed);
  };
  auto w = make();
  ASSERT_TRUE(w->unavailable());
  std::optional<Result<Endpoint>> got;
  w->ensure([&](Result<Endpoint> r) { got = std::move(r); });
  t_.clock.advance(10ms);
  ASSERT_TRUE(got && !got->ok());
  EXPECT_NE(got->error().message.find("is down"), std::string::npos);
  EXPECT_EQ(t_.spawner.spawn_count(), 0);
  down = false;
  EXPECT_FALSE(w->unavailable());
  make_ready(*w);  // no backoff to wait out
  EXPECT_EQ(w->state(), WorkerState::kReady);
  // Down again while ready: unavailable at once (its requests go to the fallbacks), before its
  // agent notices.
  down = true;
  ASSERT_TRUE(w->unavailable());
  EXPECT_EQ(w->state(), WorkerState::kReady);
}

}  // namespace
}  // namespace kitty
