// Worker: the lifecycle of one model's worker process. Owns that model's state; every
// transition happens here, on the event-loop thread. Callers never test the state and then
// act on it: they ask for an outcome (acquire, ensure, release) and are called back.
//
//            acquire()/ensure()                    health 200
//  stopped ───────────────────► starting ───────────────────► ready ◄──┐
//     ▲                           │   │                          │     │ lease ends
//     │ group gone                │   │ exited / start timeout   │     │
//     │                           │   ▼                          │ idle timer, release(),
//  stopping ◄─────────────────────┘ failed (error kept;          │ daemon stop
//     │  [drain in-flight unless forced]  backoff before an      ▼
//     │  POST shutdown_path → SIGTERM group → stop_timeout → SIGKILL group → wait group gone
//
// Rules: every transition that answers "is it ready yet?" (ready, failed, stopped) wakes
// every waiter; a worker with requests in flight or holds is never idled out; idle time
// counts from the end of the last request (or the drop of the last hold).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kitty/backends/backend.h"
#include "kitty/base/clock.h"
#include "kitty/base/result.h"
#include "kitty/config/config.h"
#include "kitty/process/log_tail.h"
#include "kitty/process/spawner.h"
#include "kitty/worker/worker_http.h"

namespace kitty {

enum class WorkerState { kStopped, kStarting, kReady, kStopping, kFailed };
const char* WorkerStateName(WorkerState s);

/// What a Worker needs from the outside world. All pointers outlive the Worker.
struct WorkerDeps {
  Clock* clock = nullptr;
  Spawner* spawner = nullptr;
  WorkerHttp* http = nullptr;
  /// Chooses the port for a start (fixed port checked free, or a free one from the range).
  std::function<Result<int>(const ModelConfig&)> pick_port;
  /// Whether a port is free now; used to tell "lost an auto port to another process" from
  /// a real start failure. Optional.
  std::function<Status(const std::string& host, int port)> check_port_free;
  /// Builds the launch; PlanLaunch by default.
  std::function<Result<LaunchPlan>(const ModelConfig&, int port)> plan_launch;
  std::string logs_dir;  // <logs_dir>/<model id>.log; empty: no log file
  /// Told when a process group is spawned and when it is gone (the daemon's state file).
  std::function<void(const std::string& model_id, int pid)> on_spawned;
  std::function<void(const std::string& model_id, int pid)> on_gone;
};

/// Where a ready worker listens.
struct Endpoint {
  std::string host;
  int port = 0;
  int pid = 0;  // the worker process behind it: a restarted worker is a different endpoint
};

/// A snapshot of a worker, for the status API.
struct WorkerInfo {
  std::string model_id;
  WorkerState state = WorkerState::kStopped;
  int pid = 0;
  int port = 0;
  int in_flight = 0;
  uint64_t requests_total = 0;
  std::optional<WallTime> last_used, started_at;
  std::optional<double> idle_seconds;  // since the last request ended; only while ready
  std::optional<double> load_seconds;  // spawn → healthy, of the current/last run
  std::optional<std::string> last_error;
  struct Hold {
    std::string id, owner;
    double expires_in_seconds;
  };
  std::vector<Hold> holds;
};

class Worker;

/// A request in flight on a ready worker. While any Lease lives the worker is neither idled
/// out nor stopped (except by a forced release, which calls the cut handler first).
/// Move-only; destroy it on the loop thread.
class Lease {
 public:
  Lease() = default;
  Lease(Lease&& o) noexcept;
  Lease& operator=(Lease&& o) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  const Endpoint& endpoint() const { return endpoint_; }
  /// Called (once, on the loop thread) if the worker is force-released or dies while this
  /// lease is held, so the request can close its upstream connection.
  void on_cut(std::function<void()> fn);
  /// Same, told why: code "worker_stopping" (forced release) or "upstream_error" (the worker
  /// died).
  void on_cut(std::function<void(const Error&)> fn);
  /// Ends the lease now (same as destroying it).
  void reset();

 private:
  friend class Worker;
  std::weak_ptr<Worker> worker_;
  uint64_t id_ = 0;
  Endpoint endpoint_;
};

class Worker : public std::enable_shared_from_this<Worker> {
 public:
  using ReadyCallback = std::function<void(Result<Endpoint>)>;
  using LeaseCallback = std::function<void(Result<Lease>)>;
  using DoneCallback = std::function<void()>;

  static std::shared_ptr<Worker> Create(ModelConfig config, WorkerDeps deps);
  ~Worker();

