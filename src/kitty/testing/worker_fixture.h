// A gtest fixture for one Worker on the fake environment: a `command` model "m" on port 7001,
// made ready by answering its health probe.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "kitty/testing/test_env.h"
#include "kitty/worker/worker.h"

namespace kitty::testing_util {

class WorkerFixture : public ::testing::Test {
 protected:
  WorkerFixture() {
    config_.id = "m";
    config_.backend = Backend::kCommand;
    config_.command = {"engine"};
    config_.idle_shutdown_seconds = 10;
    config_.stop_timeout_seconds = 4;
    config_.start_timeout_seconds = 30;
  }
  std::shared_ptr<Worker> make() {
    return Worker::Create(config_, t_.env, [](const ModelConfig&) -> Result<int> { return 7001; });
  }
  void make_ready(Worker& w) {
    using namespace std::chrono_literals;
    t_.http.answers[7001] = 200;
    bool ready = false;
    w.ensure([&](Result<Endpoint> r) { ready = r.ok(); });
    t_.clock.advance(50ms);
    ASSERT_TRUE(ready);
  }
  TestEnv t_;
  ModelConfig config_;
};

}  // namespace kitty::testing_util
