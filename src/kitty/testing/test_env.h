// TestEnv: the whole outside world of the daemon's parts as fakes (clock, spawner, worker HTTP,
// ports, events), wired into one Env, for state-machine and route tests that run in
// microseconds.
#pragma once

#include "kitty/backends/backend.h"
#include "kitty/base/env.h"
#include "kitty/events/bus.h"
#include "kitty/testing/fake_clock.h"
#include "kitty/testing/fake_ports.h"
#include "kitty/testing/fake_spawner.h"
#include "kitty/testing/fake_worker_http.h"

namespace kitty::testing_util {

struct TestEnv {
  TestEnv() : spawner(&clock), http(&clock) {
    env.clock = &clock;
    env.spawner = &spawner;
    env.worker_http = &http;
    env.ports = &ports;
    env.events = &events;
    // A plan straight from the config: argv = command, on 127.0.0.1, no file checks.
    env.plan_launch = [](const ModelConfig& m, int port) -> Result<LaunchPlan> {
      LaunchPlan p;
      p.spawn.argv = m.command.empty() ? std::vector<std::string>{"engine"} : m.command;
      p.host = "127.0.0.1";
      p.port = port;
      p.health_path = m.health_path;
      p.shutdown_path = m.shutdown_path;
      return p;
    };
  }

  FakeClock clock;
  FakeSpawner spawner;
  FakeWorkerHttp http;
  FakePorts ports;
  EventBus events;
  Env env;
};

}  // namespace kitty::testing_util
