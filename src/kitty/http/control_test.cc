// RunOn and UntilDone across two real threads: the work runs on the target's thread, the
// coroutine resumes on its own, and what the named lambda captured is destroyed exactly once
// (the form control.h prescribes against GCC 12's double destruction of temporaries).
#include "kitty/http/control.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace kitty::web {
namespace {

std::atomic<int> g_live{0};
struct Tracked {
  Tracked() { ++g_live; }
  Tracked(const Tracked&) { ++g_live; }
  Tracked(Tracked&&) noexcept { ++g_live; }
  ~Tracked() { --g_live; }
};

TEST(ControlTest, RunOnRunsThereAndResumesHere) {
  net::io_context io, control;
  auto guard = net::make_work_guard(control);
  std::thread control_thread([&] { control.run(); });
  const std::thread::id control_id = control_thread.get_id();
  std::thread::id ran_on, resumed_on;
  int got = 0;
  {
    Tracked t;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
          auto work = [t, &ran_on] {
            ran_on = std::this_thread::get_id();
            return 42;
          };
          got = co_await RunOn(control.get_executor(), work);
          resumed_on = std::this_thread::get_id();
        },
        net::detached);
    io.run();
  }
  guard.reset();
  control_thread.join();
  EXPECT_EQ(got, 42);
  EXPECT_EQ(ran_on, control_id);
  EXPECT_EQ(resumed_on, std::this_thread::get_id());
  EXPECT_EQ(g_live.load(), 0) << "every copy of the capture destroyed exactly once";
}

TEST(ControlTest, UntilDoneWaitsForTheCallback) {
  net::io_context io, control;
  bool done = false;
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        auto start = [&control](std::function<void()> finish) {
          net::post(control, [finish] { finish(); });  // finishes a turn later
        };
        co_await UntilDone(control.get_executor(), start);
        done = true;
      },
      net::detached);
  while (!done) {
    io.poll();
    io.restart();
    control.poll();
    control.restart();
  }
  EXPECT_TRUE(done);
}

}  // namespace
}  // namespace kitty::web
