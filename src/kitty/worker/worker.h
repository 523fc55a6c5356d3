// Worker: the lifecycle of one model's worker process. Owns that model's state; every
// transition happens here, on the control thread. Callers never test the state and then act
// on it: they ask for an outcome (acquire, ensure, release) and are called back. The one part
// other threads use directly is the ReadyGate: a ready worker hands out leases from any thread.
//
// Phases (public state in brackets):
//
//            acquire()/ensure()                 health 2xx
//  kStopped ───────────────────► kStarting ─────────────────► kReady ◄───────────┐
//  [stopped]                     [starting]                   [ready]            │
//     ▲                           │ │ │ lost its auto port         │ release: leases │
//     │                           │ │ └──► kRetryingPort ──────────┼─► in flight    │
//     │                           │ │      [starting] (group gone: │   kDraining ───┤ drained
//     │                           │ │       start on another port) │   [stopping]   │
//     │                           │ │ exited / start timeout       │ idle, release  ▼
//     │                           │ └──► kAbortingStart ──┐        ├──────────► kStopping
//     │                           │      [stopping]       │        │ died       [stopping]
//     │                           │ release               │        ▼               │
//     │                           └──────────────────────────► kCleaningCrash      │
//     │                                                   │    [stopping]          │
//     │                            group gone             ▼        │ group gone    │
//     └───────────────────────────────────────────── kFailed ◄────┘               │
//     └──────────────────────────────────────────────────────── group gone ◄───────┘
//                                                   [failed]
//
// Every phase that ends with the process group gone goes through one Terminator
// (process/terminator.h), which runs the stop escalation and says when the group is empty.
// Rules: every transition that answers "is it ready yet?" (ready, failed, stopped) wakes every
// waiter; a worker with requests in flight or holds is never idled out; idle time counts from
// the end of the last request (or the drop of the last hold); a request that arrives while the
// worker stops waits and starts it again afterwards.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kitty/backends/backend.h"
#include "kitty/base/clock.h"
#include "kitty/base/env.h"
#include "kitty/base/result.h"
#include "kitty/base/thread_owner.h"
#include "kitty/config/config.h"
#include "kitty/events/bus.h"
#include "kitty/process/exit_class.h"
#include "kitty/process/log_tail.h"
#include "kitty/process/spawner.h"
#include "kitty/process/terminator.h"
#include "kitty/worker/load_progress.h"
#include "kitty/worker/ready_gate.h"
#include "kitty/worker/worker_http.h"

