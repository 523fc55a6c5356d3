#include "kitty/process/log_tail.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kitty {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(LogTail, SplitsChunksIntoLinesAndKeepsPartialPending) {
  LogTail tail;
  tail.append("hel");
  tail.append("lo\nwor");
  EXPECT_THAT(tail.last(10), ElementsAre("hello"));
  tail.append("ld\r\n\nlast");
  EXPECT_THAT(tail.last(10), ElementsAre("hello", "world", ""));
  tail.finish();
  EXPECT_THAT(tail.last(10), ElementsAre("hello", "world", "", "last"));
  EXPECT_EQ(tail.total(), 4u);
  EXPECT_EQ(tail.last_text(2), "\nlast");
  tail.finish();  // nothing pending: no empty line added
  EXPECT_EQ(tail.total(), 4u);
}

TEST(LogTail, KeepsOnlyMaxLinesButCountsAll) {
  LogTail tail(3);
  for (int i = 0; i < 5; ++i) tail.append("l" + std::to_string(i) + "\n");
  EXPECT_THAT(tail.last(10), ElementsAre("l2", "l3", "l4"));
  EXPECT_THAT(tail.last(2), ElementsAre("l3", "l4"));
  EXPECT_EQ(tail.total(), 5u);
  EXPECT_THAT(tail.since(0), ElementsAre("l2", "l3", "l4"));
  EXPECT_THAT(tail.since(4), ElementsAre("l4"));
  EXPECT_THAT(tail.since(5), IsEmpty());
  EXPECT_THAT(tail.since(99), IsEmpty());
}

TEST(LogTail, CurrentRunShowsOnlyLinesAfterTheMark) {
  LogTail tail;
  tail.append("old 1\nold partial");
  tail.mark_run("--- run 2 ---");
  tail.append("new 1\nnew 2\n");
  EXPECT_THAT(tail.current_run(10), ElementsAre("new 1", "new 2"));
  EXPECT_THAT(tail.current_run(1), ElementsAre("new 2"));
  EXPECT_THAT(tail.last(10),
              ElementsAre("old 1", "old partial", "--- run 2 ---", "new 1", "new 2"));
  tail.mark_run("");
  EXPECT_THAT(tail.current_run(10), IsEmpty());
}

TEST(LogTail, CutsOverlongLines) {
  LogTail tail;
  tail.append(std::string(200 * 1024, 'x'));
  EXPECT_EQ(tail.total(), 3u);  // 3 full 64 KiB lines, 8 KiB still pending
  tail.finish();
  EXPECT_EQ(tail.total(), 4u);
  EXPECT_EQ(tail.last(1)[0].size(), 8u * 1024);
}

}  // namespace
}  // namespace kitty
