#include "kitty/http/proxy_text.h"

#include <gtest/gtest.h>

namespace kitty::web {
namespace {

TEST(ProxyTextTest, UpstreamTargetJoinsThePrefixWithoutDoublingV1) {
  EXPECT_EQ(UpstreamTarget("", "/v1/chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(UpstreamTarget("/v1", "/v1/chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(UpstreamTarget("/openai/v1", "/v1/models"), "/openai/v1/models");
  EXPECT_EQ(UpstreamTarget("/base", "/v1/models"), "/base/v1/models");
  EXPECT_EQ(UpstreamTarget("/v1", "/api/chat"), "/v1/api/chat");
}

TEST(ProxyTextTest, CountsSseEventsByTheirDataLines) {
  EXPECT_EQ(CountSseEvents("data: {\"a\":1}\n\ndata: {\"b\":2}\n\n"), 2u);
  EXPECT_EQ(CountSseEvents(": comment\n\nevent: x\ndata: 1\n\n"), 1u);
  EXPECT_EQ(CountSseEvents("ta: cut\n\n"), 0u);
  EXPECT_EQ(CountSseEvents(""), 0u);
}

}  // namespace
}  // namespace kitty::web
