#include "kitty/process/daemon_lock.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <optional>

#include "kitty/testing/temp_dir.h"

namespace kitty {
namespace {

TEST(DaemonLock, SecondInstanceIsRefusedUntilTheFirstReleases) {
  testing_util::TempDir dir;
  std::string state_dir = dir.path() + "/state";
  std::optional<LockFile> first;
  {
    auto lock = AcquireDaemonLock(state_dir);
    ASSERT_TRUE(lock.ok()) << lock.error().message;
    first.emplace(std::move(lock.value()));
  }
  // flock() locks belong to the open file: a second open in the same process conflicts too.
  auto second = AcquireDaemonLock(state_dir);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message, "another kittyd (pid " + std::to_string(getpid()) +
                                        ") is using state dir " + state_dir);
  EXPECT_EQ(second.error().code, ErrorCode::kAlreadyRunning);

  first.reset();
  EXPECT_TRUE(AcquireDaemonLock(state_dir).ok());
}

}  // namespace
}  // namespace kitty