namespace kitty {

enum class WorkerState { kStopped, kStarting, kReady, kStopping, kFailed };
const char* WorkerStateName(WorkerState s);

/// A snapshot of a worker, for the status API.
struct WorkerInfo {
  std::string model_id;
  WorkerState state = WorkerState::kStopped;
  int pid = 0;
  int port = 0;
  int in_flight = 0;
  int waiting = 0;  // requests (and ensures, holds) waiting for it to become ready
  uint64_t requests_total = 0;
  std::optional<WallTime> last_used, started_at;
  std::optional<double> idle_seconds;  // since the last request ended; only while ready
  std::optional<double> load_seconds;  // spawn → healthy, of the current/last run
  /// While it starts: the phase ("waiting_for_room", "starting", then the engine's phases:
  /// load_progress.h), how far (null where nothing tells), the seconds since the start was
  /// asked, and what the last load took (null before one).
  struct Progress {
    std::string phase;
    std::optional<double> fraction;
    double elapsed_seconds = 0;
    std::optional<double> expected_seconds;
  };
  std::optional<Progress> progress;
  std::optional<std::string> last_error;
  struct Hold {
    std::string id, owner;
    double expires_in_seconds;
  };
  std::vector<Hold> holds;
  /// The last end kittyd did not ask for (crash, OOM kill, start failure, ...), and how many of
  /// each kind there were since kittyd started.
  struct Exit {
    std::string kind;  // ExitKindName
    std::string message;
    int code = -1, signal = 0;
    WallTime at;
    std::vector<std::string> log_tail;
  };
  std::optional<Exit> last_exit;
  std::map<std::string, int> exits;
  /// Restarts after such ends (issue 10): the policy in effect, the failed restarts in a row,
  /// when the next one is due (null: none queued), and whether kittyd gave up.
  struct Restart {
    std::string policy;  // "never", "on-crash", "always"
    int attempts = 0;
    std::optional<double> next_in_seconds;
    bool gave_up = false;
  } restart;
  /// The OOM downgrade ladder: the rung it runs at (0: as configured), how many there are,
  /// and that rung's overrides as written.
  struct Downgrade {
    int rung = 0, rungs = 0;
    std::string overrides;
  } downgrade;
  /// A reloaded config waits for the worker to stop (restart when idle).
  bool config_pending = false;
  /// Since kittyd started: restarts the restart policy made, and stops for idleness.
  uint64_t restarts_total = 0, idle_stops = 0;
  /// A per-request keep-alive in force for this run (set_keep_alive), or null.
  std::optional<double> keep_alive_seconds;
  /// While ready: seconds until it idles out if no request comes (its keep-alive or
  /// idle_shutdown_seconds, counted from its last request; its whole period while requests run);
  /// null when it never idles out (pinned, pressure-only, held, or no timeout) or is not ready.
  std::optional<double> idles_out_in_seconds;
  /// What an agent (backend ollama or remote) last said on its health path, as JSON text:
  /// the model's size in Ollama, when Ollama expires it, the remote's reachability. Empty
  /// for engines that serve themselves.
  std::string backend_status;
};

/// Chooses the port of a start (the manager knows the other workers' ports).
using PortPicker = std::function<Result<int>(const ModelConfig&)>;

/// How the scheduler treats a model; starts from its config, changed at run time through the
/// admin API (the source says which set each value, so a reload can tell).
struct Policy {
  bool pinned = false;               // never evicted, never idled out
  bool pressure_evict_only = false;  // never idled out; goes only for room or under pressure
  int priority = 0;                  // higher stays longer
  std::string pinned_source = "config", priority_source = "config";
};

/// What the scheduler reads of a worker, on the control thread.
struct SchedView {
  enum class Stage { kNone, kAdmitting, kStarting, kRunning, kStopping };
  Stage stage = Stage::kNone;
  int pid = 0;
  int in_flight = 0;
  int holds = 0;
  TimePoint last_end{};  // the end of the last request (or the start): idleness counts from here
  std::optional<TimePoint> last_used;  // the last request's end, never the start's
  std::optional<TimePoint> ready_at;   // when this run became ready (unset before)
  Policy policy;
};

class Worker : public std::enable_shared_from_this<Worker> {
 public:
  using ReadyCallback = std::function<void(Result<Endpoint>)>;
  using LeaseCallback = std::function<void(Result<Lease>)>;
  using DoneCallback = std::function<void()>;

  /// `env` outlives the Worker. Owned by the calling thread (the control thread).
  static std::shared_ptr<Worker> Create(ModelConfig config, const Env& env, PortPicker pick_port);
  ~Worker();

  // ---- any thread
  const std::string& id() const { return id_; }
  /// The config in effect (a reload or a downgrade replaces it): a snapshot for other threads.
  std::shared_ptr<const ModelConfig> config_snapshot() const;
  /// Leases without the control thread while the worker is ready (see ready_gate.h).
  ReadyGate& gate() const { return *gate_; }

  // ---- control thread
  /// The config in effect: the configured one at the current downgrade rung.
  const ModelConfig& config() const { return *cfg_; }
  WorkerState state() const;
  WorkerInfo info() const;
  std::shared_ptr<LogTail> log() const { return log_; }
  /// How far the start is (WorkerInfo::progress), nullopt when it is not starting.
  std::optional<WorkerInfo::Progress> progress() const;
  /// The pid of the running worker's process group, 0 when there is none.
  int pid() const;
  SchedView sched_view() const;
  const Policy& policy() const { return policy_; }
  void set_pinned(bool pinned, std::string source);
  void set_priority(int priority, std::string source);
  /// A per-request keep-alive (Ollama's keep_alive, the X-Kitty-Keep-Alive header): this run
  /// idles out `seconds` after its last request ends instead of after idle_shutdown_seconds;
  /// negative: never; 0: once its requests end. Holds and pins still keep it. Lasts until the
  /// worker stops.
  void set_keep_alive(double seconds);

