#include "kitty/memory/disk_free.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kitty/testing/temp_dir.h"

namespace kitty {
namespace {

using ::testing::HasSubstr;

TEST(DiskFree, ATempDirHasSomeFreeSpace) {
  testing_util::TempDir dir;
  auto free = FreeBytes(dir.path());
  ASSERT_TRUE(free.ok()) << free.error().message;
  EXPECT_GT(*free, 0u);
}

TEST(DiskFree, AMissingPathIsAnErrorNamingIt) {
  testing_util::TempDir dir;
  const std::string missing = dir.path() + "/not-there";
  auto free = FreeBytes(missing);
  ASSERT_FALSE(free.ok());
  EXPECT_EQ(free.error().code, ErrorCode::kFileNotFound);
  EXPECT_THAT(free.error().message, HasSubstr(missing));
}

}  // namespace
}  // namespace kitty
