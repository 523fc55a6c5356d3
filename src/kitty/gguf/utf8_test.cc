#include "kitty/gguf/utf8.h"

#include <gtest/gtest.h>

namespace kitty {
namespace {

const std::string kBad = "\xef\xbf\xbd";  // U+FFFD

TEST(SanitizeUtf8, KeepsValidText) {
  EXPECT_EQ(SanitizeUtf8(""), "");
  EXPECT_EQ(SanitizeUtf8("plain ascii\n\t"), "plain ascii\n\t");
  const std::string mixed = "caf\xc3\xa9 \xe6\xa8\xa1 \xf0\x9f\x98\xba";  // 2, 3, 4 bytes
  EXPECT_EQ(SanitizeUtf8(mixed), mixed);
  EXPECT_EQ(SanitizeUtf8("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf");  // U+10FFFF
}

TEST(SanitizeUtf8, ReplacesEachBadByte) {
  EXPECT_EQ(SanitizeUtf8("\xff"), kBad);
  EXPECT_EQ(SanitizeUtf8("a\x80" "b"), "a" + kBad + "b");             // stray continuation
  EXPECT_EQ(SanitizeUtf8("\xc0\xaf"), kBad + kBad);                    // overlong '/'
  EXPECT_EQ(SanitizeUtf8("\xed\xa0\x80"), kBad + kBad + kBad);         // surrogate
  EXPECT_EQ(SanitizeUtf8("\xf4\x90\x80\x80"), kBad + kBad + kBad + kBad);  // > U+10FFFF
  EXPECT_EQ(SanitizeUtf8("ok\xe6\xa8"), "ok" + kBad + kBad);           // cut at the end
}

TEST(EscapeForMessage, EscapesAndCuts) {
  EXPECT_EQ(EscapeForMessage("general.name"), "general.name");
  EXPECT_EQ(EscapeForMessage(std::string("a\0\"\\\n", 5)), "a\\x00\\x22\\x5c\\x0a");
  EXPECT_EQ(EscapeForMessage("abcdef", 3), "abc...");
}

}  // namespace
}  // namespace kitty
