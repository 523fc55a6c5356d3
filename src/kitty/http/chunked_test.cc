#include "kitty/http/chunked.h"

#include <gtest/gtest.h>

#include <string>

namespace kitty::web {
namespace {

// Feeds `body` in pieces of `step` bytes; returns the data and whether the end was found.
std::pair<std::string, bool> Scan(const std::string& body, size_t step, size_t* consumed = nullptr) {
  ChunkedScanner s;
  std::string data;
  size_t total = 0;
  for (size_t off = 0; off < body.size(); off += step) {
    const std::string_view piece = std::string_view(body).substr(off, step);
    std::vector<ChunkedScanner::Span> spans;
    const auto r = s.feed(piece, &spans);
    for (const auto& sp : spans) data.append(piece.substr(sp.offset, sp.size));
    total += r.consumed;
    EXPECT_FALSE(r.error) << "at offset " << off + r.consumed;
    if (r.done) break;
  }
  if (consumed) *consumed = total;
  return {data, s.done()};
}

TEST(ChunkedScannerTest, FindsDataAndEndInAnySplit) {
  const std::string body = "5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";
  for (size_t step : {1u, 2u, 3u, 7u, 1000u}) {
    SCOPED_TRACE(step);
    size_t consumed = 0;
    auto [data, done] = Scan(body, step, &consumed);
    EXPECT_EQ(data, "helloabcdefghijklmnopqrstuvwxyz");
    EXPECT_TRUE(done);
    EXPECT_EQ(consumed, body.size());
  }
}

TEST(ChunkedScannerTest, TrailersAreSkippedAndBytesAfterTheEndAreNotConsumed) {
  const std::string body = "3\r\nabc\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\nHTTP/1.1 200 OK";
  ChunkedScanner s;
  std::vector<ChunkedScanner::Span> spans;
  auto r = s.feed(body, &spans);
  EXPECT_TRUE(r.done);
  EXPECT_EQ(body.substr(r.consumed), "HTTP/1.1 200 OK");
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(body.substr(spans[0].offset, spans[0].size), "abc");
}

TEST(ChunkedScannerTest, BoundaryIsKnownBetweenChunksOnly) {
  ChunkedScanner s;
  EXPECT_TRUE(s.at_boundary());
  s.feed("4\r\nda", nullptr);
  EXPECT_FALSE(s.at_boundary());
  s.feed("ta\r\n", nullptr);
  EXPECT_TRUE(s.at_boundary());
  s.feed("1", nullptr);
  EXPECT_FALSE(s.at_boundary());
}

TEST(ChunkedScannerTest, MalformedFramingIsAnError) {
  for (const char* bad : {"zz\r\n", "5\r\nhelloXX", "5\nhello\r\n", "\r\n", "5\r\nhello\r\r"}) {
    ChunkedScanner s;
    EXPECT_TRUE(s.feed(bad, nullptr).error) << bad;
  }
}

TEST(ChunkedScannerTest, AbsurdChunkSizeIsAnError) {
  ChunkedScanner s;
  EXPECT_TRUE(s.feed("ffffffffffffffffff\r\n", nullptr).error);
}

}  // namespace
}  // namespace kitty::web
