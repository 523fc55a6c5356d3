#include "kitty/gguf/file_reader.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kitty/gguf/gguf_test_writer.h"

namespace kitty {
namespace {

using ::testing::HasSubstr;

class FileReaderTest : public ::testing::Test {
 protected:
  std::string Bytes(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 7 + 1);
    return s;
  }
  testing::GgufTempDir dir_;
};

TEST_F(FileReaderTest, ReadsAcrossBufferBoundariesAndSkipsPastThem) {
  std::string data = Bytes(1000);
  std::string path = dir_.Write("f", data);
  FileReader r(/*buffer_size=*/16);
  ASSERT_TRUE(r.Open(path).ok());
  EXPECT_EQ(r.size(), 1000u);

  std::string got(40, '\0');
  ASSERT_TRUE(r.Read(got.data(), got.size()).ok());  // spans three buffer fills
  EXPECT_EQ(got, data.substr(0, 40));
  ASSERT_TRUE(r.Skip(3).ok());  // inside the buffer
  ASSERT_TRUE(r.Skip(500).ok());  // far past it: a seek
  EXPECT_EQ(r.offset(), 543u);
  ASSERT_TRUE(r.Read(got.data(), 10).ok());
  EXPECT_EQ(got.substr(0, 10), data.substr(543, 10));
  EXPECT_EQ(r.remaining(), 1000u - 553u);
}

TEST_F(FileReaderTest, LittleEndianIntegers) {
  std::string path = dir_.Write("f", std::string("\x01\x02\x03\x04\x05\x06\x07\x08\xff", 9));
  FileReader r;
  ASSERT_TRUE(r.Open(path).ok());
  uint32_t a = 0;
  uint8_t c = 0;
  ASSERT_TRUE(r.ReadU32(&a).ok());
  EXPECT_EQ(a, 0x04030201u);
  uint16_t b = 0;
  ASSERT_TRUE(r.ReadU16(&b).ok());
  EXPECT_EQ(b, 0x0605u);
  ASSERT_TRUE(r.Skip(2).ok());
  ASSERT_TRUE(r.ReadU8(&c).ok());
  EXPECT_EQ(c, 0xff);
  EXPECT_EQ(r.remaining(), 0u);

  ASSERT_TRUE(r.Open(path).ok());
  uint64_t d = 0;
  ASSERT_TRUE(r.ReadU64(&d).ok());
  EXPECT_EQ(d, 0x0807060504030201u);
}

TEST_F(FileReaderTest, PastTheEndFailsWithoutMoving) {
  std::string path = dir_.Write("f", Bytes(10));
  FileReader r(4);
  ASSERT_TRUE(r.Open(path).ok());
  ASSERT_TRUE(r.Skip(6).ok());
  char buf[8];
  Status s = r.Read(buf, 5);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("need 5 bytes at offset 6 but the file ends at 10"));
  EXPECT_EQ(r.offset(), 6u);
  EXPECT_FALSE(r.Skip(~uint64_t{0}).ok());
  EXPECT_EQ(r.offset(), 6u);
  EXPECT_TRUE(r.Read(buf, 4).ok());
}

TEST_F(FileReaderTest, OpenErrors) {
  FileReader r;
  Status s = r.Open(dir_.path() + "/nope");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("does not exist"));
  EXPECT_EQ(s.error().code, ErrorCode::kModelFileInvalid);
  EXPECT_THAT(r.Open(dir_.path() + "/nope/deeper").error().message, HasSubstr("does not exist"));
  EXPECT_THAT(r.Open(dir_.path()).error().message, HasSubstr("is a directory"));
  EXPECT_FALSE(r.is_open());
  char c;
  EXPECT_FALSE(r.Read(&c, 1).ok());
}

}  // namespace
}  // namespace kitty
