#include "kitty/http/json_text.h"

#include <gtest/gtest.h>

#include <limits>

namespace kitty::web {
namespace {

TEST(JsonTextTest, WritesWhatNlohmannWouldParseBackTheSame) {
  JsonText j;
  j.begin_object();
  j.key("s").str("plain");
  j.key("esc").str("quote \" backslash \\ newline \n tab \t bell \x07");
  j.key("utf8").str("caf\xc3\xa9 \xe2\x9c\x93");
  j.key("bad").str("broken \xff utf-8");
  j.key("n").null();
  j.key("t").boolean(true);
  j.key("i").integer(-42);
  j.key("u").integer(std::numeric_limits<uint64_t>::max());
  j.key("d").num(0.1);
  j.key("whole").num(900.0);
  j.key("nan").num(std::numeric_limits<double>::quiet_NaN());
  j.key("empty").begin_array().end_array();
  j.key("list").begin_array();
  j.integer(1).str("two").begin_object().key("three").integer(3).end_object();
  j.end_array();
  j.key("nested").json(nlohmann::json{{"a", {1, 2}}});
  j.end_object();
  const std::string text = j.take();
  const auto v = nlohmann::json::parse(text);  // throws on malformed text
  EXPECT_EQ(v["s"], "plain");
  EXPECT_EQ(v["esc"], "quote \" backslash \\ newline \n tab \t bell \x07");
  EXPECT_EQ(v["utf8"], "caf\xc3\xa9 \xe2\x9c\x93");
  EXPECT_EQ(v["bad"], "broken \xef\xbf\xbd utf-8") << "invalid UTF-8 is replaced, as everywhere else";
  EXPECT_TRUE(v["n"].is_null());
  EXPECT_EQ(v["t"], true);
  EXPECT_EQ(v["i"], -42);
  EXPECT_EQ(v["u"], std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(v["d"], 0.1);
  EXPECT_TRUE(v["whole"].is_number_float()) << text;
  EXPECT_TRUE(v["nan"].is_null());
  EXPECT_EQ(v["empty"], nlohmann::json::array());
  EXPECT_EQ(v["list"], (nlohmann::json{1, "two", {{"three", 3}}}));
  EXPECT_EQ(v["nested"]["a"], (nlohmann::json{1, 2}));
}

TEST(JsonTextTest, PlainAsciiIsCopiedAsIs) {
  std::string out;
  JsonText::Quote("model-7b_q4.gguf", &out);
  EXPECT_EQ(out, "\"model-7b_q4.gguf\"");
}

}  // namespace
}  // namespace kitty::web
