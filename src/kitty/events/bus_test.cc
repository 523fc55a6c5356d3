#include "kitty/events/bus.h"

#include <gtest/gtest.h>

#include <vector>

namespace kitty {
namespace {

TEST(EventBusTest, EverySubscriberSeesEveryEventInOrder) {
  EventBus bus;
  std::vector<std::string> a, b;
  auto sa = bus.subscribe([&](const WorkerEvent& e) { a.push_back(e.model_id); });
  auto sb = bus.subscribe(
      [&](const WorkerEvent& e) { b.push_back(std::string(EventKindName(e.kind))); });
  bus.publish({EventKind::kSpawned, "m1", 10});
  bus.publish({EventKind::kGone, "m2", 11});
  EXPECT_EQ(a, (std::vector<std::string>{"m1", "m2"}));
  EXPECT_EQ(b, (std::vector<std::string>{"spawned", "stopped"}));
}

TEST(EventBusTest, ASubscriptionEndsWhenDestroyed) {
  EventBus bus;
  int n = 0;
  {
    auto s = bus.subscribe([&](const WorkerEvent&) { ++n; });
    bus.publish({EventKind::kReady, "m", 1});
  }
  bus.publish({EventKind::kReady, "m", 1});
  EXPECT_EQ(n, 1);
}

TEST(EventBusTest, ASubscriptionMayOutliveTheBus) {
  EventBus::Subscription s;
  {
    EventBus bus;
    s = bus.subscribe([](const WorkerEvent&) {});
  }
  // Destroying `s` now must not touch the dead bus.
}

}  // namespace
}  // namespace kitty
