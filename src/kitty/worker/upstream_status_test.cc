#include "kitty/worker/upstream_status.h"

#include <gtest/gtest.h>

namespace kitty {
namespace {

TEST(UpstreamStatusTest, ThePhaseAnAgentReportsWhileItStarts) {
  EXPECT_EQ(UpstreamPhaseOf(R"({"status":"pulling","backend":"ollama"})"), "pulling");
  EXPECT_EQ(UpstreamPhaseOf(R"({"status":"waiting_for_ollama"})"), "waiting_for_ollama");
  EXPECT_FALSE(UpstreamPhaseOf(R"({"status":"ok","size_bytes":1})"));  // ready: no phase
  EXPECT_FALSE(UpstreamPhaseOf(""));
  EXPECT_FALSE(UpstreamPhaseOf("not json"));
  EXPECT_FALSE(UpstreamPhaseOf(R"({"status":3})"));
}

TEST(UpstreamStatusTest, OllamasFiguresForTheModel) {
  WorkerInfo i;
  EXPECT_FALSE(UpstreamMemoryOf(i));
  i.backend_status = R"({"status":"ok","size_bytes":190948608,"size_vram_bytes":1024})";
  const auto m = UpstreamMemoryOf(i);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->size_bytes, 190948608u);
  EXPECT_EQ(m->size_vram_bytes, 1024u);
}

}  // namespace
}  // namespace kitty
