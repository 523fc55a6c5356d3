// OllamaSupervisor on a fake clock, fake spawner and fake HTTP: the health classes, the start of
// an absent daemon, restarts of a down one, the hourly limit, and the manual restart.
#include "kitty/ollama/supervisor.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "kitty/testing/test_env.h"

namespace kitty {
namespace {

using namespace std::chrono_literals;
using testing_util::TestEnv;

constexpr int kPort = 11434;

OllamaConfig Managed(bool manage = true) {
  OllamaConfig c;
  c.configured = true;
  c.url = "http://127.0.0.1:11434";
  c.manage = manage;
  c.bin = "/opt/ollama";
  c.env = {{"OLLAMA_MODELS", "/tmp/models"}};
  c.health_interval_seconds = 30;
  return c;
}

class SupervisorTest : public ::testing::Test {
 protected:
  void Up() {
    t.http.answers[kPort] = 200;
    t.http.bodies[kPort] = R"({"version":"0.17.4"})";
    t.http.delays.erase(kPort);
  }
  void Down() { t.http.answers.erase(kPort); }
  OllamaSupervisor::Health health(const OllamaSupervisor& s) { return s.info().health; }
  // No daemon answers, so the managed supervisor starts its own, which then answers.
  void StartOwn(OllamaSupervisor& s) {
    Down();
    s.start();
    t.clock.run_pending();
    Up();
    t.clock.advance(300ms);
    ASSERT_EQ(health(s), OllamaSupervisor::Health::kHealthy);
  }

