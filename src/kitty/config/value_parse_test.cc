#include "kitty/config/value_parse.h"

#include <gtest/gtest.h>

namespace kitty {
namespace {

TEST(ValueParseTest, Integers) {
  EXPECT_EQ(ParseInteger("12").value(), 12);
  EXPECT_EQ(ParseInteger("-1").value(), -1);
  EXPECT_EQ(ParseInteger("+3").value(), 3);
  EXPECT_EQ(ParseInteger("abc").error().message, "expected an integer, got \"abc\"");
  EXPECT_FALSE(ParseInteger("1.5").ok());
  EXPECT_FALSE(ParseInteger("").ok());
  EXPECT_FALSE(ParseInteger("99999999999999999999").ok());
}

TEST(ValueParseTest, NumbersAndBools) {
  EXPECT_DOUBLE_EQ(ParseNumber("1.5").value(), 1.5);
  EXPECT_DOUBLE_EQ(ParseNumber("-2").value(), -2);
  EXPECT_FALSE(ParseNumber("1e3").ok());
  EXPECT_FALSE(ParseNumber("15m").ok());
  EXPECT_TRUE(ParseBool("On").value());
  EXPECT_TRUE(ParseBool("yes").value());
  EXPECT_FALSE(ParseBool("off").value());
  EXPECT_FALSE(ParseBool("FALSE").value());
  EXPECT_EQ(ParseBool("maybe").error().message, "expected true or false, got \"maybe\"");
}

TEST(ValueParseTest, ByteSizes) {
  EXPECT_EQ(ParseByteSize("1048576").value(), 1048576u);
  EXPECT_EQ(ParseByteSize("32MiB").value(), 32ull << 20);
  EXPECT_EQ(ParseByteSize("32 MiB").value(), 32ull << 20);
  EXPECT_EQ(ParseByteSize("2KiB").value(), 2048u);
  EXPECT_EQ(ParseByteSize("1GiB").value(), 1ull << 30);
  EXPECT_EQ(ParseByteSize("1.5GiB").value(), 3ull << 29);
  EXPECT_EQ(ParseByteSize("500KB").value(), 500000u);
  EXPECT_EQ(ParseByteSize("3MB").value(), 3000000u);
  EXPECT_EQ(ParseByteSize("2GB").value(), 2000000000u);
  EXPECT_EQ(ParseByteSize("10B").value(), 10u);
  EXPECT_FALSE(ParseByteSize("32XB").ok());
  EXPECT_FALSE(ParseByteSize("MiB").ok());
  EXPECT_FALSE(ParseByteSize("-1").ok());
  EXPECT_FALSE(ParseByteSize("99999999999GiB").ok());
}

TEST(ValueParseTest, Listen) {
  auto hp = ParseListen("127.0.0.1:7700");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 7700);
  EXPECT_EQ(ParseListen("localhost:80")->host, "localhost");
  EXPECT_EQ(ParseListen("[::1]:7700")->host, "::1");
  EXPECT_EQ(ParseListen("0.0.0.0:1")->port, 1);
  EXPECT_FALSE(ParseListen("7700").ok());
  EXPECT_FALSE(ParseListen(":7700").ok());
  EXPECT_FALSE(ParseListen("host:").ok());
  EXPECT_FALSE(ParseListen("::1:7700").ok());
  EXPECT_FALSE(ParseListen("[::1]7700").ok());
  EXPECT_EQ(ParseListen("h:70000").error().message, "port 70000 is outside 1..65535 in \"h:70000\"");
}

TEST(ValueParseTest, PortRanges) {
  auto r = ParsePortRange("41000-41999");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first, 41000);
  EXPECT_EQ(r->last, 41999);
  EXPECT_EQ(ParsePortRange("5 - 6")->last, 6);
  EXPECT_FALSE(ParsePortRange("41999-41000").ok());
  EXPECT_FALSE(ParsePortRange("0-10").ok());
  EXPECT_FALSE(ParsePortRange("41000").ok());
  EXPECT_FALSE(ParsePortRange("a-b").ok());
}

}  // namespace
}  // namespace kitty

namespace kitty {
namespace {

TEST(ValueParseDurationTest, SecondsAndGoDurations) {
  EXPECT_EQ(ParseDuration("300").value(), 300);
  EXPECT_EQ(ParseDuration("1.5").value(), 1.5);
  EXPECT_EQ(ParseDuration("-1").value(), -1);
  EXPECT_EQ(ParseDuration("5m").value(), 300);
  EXPECT_EQ(ParseDuration("1h30m").value(), 5400);
  EXPECT_EQ(ParseDuration("10s").value(), 10);
  EXPECT_EQ(ParseDuration("500ms").value(), 0.5);
  EXPECT_EQ(ParseDuration("-1m").value(), -60);
  EXPECT_EQ(ParseDuration("0").value(), 0);
  for (const char* bad : {"", "m", "5x", "5 m", "1h30", "abc", "--1"})
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
}

}  // namespace
}  // namespace kitty