  /// Starts the worker if needed (or joins the start under way) and calls back once it is
  /// ready, with a Lease counted in flight; or with the error if it cannot start. Honours the
  /// retry backoff after failed starts. The callback is posted (never runs inside acquire).
  void acquire(LeaseCallback cb);
  /// Like acquire() without holding a request slot; ignores the backoff (an explicit ask).
  /// `reset`: climb back to the top of the downgrade ladder first (restarting a worker that
  /// runs on a lower rung once its requests end).
  void ensure(ReadyCallback cb, bool reset = false);
  /// Why a request should not start the worker now (failed and waiting for its restart, or
  /// given up): the fallback chain is tried instead. nullopt when it may be started or used.
  std::optional<Error> unavailable() const;
  /// A reload's config for this model. Returns what happened: "unchanged"; "updated" (applied
  /// now, or at the next start when not running); "restart_when_idle" (what it runs changed:
  /// it restarts once its requests in flight end, new ones wait, holds stay); "restarted"
  /// (force: requests in flight are cut and it restarts now).
  std::string reconfigure(ModelConfig next, bool force);
  /// Stops the worker; `done` runs once it is stopped and its process group is gone.
  /// Graceful: requests in flight finish first, then the stop sequence. Forced: leases are
  /// cut at once. Holds are dropped either way. Safe in every phase. `why` is what cut
  /// requests and abandoned waiters are told (kShuttingDown when the daemon stops).
  void release(bool force, DoneCallback done, ErrorCode why = ErrorCode::kWorkerStopping);
  /// SIGKILL to the group now, in any phase (the daemon's second signal); `done` as release.
  void kill(DoneCallback done, ErrorCode why = ErrorCode::kWorkerStopping);

  /// Holds keep a ready worker from being idled out. Returns the hold id.
  std::string add_hold(double lease_seconds, std::string owner);
  /// Restarts a hold's lease; false if it is unknown (expired or dropped).
  bool renew_hold(const std::string& hold_id);
  bool drop_hold(const std::string& hold_id);
  bool has_hold(const std::string& hold_id) const;

 private:
  enum class Phase {
    kStopped,
    kAdmitting,      // waiting for the scheduler to say the model fits (room being made)
    kStarting,
    kReady,
    kDraining,       // release asked; the gate is closed and requests in flight finish
    kStopping,       // the Terminator runs; ends in kStopped
    kAbortingStart,  // the start failed; its group is being cleaned up; ends in kFailed
    kCleaningCrash,  // it died while ready; its group is being cleaned up; ends in kFailed
    kRetryingPort,   // another process took its auto port; cleaned up, then started again
    kFailed,
  };
  struct HoldEntry {
    std::string owner;
    double lease_seconds;
    TimePoint expires;
    std::unique_ptr<Timer> timer;
  };
  struct Waiter {
    LeaseCallback on_lease;  // one of the two is set
    ReadyCallback on_ready;
  };

  Worker(ModelConfig config, const Env& env, PortPicker pick_port);

  static constexpr size_t kErrorTailLines = 20;  // log lines kept with an error or an exit

  // Starting (worker.cc).
  void start();
  void on_admitted(uint64_t run, Status decision);
  void spawn();
  void fail_without_spawn(const Error& e);
  void schedule_probe(Duration delay);
  void probe();
  void on_probe(uint64_t run, WorkerHttpResult r);
  void on_output_line(uint64_t run, const std::string& line);
  void on_start_timeout(uint64_t run);
  void fail_start(std::string reason, ErrorCode code, bool kill_group);
  bool lost_auto_port() const;
  void become_ready();
  void on_exit(uint64_t run, ExitStatus status);
  void record_exit(const ExitStatus& status);
  /// Keeps `e` as the last unasked end (with its time and log tail) and counts its kind.
  void keep_exit(WorkerInfo::Exit e);
  /// This run answered a request or stayed ready a while: its failed runs in a row start again.
  bool proven() const;

  // Stopping (worker.cc).
  void stop_group(Phase phase, bool kill_at_once);
  void on_group_gone(uint64_t run);
  void begin_stop();
  /// Stops a ready or draining worker: now with `force` (its leases cut with `cut`), else once
  /// its requests in flight end (the gate closed meanwhile). `what` is for the log.
  void stop_serving(bool force, const Error& cut, const char* what);

  // Waiters, leases, holds and idleness (worker_leases.cc).
  void wake_waiters();
  void fail_waiters(const Error& e);
  void serve_waiter(Waiter& w);
  void arm_hold(const std::string& id, HoldEntry& h);
  /// Ends a hold ("dropped" or "expired"); false when it is unknown.
  bool end_hold(const std::string& id, const char* why);
  void on_gate_drained();
  void update_idle_timer();
  /// How long after its last request this run idles out: the keep-alive, else the config's
  /// idle_shutdown_seconds; nullopt: never.
  std::optional<double> idle_after() const;
  std::string log_tail_text() const;
  Duration backoff() const;
  std::string label() const { return "model '" + id_ + "'"; }
  /// An event of this worker on the bus (pid and rung of the current run).
  void publish(EventKind kind, std::string reason = {}, std::string message = {},
               std::optional<double> fraction = std::nullopt) const;