  TestEnv t;
};

TEST_F(SupervisorTest, HealthyWhenItAnswersQuickly) {
  Up();
  OllamaSupervisor s(Managed(false), t.env);
  s.start();
  t.clock.run_pending();
  auto i = s.info();
  EXPECT_EQ(i.health, OllamaSupervisor::Health::kHealthy);
  EXPECT_EQ(i.version, "0.17.4");
  EXPECT_FALSE(i.started_by_kittyd);
  EXPECT_FALSE(s.unavailable());
  EXPECT_EQ(t.spawner.spawn_count(), 0);
  EXPECT_EQ(t.http.calls.back().path, "/api/version");
}

TEST_F(SupervisorTest, SlowAnswersAreUnhealthyThenDown) {
  Up();
  t.http.delays[kPort] = 7s;  // between unhealthy (5 s) and down (15 s)
  OllamaSupervisor s(Managed(false), t.env);
  s.start();
  t.clock.advance(5100ms);  // no answer for 5 s: unhealthy before the verdict
  EXPECT_EQ(health(s), OllamaSupervisor::Health::kUnhealthy);
  t.clock.advance(2s);
  EXPECT_EQ(health(s), OllamaSupervisor::Health::kUnhealthy);
  ASSERT_TRUE(s.info().latency_seconds);
  EXPECT_NEAR(*s.info().latency_seconds, 7.0, 0.01);

  t.http.delays[kPort] = 60s;  // frozen (SIGSTOP): the check times out at down_seconds
  t.clock.advance(30s);
  t.clock.advance(16s);
  EXPECT_EQ(health(s), OllamaSupervisor::Health::kDown);
  // Not managed: nobody restarts it, so its models fall back at once.
  ASSERT_TRUE(s.unavailable());
  EXPECT_NE(s.unavailable()->message.find("is down"), std::string::npos);
  EXPECT_EQ(t.spawner.spawn_count(), 0);
}

TEST_F(SupervisorTest, StartsAnAbsentDaemonWhenManaged) {
  Down();
  OllamaSupervisor s(Managed(), t.env);
  s.start();
  t.clock.run_pending();
  ASSERT_EQ(t.spawner.spawn_count(), 1);
  const auto& spec = t.spawner.last().spec;
  EXPECT_EQ(spec.argv, (std::vector<std::string>{"/opt/ollama", "serve"}));
  EXPECT_EQ(spec.env.at("OLLAMA_HOST"), "127.0.0.1:11434");
  EXPECT_EQ(spec.env.at("OLLAMA_MODELS"), "/tmp/models");
  EXPECT_EQ(health(s), OllamaSupervisor::Health::kStarting);
  EXPECT_FALSE(s.unavailable());  // a start under way: requests wait for it
  Up();
  t.clock.advance(300ms);
  auto i = s.info();
  EXPECT_EQ(i.health, OllamaSupervisor::Health::kHealthy);
  EXPECT_TRUE(i.started_by_kittyd);
  EXPECT_EQ(i.restarts_last_hour, 0);  // the first start is no restart
}

TEST_F(SupervisorTest, RestartsItsOwnDaemonThatDiesAndGivesUpAfterTheHourlyLimit) {
  OllamaSupervisor s(Managed(), t.env);
  StartOwn(s);

  for (int n = 1; n <= 3; ++n) {
    // SIGKILL from outside: the exit is noticed at once and it is started again.
    Down();
    const int pid = t.spawner.last().pid;
    t.spawner.exit(pid, ExitStatus{-1, SIGKILL});
    t.clock.run_pending();
    ASSERT_EQ(t.spawner.spawn_count(), 1 + n) << n;
    Up();
    t.clock.advance(300ms);
    ASSERT_EQ(health(s), OllamaSupervisor::Health::kHealthy) << n;
    EXPECT_EQ(s.info().restarts_last_hour, n);
  }
  // The fourth death in the hour: kittyd gives up; its models go to their fallbacks.
  Down();
  t.spawner.exit(t.spawner.last().pid, ExitStatus{-1, SIGKILL});
  t.clock.run_pending();
  EXPECT_EQ(t.spawner.spawn_count(), 4);
  EXPECT_EQ(health(s), OllamaSupervisor::Health::kDown);
  EXPECT_TRUE(s.info().gave_up);
  ASSERT_TRUE(s.unavailable());
  EXPECT_NE(s.unavailable()->message.find("gave up"), std::string::npos);

  // A restart by hand still works, and clears the give-up.
  std::optional<Status> outcome;
  s.restart([&](Status st) { outcome = st; });
  t.clock.run_pending();
  EXPECT_EQ(t.spawner.spawn_count(), 5);
  Up();
  t.clock.advance(300ms);
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(outcome->ok());
  EXPECT_FALSE(s.info().gave_up);
  EXPECT_FALSE(s.unavailable());
}

TEST_F(SupervisorTest, AFrozenDaemonIsKilledAndStartedAgain) {
  OllamaSupervisor s(Managed(), t.env);
  StartOwn(s);
  const int first = t.spawner.last().pid;
  t.spawner.proc(first).ignore_sigterm = true;  // SIGSTOPped: only SIGKILL ends it
  t.http.delays[kPort] = 60s;
  t.clock.advance(30s + 16s);  // the next check times out: down
  EXPECT_EQ(health(s), OllamaSupervisor::Health::kStarting);
  t.clock.advance(6s);  // SIGTERM ignored; SIGKILL at the stop timeout
  const auto& sigs = t.spawner.proc(first).signals;
  EXPECT_NE(std::find(sigs.begin(), sigs.end(), SIGKILL), sigs.end());
  t.clock.run_pending();
  EXPECT_EQ(t.spawner.spawn_count(), 2);
  Up();
  t.clock.advance(300ms);
  EXPECT_EQ(health(s), OllamaSupervisor::Health::kHealthy);
  EXPECT_EQ(s.info().restarts_last_hour, 1);
}

TEST_F(SupervisorTest, NeverKillsADaemonItDidNotStart) {
  Up();
  OllamaSupervisor s(Managed(), t.env);  // managed, but someone else's daemon answers
  s.start();
  t.clock.run_pending();
  std::optional<Status> outcome;
  s.restart([&](Status st) { outcome = st; });
  t.clock.run_pending();
  ASSERT_TRUE(outcome);
  ASSERT_FALSE(outcome->ok());
  EXPECT_NE(outcome->error().message.find("did not start"), std::string::npos);
  EXPECT_EQ(t.spawner.spawn_count(), 0);
}

TEST_F(SupervisorTest, StartCommandRunsWhenConfigured) {
  Up();
  auto c = Managed();
  c.start_command = {"systemctl", "--user", "restart", "ollama"};
  OllamaSupervisor s(c, t.env);
  s.start();
  t.clock.run_pending();
  std::optional<Status> outcome;
  s.restart([&](Status st) { outcome = st; });
  t.clock.run_pending();
  ASSERT_EQ(t.spawner.spawn_count(), 1);
  EXPECT_EQ(t.spawner.last().spec.argv, c.start_command);
  t.clock.advance(300ms);
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(outcome->ok());
  EXPECT_FALSE(s.info().started_by_kittyd);
}

TEST_F(SupervisorTest, StopEndsItsOwnDaemon) {
  OllamaSupervisor s(Managed(), t.env);
  StartOwn(s);
  const int pid = t.spawner.last().pid;
  bool stopped = false;
  s.stop([&] { stopped = true; });
  t.clock.advance(100ms);
  t.clock.run_pending();
  EXPECT_TRUE(stopped);
  EXPECT_FALSE(t.spawner.proc(pid).group_alive);
}

}  // namespace
}  // namespace kitty
