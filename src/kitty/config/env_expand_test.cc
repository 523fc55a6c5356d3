#include "kitty/config/env_expand.h"
#include "kitty/testing/map_env.h"

#include <gtest/gtest.h>

#include <map>

namespace kitty {
namespace {

using testing_util::MapEnv;

std::string Expand(std::string_view s, const EnvLookup& env) {
  auto r = ExpandEnv(s, env);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? r.value() : "";
}

TEST(EnvExpandTest, ExpandsSetVariables) {
  auto env = MapEnv({{"A", "x"}, {"B_2", "y"}});
  EXPECT_EQ(Expand("${A}/${B_2}.gguf", env), "x/y.gguf");
  EXPECT_EQ(Expand("no vars", env), "no vars");
}

TEST(EnvExpandTest, DefaultsWhenUnsetOrEmpty) {
  auto env = MapEnv({{"EMPTY", ""}, {"D", "deep"}});
  EXPECT_EQ(Expand("${NOPE:-fallback}", env), "fallback");
  EXPECT_EQ(Expand("${EMPTY:-fallback}", env), "fallback");
  EXPECT_EQ(Expand("${NOPE:-}", env), "");
  EXPECT_EQ(Expand("${NOPE:-${D}/x}", env), "deep/x");
  EXPECT_EQ(Expand("${NOPE:-~/m.gguf}", env), "~/m.gguf");
  EXPECT_EQ(Expand("${EMPTY}", env), "");
}

TEST(EnvExpandTest, DollarDollarIsLiteralAndLoneDollarKept) {
  auto env = MapEnv({{"A", "x"}});
  EXPECT_EQ(Expand("$$A $${A} cost$5 $", env), "$A ${A} cost$5 $");
}

TEST(EnvExpandTest, LaunchPlaceholdersAreLeftForTheBackend) {
  auto env = MapEnv({{"PORT", "1"}, {"HOST", "h"}});
  EXPECT_EQ(Expand("--port=${PORT} ${HOST} ${MODEL_PATH} ${MODEL_ID} ${THREADS} ${CTX}", env),
            "--port=${PORT} ${HOST} ${MODEL_PATH} ${MODEL_ID} ${THREADS} ${CTX}");
  EXPECT_TRUE(IsLaunchPlaceholder("MODEL_PATH"));
  EXPECT_FALSE(IsLaunchPlaceholder("HOME"));
}

TEST(EnvExpandTest, UnsetWithoutDefaultIsAnError) {
  auto r = ExpandEnv("/m/${KITTY_NOT_SET_X}.gguf", MapEnv({}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "environment variable 'KITTY_NOT_SET_X' is not set (use ${KITTY_NOT_SET_X:-default} to give a "
            "default)");
}

TEST(EnvExpandTest, MalformedReferences) {
  auto env = MapEnv({});
  EXPECT_NE(ExpandEnv("${A", env).error().message.find("unterminated"), std::string::npos);
  EXPECT_NE(ExpandEnv("${}", env).error().message.find("bad variable reference"), std::string::npos);
  EXPECT_NE(ExpandEnv("${A-b}", env).error().message.find("bad variable reference"), std::string::npos);
  EXPECT_NE(ExpandEnv("${1A}", env).error().message.find("bad variable reference"), std::string::npos);
}

TEST(EnvExpandTest, HomeExpansion) {
  auto env = MapEnv({{"HOME", "/home/k/"}});
  EXPECT_EQ(ExpandHome("~/m.gguf", env).value(), "/home/k/m.gguf");
  EXPECT_EQ(ExpandHome("~", env).value(), "/home/k");
  EXPECT_EQ(ExpandHome("/abs/~/x", env).value(), "/abs/~/x");
  EXPECT_EQ(ExpandHome("~other/x", env).value(), "~other/x");
  EXPECT_EQ(ExpandHome("rel/x", env).value(), "rel/x");
}

}  // namespace
}  // namespace kitty
