#include "kitty/events/journal.h"

#include <gtest/gtest.h>

#include "kitty/testing/fake_clock.h"

namespace kitty {
namespace {

TEST(EventJournalTest, NumbersKeepsTheLastNAndReplaysAfterAnId) {
  EventBus bus;
  FakeClock clock;
  EventJournal j(bus, clock, /*keep=*/3);
  for (int i = 0; i < 5; ++i) bus.publish({EventKind::kReady, "m" + std::to_string(i), 100 + i});
  auto all = j.open(0, "", nullptr)->take();
  ASSERT_EQ(all.size(), 3u);  // the ring keeps the last 3
  EXPECT_EQ(all[0]->id, 3u);
  EXPECT_EQ(all[2]->id, 5u);
  EXPECT_NE(all[2]->sse.find("id: 5\nevent: ready\ndata: {"), std::string::npos);
  EXPECT_NE(all[2]->sse.find("\"model\":\"m4\""), std::string::npos);
  EXPECT_EQ(j.open(4, "", nullptr)->take().size(), 1u);
  EXPECT_EQ(j.open(0, "m3", nullptr)->take().size(), 1u);
}

TEST(EventJournalTest, AReaderGetsNewEventsOfItsModelAndIsWoken) {
  EventBus bus;
  FakeClock clock;
  EventJournal j(bus, clock);
  int wakes = 0;
  auto r = j.open(0, "a", [&] { ++wakes; });
  WorkerEvent e{EventKind::kEvicted, "a", 7};
  e.reason = "idle";
  bus.publish(e);
  bus.publish({EventKind::kReady, "b", 8});
  EXPECT_EQ(wakes, 1);
  auto got = r->take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0]->sse.find("\"reason\":\"idle\""), std::string::npos);
  EXPECT_TRUE(r->take().empty());
}

TEST(EventJournalTest, AReaderTooFarBehindIsDroppedNotGrown) {
  EventBus bus;
  FakeClock clock;
  EventJournal j(bus, clock);
  auto r = j.open(0, "", [] {});
  for (size_t i = 0; i < EventJournal::kMaxPending + 10; ++i) bus.publish({EventKind::kHoldTaken, "a", 1});
  EXPECT_TRUE(r->overflowed());
  EXPECT_TRUE(r->take().empty());  // nothing kept for it
  auto fresh = j.open(0, "", nullptr);
  EXPECT_EQ(fresh->take().size(), 256u);  // the ring is fine
}

}  // namespace
}  // namespace kitty
