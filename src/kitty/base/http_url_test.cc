#include "kitty/base/http_url.h"

#include <gtest/gtest.h>

namespace kitty {
namespace {

TEST(HttpUrlTest, TakesHostPortAndPrefixApart) {
  auto u = ParseHttpUrl("http://127.0.0.1:11434");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 11434);
  EXPECT_EQ(u->prefix, "");
  u = ParseHttpUrl("http://[::1]:8080/base/v1/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->prefix, "/base/v1");
  u = ParseHttpUrl("http://box");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 80);
}

TEST(HttpUrlTest, ABareHostPortOnlyWhenAllowed) {
  EXPECT_EQ(ParseHttpUrl("localhost:7700").error().message, "'localhost:7700' is not an http:// URL");
  auto u = ParseHttpUrl("localhost:7700", /*bare_ok=*/true);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "localhost");
  EXPECT_EQ(u->port, 7700);
}

TEST(HttpUrlTest, ErrorsSayWhatIsWrong) {
  EXPECT_EQ(ParseHttpUrl("https://x").error().message, "unsupported URL 'https://x': only http:// is supported");
  EXPECT_EQ(ParseHttpUrl("http://x:99999").error().message, "bad URL 'http://x:99999': port '99999' is not 1-65535");
  EXPECT_EQ(ParseHttpUrl("http://:80").error().message, "bad URL 'http://:80': no host");
  EXPECT_EQ(ParseHttpUrl("http://[::1").error().message, "bad URL 'http://[::1': unterminated '[' in host");
  EXPECT_EQ(ParseHttpUrl("ftp://x").error().code, ErrorCode::kBadUrl);
}

}  // namespace
}  // namespace kitty
