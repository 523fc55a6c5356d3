#include "kitty/worker/load_progress.h"

#include <gtest/gtest.h>

namespace kitty {
namespace {

// What llama-server b11434 printed for SmolLM2 at its default verbosity (timestamps kept: the
// marks are found inside the line, wherever the prefix ends).
TEST(LoadProgressTest, FollowsLlamaServerDefaultVerbosity) {
  LoadProgress p;
  EXPECT_EQ(p.phase(), "starting");
  EXPECT_FALSE(p.fraction(1.0, std::nullopt));
  EXPECT_FALSE(p.feed("0.00.000.971 I srv  llama_server: initializing ..."));
  EXPECT_TRUE(p.feed("0.00.003.963 I srv    load_model: loading model '/m/SmolLM2.gguf'"));
  EXPECT_EQ(p.phase(), "loading_model");
  EXPECT_TRUE(p.feed("0.00.220.506 I cmn          init: llama threadpool init, n_threads = 2"));
  EXPECT_EQ(p.phase(), "creating_context");
  EXPECT_TRUE(p.feed("0.00.257.533 I srv    load_model: initializing, n_slots = 4, n_ctx_slot = 512"));
  EXPECT_EQ(p.phase(), "initializing_slots");
  EXPECT_TRUE(p.feed("0.00.259.842 I srv  llama_server: model loaded"));
  EXPECT_EQ(p.phase(), "loaded");
  EXPECT_LT(*p.fraction(0.3, std::nullopt), 1.0);
}

TEST(LoadProgressTest, FollowsTheVerboseAndOlderLines) {
  LoadProgress p;
  const char* lines[] = {
      "llama_model_loader: loaded meta data with 33 key-value pairs and 272 tensors from m.gguf",
      "load_tensors: loading model tensors, this can take a while... (mmap = true)",
      "load_tensors:   CPU_Mapped model buffer size =    92.10 MiB",
      "llama_context: constructing llama_context",
      "common_init_from_params: warming up the model with an empty run - please wait ...",
      "srv    load_model: initializing slots, n_slots = 4",
      "main: model loaded",
  };
  const char* phases[] = {"reading_metadata", "loading_tensors", "loading_tensors", "creating_context",
                          "warming_up", "initializing_slots", "loaded"};
  double last = 0;
  for (size_t i = 0; i < std::size(lines); ++i) {
    p.feed(lines[i]);
    EXPECT_EQ(p.phase(), phases[i]) << lines[i];
    const double f = *p.fraction(0, std::nullopt);
    EXPECT_GE(f, last) << lines[i];
    last = f;
  }
}

TEST(LoadProgressTest, ListeningIsNotLoaded) {
  // Older llama-servers (and the fake engine) listen, answering 503, before the model loads.
  LoadProgress p;
  EXPECT_FALSE(p.feed("main: HTTP server is listening, hostname: 127.0.0.1, port: 8080"));
  EXPECT_FALSE(p.feed("fake_engine: listening on 127.0.0.1:41000"));
  EXPECT_EQ(p.phase(), "starting");
}

TEST(LoadProgressTest, ALineOfAnEarlierPhaseDoesNotGoBack) {
  LoadProgress p;
  p.feed("llama_context: constructing llama_context");
  EXPECT_FALSE(p.feed("load_tensors: loading model tensors"));
  EXPECT_EQ(p.phase(), "creating_context");
}

TEST(LoadProgressTest, TimeAgainstTheLastLoadWhenTheEngineSaysNothing) {
  LoadProgress p;
  p.feed("fake_engine: hello");  // nothing it knows
  EXPECT_EQ(p.phase(), "starting");
  EXPECT_DOUBLE_EQ(*p.fraction(1.0, 4.0), 0.25);
  // A load slower than the last one is never reported done.
  EXPECT_DOUBLE_EQ(*p.fraction(10.0, 4.0), 0.95);
}

TEST(LoadProgressTest, TheFurtherOfPhaseAndTime) {
  LoadProgress p;
  p.feed("load_tensors: loading model tensors");
  EXPECT_DOUBLE_EQ(*p.fraction(0.1, 10.0), 0.10);  // the phase is further than the clock
  EXPECT_DOUBLE_EQ(*p.fraction(5.0, 10.0), 0.5);   // the clock is further than the phase
}

}  // namespace
}  // namespace kitty
