#include "kitty/http/target.h"

#include <gtest/gtest.h>

namespace kitty::web {
namespace {

std::string PathOf(std::string_view raw) {
  auto t = ParseTarget(raw);
  return t ? t->path : "ERROR: " + t.error().message;
}

TEST(TargetTest, DotSegmentsNeverClimbAboveTheRoot) {
  EXPECT_EQ(PathOf("/v1/../../shutdown"), "/shutdown");
  EXPECT_EQ(PathOf("/v1/./chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(PathOf("/v1/x/../chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(PathOf("/.."), "/");
  EXPECT_EQ(PathOf("//v1///models"), "/v1/models");
}

TEST(TargetTest, EncodedDotsAreDotsToo) {
  EXPECT_EQ(PathOf("/v1/%2e%2e/%2E%2E/shutdown"), "/shutdown");
  EXPECT_EQ(PathOf("/v1/chat%2Fcompletions").rfind("ERROR", 0), 0u) << "an encoded slash is refused";
}

TEST(TargetTest, QueryIsKeptRawAndDecodedIntoParams) {
  auto t = ParseTarget("/kitty/workers/a%3Ab/logs?tail=5&since&x=a+b%21");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->path, "/kitty/workers/a:b/logs");
  EXPECT_EQ(t->query, "tail=5&since&x=a+b%21");
  EXPECT_EQ(t->params.at("tail"), "5");
  EXPECT_EQ(t->params.at("since"), "");
  EXPECT_EQ(t->params.at("x"), "a b!");
  EXPECT_EQ(t->forward(), "/kitty/workers/a:b/logs?tail=5&since&x=a+b%21");
}

TEST(TargetTest, AbsoluteFormBecomesOriginForm) {
  EXPECT_EQ(PathOf("http://127.0.0.1:7700/v1/models"), "/v1/models");
  EXPECT_EQ(PathOf("http://example"), "/");
}

TEST(TargetTest, ForwardReEncodesWhatNeedsIt) {
  auto t = ParseTarget("/v1/a%20b/%7Euser");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->path, "/v1/a b/~user");
  EXPECT_EQ(t->forward(), "/v1/a%20b/~user");
}

TEST(TargetTest, MalformedTargetsAreRefused) {
  for (const char* bad : {"", "*", "v1/models", "/a%zz", "/a%2", "/a%00b", "/a\\b"}) {
    auto t = ParseTarget(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_EQ(t.error().code, ErrorCode::kInvalidRequest);
  }
}

}  // namespace
}  // namespace kitty::web
