#include "kitty/backends/executable.h"

#include <gtest/gtest.h>

namespace kitty {
namespace {

TEST(ExecutableTest, ChecksAndPathLookup) {
  EXPECT_TRUE(CheckExecutable("/bin/sh").ok());
  EXPECT_EQ(CheckExecutable("/nonexistent/x").error().message, "does not exist");
  EXPECT_EQ(CheckExecutable("/").error().message, "is a directory");
  EXPECT_EQ(FindInPath("sh", "/nonexistent:/bin").value(), "/bin/sh");
  EXPECT_EQ(FindInPath("no-such-program-xyz", "/bin:/usr/bin").error().message,
            "no 'no-such-program-xyz' on PATH");
}

}  // namespace
}  // namespace kitty
