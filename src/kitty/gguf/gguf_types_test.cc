#include "kitty/gguf/gguf_types.h"

#include <gtest/gtest.h>

namespace kitty {
namespace {

TEST(GgmlTypes, FromNameIsCaseInsensitiveAndKnowsTheCacheTypes) {
  // llama-server's --cache-type-k/-v values (b11434 --help: f32, f16, bf16, q8_0, q4_0, q4_1,
  // iq4_nl, q5_0, q5_1) and their ggml_type numbers.
  EXPECT_EQ(GgmlTypeFromName("f32"), 0u);
  EXPECT_EQ(GgmlTypeFromName("f16"), 1u);
  EXPECT_EQ(GgmlTypeFromName("F16"), 1u);
  EXPECT_EQ(GgmlTypeFromName("bf16"), 30u);
  EXPECT_EQ(GgmlTypeFromName("q8_0"), 8u);
  EXPECT_EQ(GgmlTypeFromName("q4_0"), 2u);
  EXPECT_EQ(GgmlTypeFromName("q4_1"), 3u);
  EXPECT_EQ(GgmlTypeFromName("iq4_nl"), 20u);
  EXPECT_EQ(GgmlTypeFromName("q5_0"), 6u);
  EXPECT_EQ(GgmlTypeFromName("q5_1"), 7u);
  EXPECT_FALSE(GgmlTypeFromName("q9_0").has_value());
  EXPECT_FALSE(GgmlTypeFromName("").has_value());
  EXPECT_FALSE(GgmlTypeFromName("f1").has_value());
}

TEST(GgmlTypes, RowBytesRoundsUpToWholeBlocks) {
  EXPECT_EQ(GgmlRowBytes({1, 2}, 192), 384u);      // f16
  EXPECT_EQ(GgmlRowBytes({32, 34}, 192), 204u);    // q8_0: 6 blocks of 34 bytes
  EXPECT_EQ(GgmlRowBytes({32, 18}, 33), 36u);      // q4_0: a started block takes all of it
  EXPECT_EQ(GgmlRowBytes({256, 144}, 256), 144u);  // q4_K
  EXPECT_EQ(GgmlRowBytes({0, 0}, 10), 0u);         // a removed type
}

}  // namespace
}  // namespace kitty
