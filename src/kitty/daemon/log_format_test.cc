#include "kitty/daemon/log_format.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kitty {
namespace {

TEST(LogFormatTest, ParsesTheTwoNames) {
  EXPECT_EQ(ParseLogFormat("json").value(), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("text").value(), LogFormat::kText);
  auto bad = ParseLogFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("text or json"), std::string::npos);
}

TEST(LogFormatTest, APlainLineIsAMessage) {
  const auto j = nlohmann::json::parse(JsonLogLine("2026-11-29T10:00:00.000Z", "info", "", "model 'a': ready \"now\"\n"));
  EXPECT_EQ(j["time"], "2026-11-29T10:00:00.000Z");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "model 'a': ready \"now\"\n");  // escaped, one line
}

TEST(LogFormatTest, ARequestRecordKeepsItsFieldsAsKeys) {
  const auto j = nlohmann::json::parse(
      JsonLogLine("t", "info", "request", R"({"request_id":"abc","model":"a","status":200})"));
  EXPECT_EQ(j["event"], "request");
  EXPECT_EQ(j["request_id"], "abc");
  EXPECT_EQ(j["status"], 200);
  EXPECT_FALSE(j.contains("msg"));
  // Only the request logger's objects are merged: a message that looks like JSON stays one.
  const auto other = nlohmann::json::parse(JsonLogLine("t", "info", "", R"({"x":1})"));
  EXPECT_EQ(other["msg"], R"({"x":1})");
}

}  // namespace
}  // namespace kitty
