// EventJournal: the event bus as a numbered stream that can be replayed — what GET /kitty/events
// and `kittyctl events` read (issue 12). Each event gets the next id and is kept, as the SSE text
// it is sent as, in a ring of the last `keep`; a reader opened with the last id it saw gets what
// it missed that the ring still has, then each new event as it comes. A reader that falls more
// than kMaxPending events behind is closed (told so once) rather than buffered without end.
//
// Events arrive on the control thread (bus subscription); readers live on any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kitty/base/clock.h"
#include "kitty/events/bus.h"

namespace kitty {

class EventJournal {
 public:
  static constexpr size_t kMaxPending = 1024;

  struct Entry {
    uint64_t id = 0;
    std::string model;
    std::string sse;  // "id: N\nevent: KIND\ndata: {...}\n\n"
  };
  using EntryPtr = std::shared_ptr<const Entry>;

  class Reader {
   public:
    /// The events since the last take (the replay first).
    std::vector<EntryPtr> take();
    /// True once it fell kMaxPending events behind: nothing more is added.
    bool overflowed() const;
    /// Whether take() would return something, or it overflowed: a wake may have come and gone
    /// while the reader was busy writing.
    bool ready() const;
    /// Detaches it from the journal (also when destroyed).
    void close();

   private:
    friend class EventJournal;
    bool push(const EntryPtr& e);  // false when it overflowed
    mutable std::mutex mu_;
    std::deque<EntryPtr> pending_;
    bool overflowed_ = false;
    bool closed_ = false;
    std::string model_;  // empty: every event
    std::function<void()> wake_;
  };

  EventJournal(EventBus& bus, Clock& clock, size_t keep = 256);

  /// A reader of the events after `after` (0: the whole ring) of `model` (empty: all, including
  /// events of no model). `wake` runs on the control thread when events are added for it; it
  /// must only post.
  std::shared_ptr<Reader> open(uint64_t after, std::string model, std::function<void()> wake);

  /// The SSE text of an event (for tests and the dropped notice).
  static std::string Format(uint64_t id, const WorkerEvent& e, WallTime at);

 private:
  void on_event(const WorkerEvent& e);

  Clock& clock_;
  const size_t keep_;
  std::mutex mu_;
  uint64_t next_id_ = 1;
  std::deque<EntryPtr> ring_;
  std::vector<std::weak_ptr<Reader>> readers_;
  EventBus::Subscription sub_;
};

}  // namespace kitty
