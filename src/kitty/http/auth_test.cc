#include "kitty/http/auth.h"

#include <gtest/gtest.h>

namespace kitty::web {
namespace {

TEST(AuthTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(AuthTest, BearerKeys) {
  EXPECT_TRUE(Authorized({}, ""));
  EXPECT_TRUE(Authorized({"k1", "k2"}, "Bearer k2"));
  EXPECT_TRUE(Authorized({"k1"}, "bearer k1"));
  EXPECT_FALSE(Authorized({"k1"}, "Bearer k"));
  EXPECT_FALSE(Authorized({"k1"}, "k1"));
  EXPECT_FALSE(Authorized({"k1"}, ""));
  EXPECT_FALSE(Authorized({"k1"}, "Basic k1"));
}

}  // namespace
}  // namespace kitty::web