  /// Makes `c` the config in effect.
  void set_config(ModelConfig c);
  /// What runs changed (reload, ladder reset): stop once idle (now if forced), start again.
  void restart_for_config(bool force);
  /// Steps one rung down the ladder after an OOM kill; false at the bottom (or no ladder).
  bool step_down();

  const std::string id_;
  ModelConfig base_;                        // as configured: rung 0
  std::shared_ptr<const ModelConfig> cfg_;  // base_ at rung_; replaced on the control thread only
  mutable std::mutex cfg_mu_;               // for config_snapshot() on other threads
  int rung_ = 0;
  std::optional<ModelConfig> pending_;  // a reloaded config that waits for the worker to stop
  bool restart_after_stop_ = false;     // this stop is a restart for a new config
  std::optional<double> keep_alive_;    // set_keep_alive's, until the run ends
  const Env& env_;
  const PortPicker pick_port_;
  ThreadOwner owner_;
  Policy policy_;
  std::shared_ptr<LogTail> log_;
  std::shared_ptr<ReadyGate> gate_;

  Phase phase_ = Phase::kStopped;
  uint64_t run_ = 0;  // incremented per start; stale callbacks compare and drop out
  std::unique_ptr<Process> process_;
  std::unique_ptr<Terminator> terminator_;
  Endpoint endpoint_;
  std::string health_path_, shutdown_path_;
  // Where the process itself listens (health, shutdown): endpoint_ unless the plan sends
  // requests elsewhere (LaunchPlan::upstream).
  std::string probe_host_;
  int probe_port_ = 0;
  bool agent_ = false;          // this run's process stands for an upstream (LaunchPlan::upstream)
  int evicted_exit_code_ = 0;   // LaunchPlan::evicted_exit_code of this run
  std::string backend_status_;  // the last health answer's JSON of an agent (kitty-agent)
  std::optional<Error> last_error_;
  int consecutive_failures_ = 0;
  int port_retries_ = 0;  // starts retried because another process took the auto port
  TimePoint failed_at_{};

  std::vector<Waiter> waiters_;
  std::vector<DoneCallback> stop_waiters_;
  std::map<std::string, HoldEntry> holds_;
  TimePoint hold_dropped_at_{};  // the idle countdown runs from here too

  TimePoint spawned_at_{};
  std::optional<WallTime> started_at_wall_;
  std::optional<double> load_seconds_;
  std::optional<double> last_load_seconds_;  // of the last run that became ready: the expected load
  LoadProgress load_progress_;               // this run's, from the engine's output
  TimePoint start_asked_at_{};               // this start's start() (before room was made)
  std::optional<TimePoint> ready_at_;  // this run's; reset at each spawn
  OomCounts oom_at_spawn_;             // the OOM-kill counters when this run was spawned
  std::optional<WorkerInfo::Exit> last_exit_;
  std::map<std::string, int> exits_;  // by ExitKindName
  Duration probe_delay_{};
  bool probe_in_flight_ = false;
  bool ready_hint_ = false;  // the engine printed a readiness line during a probe
  std::string last_probe_;
  std::unique_ptr<Timer> probe_timer_, start_deadline_, idle_timer_;
  // Restarts (worker_restart.cc).
  ModelConfig::Restart restart_policy() const;
  void after_unasked_end();
  void cancel_restart();
  WorkerInfo::Restart restart_info() const;
  // Liveness (worker_liveness.cc).
  void schedule_liveness();
  void on_liveness(uint64_t run, WorkerHttpResult r);
  /// A request got nothing from the worker for busy_timeout_seconds (from the proxy).
  void on_request_hung(int pid, const std::string& why);
  /// Records a 'hung' exit with `message`, cuts every lease and kills the group.
  void declare_hung(std::string message);
  std::unique_ptr<Timer> liveness_timer_;
  int liveness_failures_ = 0;
  std::unique_ptr<Timer> restart_timer_;
  TimePoint restart_due_{};
  int restarts_ = 0;                // failed runs in a row since the last one that proved itself
  uint64_t restarts_total_ = 0, idle_stops_ = 0;  // WorkerInfo's
  bool gave_up_ = false;
  uint64_t requests_at_ready_ = 0;  // the gate's requests_total when this run became ready
  bool run_proven_ = false;  // this run answered a request or stayed ready a while before it ended
};

}  // namespace kitty
