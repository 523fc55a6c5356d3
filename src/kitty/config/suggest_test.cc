#include "kitty/config/suggest.h"

#include <gtest/gtest.h>

namespace kitty {
namespace {

TEST(SuggestTest, EditDistance) {
  EXPECT_EQ(EditDistance("", ""), 0);
  EXPECT_EQ(EditDistance("treads", "threads"), 1);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
  EXPECT_EQ(EditDistance("PORT", "port"), 0);
}

TEST(SuggestTest, NearestOnlyWhenClose) {
  std::vector<std::string_view> keys = {"threads", "ngl", "ctx", "port", "model_path", "idle_shutdown_seconds"};
  EXPECT_EQ(NearestWord("treads", keys), "threads");
  EXPECT_EQ(NearestWord("modelpath", keys), "model_path");
  EXPECT_EQ(NearestWord("idle_shutdown_secs", keys), "");  // 3 edits: too far
  EXPECT_EQ(NearestWord("prot", keys), "");                 // short word, 2 edits
  EXPECT_EQ(NearestWord("pot", keys), "port");
  EXPECT_EQ(NearestWord("banana", keys), "");
  EXPECT_EQ(NearestWord("x", keys), "");
}

}  // namespace
}  // namespace kitty