  const ModelConfig& config() const { return config_; }
  const std::string& id() const { return config_.id; }
  WorkerState state() const { return state_; }
  WorkerInfo info() const;
  std::shared_ptr<LogTail> log() const { return log_; }

  /// Starts the worker if needed (or joins the start under way) and calls back once it is
  /// ready, with a Lease counted in flight; or with the error if it cannot start. Honours the
  /// retry backoff after failed starts.
  void acquire(LeaseCallback cb);
  /// Like acquire() without holding a request slot; ignores the backoff (an explicit ask).
  void ensure(ReadyCallback cb);
  /// Stops the worker; `done` runs once it is stopped and its process group is gone.
  /// Graceful: requests in flight finish first, then the stop sequence. Forced: leases are
  /// cut at once. Holds are dropped either way. Safe in every state.
  void release(bool force, DoneCallback done);

  /// Holds keep a ready worker from being idled out. Returns the hold id.
  std::string add_hold(double lease_seconds, std::string owner);
  /// Restarts a hold's lease; false if it is unknown (expired or dropped).
  bool renew_hold(const std::string& hold_id);
  bool drop_hold(const std::string& hold_id);
  bool has_hold(const std::string& hold_id) const { return holds_.count(hold_id) > 0; }

 private:
  friend class Lease;
  struct HoldEntry {
    std::string owner;
    double lease_seconds;
    TimePoint expires;
    std::unique_ptr<Timer> timer;
  };
  struct Waiter {
    bool wants_lease;
    LeaseCallback on_lease;
    ReadyCallback on_ready;
  };

  Worker(ModelConfig config, WorkerDeps deps);

  void start();
  void schedule_probe(Duration delay);
  void probe();
  void on_probe(uint64_t run, WorkerHttpResult r);
  void on_exit(uint64_t run, ExitStatus status);
  void on_start_timeout(uint64_t run);
  void fail_start(std::string message, ErrorCode code, bool kill_group);
  void become_ready();

  void begin_idle_stop();
  void stop_process();
  void on_stop_deadline(uint64_t run);
  void wait_group_gone();
  void finish_stop();

  void wake_waiters();
  /// Answers every waiter with `e` (posted).
  void fail_waiters(const Error& e);
  /// (Re)starts a hold's lease: it expires lease_seconds from now unless renewed.
  void arm_hold(const std::string& id, HoldEntry& h);
  void serve_waiter(Waiter& w);
  Lease make_lease();
  void end_lease(uint64_t id);
  void cut_leases(const Error& why);
  void update_idle_timer();
  bool busy() const { return !leases_.empty() || !holds_.empty(); }
  std::string log_tail_text() const;
  Duration backoff() const;

  ModelConfig config_;
  WorkerDeps deps_;
  std::shared_ptr<LogTail> log_;

  WorkerState state_ = WorkerState::kStopped;
  uint64_t run_ = 0;  // incremented per start; stale callbacks compare and drop out
  std::unique_ptr<Process> process_;
  bool exited_ = false;  // the leader of the current run has been reaped
  Endpoint endpoint_;
  std::optional<Error> last_error_;
  int consecutive_failures_ = 0;
  int port_retries_ = 0;  // starts retried because another process took the auto port
  TimePoint failed_at_{};

  std::vector<Waiter> waiters_;
  std::vector<DoneCallback> stop_waiters_;
  // What the current stop ends in: a plain stop, or failed (a start that failed, a crash).
  enum class AfterStop { kStopped, kFailedStart, kCrashed, kRetryStart };
  AfterStop after_stop_ = AfterStop::kStopped;
  bool draining_ = false;            // stopping: waiting for leases to end before the signals
  bool restart_after_stop_ = false;  // someone asked for the model while it was stopping
  std::string health_path_, shutdown_path_;

  uint64_t next_lease_id_ = 1;
  std::map<uint64_t, std::function<void(const Error&)>> leases_;  // id -> cut handler
  std::optional<Error> last_cut_;  // why leases were last cut (for a handler installed late)
  uint64_t requests_total_ = 0;
  TimePoint last_end_{};
  std::optional<WallTime> last_used_wall_, started_at_wall_;
  TimePoint spawned_at_{};
  std::optional<double> load_seconds_;

  std::map<std::string, HoldEntry> holds_;
  uint64_t next_hold_id_ = 1;

  Duration probe_delay_{};
  std::string last_probe_;
  std::unique_ptr<Timer> probe_timer_, start_deadline_, stop_deadline_, idle_timer_,
      stop_step_timer_, gone_poll_timer_;
};

}  // namespace kitty
