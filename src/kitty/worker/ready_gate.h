// ReadyGate: the requests in flight on one model's worker, the one piece of a Worker that the
// I/O threads touch directly. While the worker is ready the gate is open and any thread takes a
// Lease from it without a trip to the control loop (that trip cost two thread wake-ups per
// request). The Worker (control thread) opens it when the worker becomes ready, closes it to
// stop (waiting for the leases to end), or cuts every lease (forced release, crash).
//
//            open(ep)               close() / close_if_idle()
//   closed ───────────► open ───────────────────────────────► closed (leases drain)
//      ▲                  │ cut(why): every lease's cut handler runs, in-flight drops to 0
//      └──────────────────┘
//
// Thread-safe: one mutex around a map of leases; nothing blocking is done under it. One
// notification goes to the Worker: the last lease of a closed gate ended (drained), posted
// through the Clock so it runs on the control thread. The end of the last lease of an OPEN gate
// is not announced: that would wake the control thread once per request; the Worker's idle
// timer reads stats().last_end when it fires instead.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "kitty/base/clock.h"
#include "kitty/base/result.h"

namespace kitty {

/// Where a ready worker listens.
struct Endpoint {
  std::string host;
  int port = 0;
  int pid = 0;  // the worker process behind it: a restarted worker is a different endpoint
  // Set when requests go to a server the worker process only stands for (an Ollama daemon, a
  // remote server): the model name that server knows, its path prefix and Authorization value.
  std::string model, prefix, authorization;
};

class ReadyGate;

/// A request in flight on a ready worker. While any Lease lives the worker is neither idled
/// out nor stopped (except by a forced release or a crash, which call the cut handler). Move-
/// only; may be used and destroyed on any thread.
class Lease {
 public:
  Lease() = default;
  Lease(Lease&& o) noexcept;
  Lease& operator=(Lease&& o) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  explicit operator bool() const { return id_ != 0; }
  const Endpoint& endpoint() const { return endpoint_; }
  /// Runs `fn` once if the lease is cut (forced release: code kWorkerStopping; the worker
  /// died: kWorkerCrashed), so the request can close its upstream connection. Called on the
  /// control thread, or at once on this thread when the lease was cut already: the handler
  /// must be thread-safe (post to your own executor).
  void on_cut(std::function<void(const Error&)> fn);
  /// The worker sent bytes for this request (the proxy calls it per read): it is not hung.
  /// Lock-free: one clock read and one atomic store.
  void progress();
  /// Tells the worker's owner that this request got nothing from the worker for too long
  /// (busy_timeout_seconds): the worker behind this lease is hung. Any thread; posted.
  void report_hung(std::string why);
  /// Ends the lease now (same as destroying it).
  void reset();

 private:
  friend class ReadyGate;
  std::shared_ptr<ReadyGate> gate_;
  uint64_t id_ = 0;
  Endpoint endpoint_;
};

class ReadyGate : public std::enable_shared_from_this<ReadyGate> {
 public:
  struct Stats {
    int in_flight = 0;
    uint64_t requests_total = 0;
    TimePoint last_end{};                 // when the last lease ended (or the gate opened)
    std::optional<WallTime> last_used;    // wall time of the last lease taken or ended
    TimePoint last_progress{};  // the last lease taken, or the last bytes from the worker for one
  };

  /// Called on the control loop with the pid behind a lease and why (Lease::report_hung).
  using HungHandler = std::function<void(int pid, const std::string& why)>;
  /// `on_drained` and `on_hung` are posted to `clock` (the control loop).
  static std::shared_ptr<ReadyGate> Create(Clock* clock, std::function<void()> on_drained,
                                           HungHandler on_hung = nullptr);

  // ---- any thread
  /// A lease when the gate is open; nullopt when it is closed.
  std::optional<Lease> try_lease();
  Stats stats() const;
  bool is_open() const;

  // ---- control thread
  void open(const Endpoint& ep);
  /// No new leases; returns how many are still in flight (on_drained follows when they end).
  int close();
  /// Closes only when nothing is in flight; returns whether it closed.
  bool close_if_idle();
  /// Closes and cuts every lease with `why`; they no longer count as in flight.
  void cut(const Error& why);

 private:
  friend class Lease;
  ReadyGate(Clock* clock, std::function<void()> on_drained, HungHandler on_hung);
  void end(uint64_t id);
  void set_cut_handler(uint64_t id, std::function<void(const Error&)> fn);

  Clock* const clock_;
  const std::function<void()> on_drained_;
  const HungHandler on_hung_;

  mutable std::mutex mu_;
  bool open_ = false;
  Endpoint endpoint_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::function<void(const Error&)>> leases_;  // id -> cut handler
  std::map<uint64_t, Error> recently_cut_;  // for a handler installed after its cut
  uint64_t requests_total_ = 0;
  std::atomic<Duration::rep> last_progress_{0};  // TimePoint's count: Lease::progress takes no lock
  TimePoint last_end_{};
  std::optional<WallTime> last_used_;
};

}  // namespace kitty
