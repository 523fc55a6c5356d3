#include "kitty/process/proc_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace kitty {
namespace {

TEST(ProcFileTest, ReadsAFileWholeAndSaysWhenItCannot) {
  const std::string path = ::testing::TempDir() + "/proc_file_test.txt";
  std::string big(100000, 'x');
  std::ofstream(path) << big;
  auto got = ReadProcFile(path);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, big) << "more than one read's worth";
  EXPECT_EQ(ReadProcFile(path, 10)->size(), 10u);
  EXPECT_FALSE(ReadProcFile(path + ".missing").has_value());
  // A directory opens but cannot be read: nullopt, not an exception.
  EXPECT_FALSE(ReadProcFile(::testing::TempDir()).has_value());
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace kitty
