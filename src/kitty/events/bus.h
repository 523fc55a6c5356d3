// EventBus: lifecycle events of the workers, published by the Workers as they happen and read
// by whoever needs to know (the state file, the watchdog, the gateway's connection pools; later
// status, metrics and the event stream). Subscribers do not reach into the Worker, and the
// Worker does not know who listens.
//
// Control thread only: publish() calls every subscriber synchronously, in subscription order;
// a subscriber that needs another thread posts to it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "kitty/base/clock.h"

namespace kitty {

enum class EventKind {
  kSpawned,  // a worker's process group exists (pid = pgid)
  kReady,    // it answers health
  kStopping, // its stop began (shutdown request or signal next): figures from now on shrink
  kGone,     // its process group is gone (every member reaped): the worker is stopped
  // Issue 12's lifecycle events, for status, metrics and GET /kitty/events:
  kStarting,           // a start was asked for (it may wait for room first)
  kFailed,             // a start failed, or kittyd gave up restarting (message: why)
  kExited,             // an end kittyd did not ask for (reason: its class, message: what)
  kEvicted,            // kittyd stops it (reason: idle, room, pressure, headroom)
  kRestartScheduled,   // the restart policy starts it again (message: when and which attempt)
  kHoldTaken,          // a hold keeps it (reason: the hold's owner)
  kHoldEnded,          // a hold was dropped or expired (reason: dropped, expired)
  kPressure,           // a pressure alert or its end (model empty; reason: its kind)
  kConfigReloaded,     // the config was reloaded (model empty; message: what changed)
  kLoading,            // a start reached a later phase (reason: the phase; fraction: how far)
};
const char* EventKindName(EventKind k);

struct WorkerEvent {
  EventKind kind;
  // Every field after `kind` has an initializer so `{kind, id, pid, at}` leaves the rest empty
  // without clang's -Wmissing-field-initializers.
  std::string model_id{};
  int pid = 0;
  TimePoint at{};
  int rung = 0;  // the downgrade rung the worker runs at (its learned footprint is per rung)
  std::string reason{};   // a short word: an exit's class, an eviction's reason, ...
  std::string message{};  // the sentence a person reads
  std::optional<double> fraction{};  // kLoading: 0..1 where known
};

class EventBus {
 public:
  using Handler = std::function<void(const WorkerEvent&)>;

  /// Ends a subscription when destroyed.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&&) noexcept = default;
    Subscription& operator=(Subscription&&) noexcept = default;
    ~Subscription();

   private:
    friend class EventBus;
    std::weak_ptr<std::map<uint64_t, Handler>> handlers_;
    uint64_t id_ = 0;
  };

  EventBus() : handlers_(std::make_shared<std::map<uint64_t, Handler>>()) {}
  [[nodiscard]] Subscription subscribe(Handler h);
  void publish(const WorkerEvent& e) const;

 private:
  std::shared_ptr<std::map<uint64_t, Handler>> handlers_;
  uint64_t next_id_ = 1;
};

}  // namespace kitty
