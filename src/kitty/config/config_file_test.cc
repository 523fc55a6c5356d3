#include "kitty/config/config_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>

#include "kitty/config/config_loader.h"
#include "kitty/testing/temp_dir.h"

namespace kitty {
namespace {

using ::testing::HasSubstr;
using testing_util::TempDir;

std::string Message(const Result<std::string>& r) { return r.ok() ? "(read fine)" : r.error().message; }

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

TEST(ConfigFileTest, ReadsARegularFile) {
  TempDir dir;
  std::string path = dir.path() + "/kitty.yaml";
  WriteFile(path, "models: {}\n");
  auto text = ReadConfigFile(path);
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, "models: {}\n");

  // Through a symlink: what counts is the file it names.
  std::string link = dir.path() + "/link.yaml";
  ASSERT_EQ(symlink(path.c_str(), link.c_str()), 0);
  EXPECT_EQ(ReadConfigFile(link).value(), "models: {}\n");

  // Empty is a valid (empty) config.
  WriteFile(path, "");
  EXPECT_EQ(ReadConfigFile(path).value(), "");
}

TEST(ConfigFileTest, MissingFileIsConfigNotFound) {
  auto r = ReadConfigFile("/nonexistent/kitty.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kFileNotFound);
  EXPECT_EQ(r.error().message, "/nonexistent/kitty.yaml: cannot read the config file: No such file or directory");
}

TEST(ConfigFileTest, DirectoryIsRefused) {
  TempDir dir;
  auto r = ReadConfigFile(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kConfigInvalid);
  EXPECT_EQ(r.error().message,
            dir.path() + ": not a regular file (a directory); the config must be a YAML file");
}

TEST(ConfigFileTest, FifoIsRefusedWithoutBlocking) {
  // Opening a FIFO for reading waits for a writer: if the reader opened it, this test would hang.
  TempDir dir;
  std::string fifo = dir.path() + "/pipe.yaml";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(Message(ReadConfigFile(fifo)),
            fifo + ": not a regular file (a named pipe); the config must be a YAML file");
}

TEST(ConfigFileTest, DevicesAreRefused) {
  // /dev/zero used to be read without bound until bad_alloc.
  EXPECT_EQ(Message(ReadConfigFile("/dev/zero")),
            "/dev/zero: not a regular file (a character device); the config must be a YAML file");
  EXPECT_EQ(Message(ReadConfigFile("/dev/null")),
            "/dev/null: not a regular file (a character device); the config must be a YAML file");
}

TEST(ConfigFileTest, SocketIsRefused) {
  TempDir dir;
  std::string path = dir.path() + "/sock";
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  std::copy(path.begin(), path.end(), addr.sun_path);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(Message(ReadConfigFile(path)), path + ": not a regular file (a socket); the config must be a YAML file");
  close(fd);
}

#ifdef __linux__
TEST(ConfigFileTest, ProcPseudoFilesAreRefused) {
  // Both say "regular file, 0 bytes": mem fails its read, status reads fine.
  EXPECT_EQ(Message(ReadConfigFile("/proc/self/mem")),
            "/proc/self/mem: not a regular file on disk: it reports a size of 0 bytes, but reading it fails "
            "(Input/output error); a /proc or /sys file?");
  EXPECT_EQ(Message(ReadConfigFile("/proc/self/status")),
            "/proc/self/status: not a regular file on disk: it reports a size of 0 bytes, but reading it gives "
            "data; a /proc or /sys file?");
}
#endif

TEST(ConfigFileTest, SizeCapIsCheckedBeforeReading) {
  TempDir dir;
  std::string path = dir.path() + "/big.yaml";
  // A sparse 5 MiB file: the cap must refuse it from its size, not after reading it.
  {
    std::ofstream(path, std::ios::binary).put('\n');
    ASSERT_EQ(truncate(path.c_str(), 5 << 20), 0);
  }
  auto r = ReadConfigFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kConfigInvalid);
  EXPECT_EQ(r.error().message,
            path + ": too large for a config file: 5 MiB (5242880 bytes); the limit is 4 MiB");

  ASSERT_EQ(truncate(path.c_str(), kMaxConfigFileBytes), 0);
  auto at_cap = ReadConfigFile(path);
  ASSERT_TRUE(at_cap.ok()) << at_cap.error().message;
  EXPECT_EQ(at_cap->size(), kMaxConfigFileBytes);

  ASSERT_EQ(truncate(path.c_str(), kMaxConfigFileBytes + 1), 0);
  EXPECT_THAT(Message(ReadConfigFile(path)), HasSubstr("4.0 MiB (4194305 bytes); the limit is 4 MiB"));

  // A smaller cap (the parameter exists for this test and for callers with tighter needs).
  WriteFile(path, "0123456789");
  EXPECT_EQ(Message(ReadConfigFile(path, 9)),
            path + ": too large for a config file: 10 bytes; the limit is 9 bytes");
  EXPECT_TRUE(ReadConfigFile(path, 10).ok());
}

TEST(ConfigFileTest, LoadConfigFileRefusesWhatReadConfigFileRefuses) {
  TempDir dir;
  auto c = LoadConfigFile(dir.path());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::kConfigInvalid);
  EXPECT_THAT(c.error().message, HasSubstr("not a regular file (a directory)"));
  EXPECT_FALSE(LoadConfigFile("/dev/zero").ok());
}

}  // namespace
}  // namespace kitty
