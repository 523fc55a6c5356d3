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

namespace kitty::web {
namespace {

TEST(ProxyTextTest, ChunkHeadersAreHex) {
  EXPECT_EQ(ChunkHeader(0), "0\r\n");
  EXPECT_EQ(ChunkHeader(26), "1a\r\n");
  EXPECT_EQ(ChunkHeader(65536), "10000\r\n");
}

TEST(ProxyTextTest, TheLastErrorEventOfAStream) {
  const std::string ev = SseErrorEvent(MakeError("model 'a' failed to start: \xff", ErrorCode::kWorkerStartFailed),
                                       {{"model_id", "a"}});
  ASSERT_TRUE(ev.starts_with("data: {") && ev.ends_with("}\n\n")) << ev;
  const auto body = nlohmann::json::parse(ev.substr(6));  // invalid UTF-8 replaced, not thrown
  EXPECT_EQ(body["error"]["code"], "worker_start_failed");
  EXPECT_EQ(body["error"]["model_id"], "a");
}

}  // namespace
}  // namespace kitty::web
