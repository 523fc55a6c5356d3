#include "kitty/http/model_field.h"

#include <gtest/gtest.h>

namespace kitty::web {
namespace {

TEST(ModelFieldTest, TopLevelModel) {
  auto r = ReadModelField(
      R"({"messages":[{"role":"user","content":"hi","model":"inner"}],"model":"qwen_32b"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "qwen_32b");
}

TEST(ModelFieldTest, Errors) {
  EXPECT_EQ(ReadModelField("{not json").error().code, ErrorCode::kInvalidJson);
  EXPECT_EQ(ReadModelField("").error().code, ErrorCode::kInvalidJson);
  EXPECT_EQ(ReadModelField("[1,2]").error().code, ErrorCode::kInvalidJson);
  EXPECT_EQ(ReadModelField(R"({"prompt":"x"})").error().code, ErrorCode::kMissingModel);
  EXPECT_EQ(ReadModelField(R"({"model":3})").error().code, ErrorCode::kMissingModel);
  EXPECT_EQ(ReadModelField(R"({"model":3})").error().message, "'model' must be a string");
  EXPECT_EQ(ReadModelField(R"({"a":{"model":"x"}})").error().code, ErrorCode::kMissingModel);
  EXPECT_EQ(ReadModelField(R"({"model":"x"} trailing)").error().code, ErrorCode::kInvalidJson);
}

}  // namespace
}  // namespace kitty::web
