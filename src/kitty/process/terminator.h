// Terminator: one stop of one worker's process group, from the polite ask to the proof that
// nothing of the group is left:
//
//   start() ─► [POST shutdown_path] ─(2xx: short grace; else at once)─► SIGTERM group
//            ─(timeout/2)─► second SIGTERM ─(timeout)─► SIGKILL group
//   kill_now() ─────────────────────────────────────────────► SIGKILL group
//   leader reaped (leader_exited) ─► members left? SIGKILL them, recheck every 5 ms ─► on_gone
//
// The second SIGTERM exists for llama-server, which stops answering but never exits on a
// SIGTERM that arrives with a request in flight, and exits at once on a second one
// (docs/ENGINE.md). on_gone runs once, when the leader has been reaped AND no member of its
// group is alive; never while any of them may still hold memory or a port.
//
// Control thread only. The owner (a Worker) forwards the spawner's exit notification through
// leader_exited(). Destroying a Terminator cancels its timers and leaves the process as it is.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "kitty/base/clock.h"
#include "kitty/process/spawner.h"
#include "kitty/worker/worker_http.h"

namespace kitty {

struct StopSpec {
  std::string label;  // for log lines: "model 'qwen'"
  std::string host;
  int port = 0;
  std::string shutdown_path;  // POSTed first when set
  Duration timeout{};         // SIGKILL this long after the stop began
};

class Terminator {
 public:
  /// `process` and the other references outlive the Terminator.
  Terminator(Clock& clock, WorkerHttp& http, Process& process, StopSpec spec,
             std::function<void()> on_gone);
  ~Terminator();
  Terminator(const Terminator&) = delete;
  Terminator& operator=(const Terminator&) = delete;

  /// The polite sequence. If the leader has already exited, only the group check remains.
  void start();
  /// Straight to SIGKILL of the group (a forced stop, a failed start, a crash's leftovers).
  void kill_now();
  /// The leader has been reaped (the Spawner's exit callback).
  void leader_exited();
  bool done() const { return done_; }

 private:
  void sigterm();
  void on_deadline();
  void check_group();

  Clock& clock_;
  WorkerHttp& http_;
  Process& process_;
  StopSpec spec_;
  std::function<void()> on_gone_;
  bool started_ = false;
  bool done_ = false;
  std::unique_ptr<Timer> deadline_, step_, poll_;
  // Lets an HTTP answer that arrives after we are gone find out, instead of touching us.
  std::shared_ptr<Terminator*> self_;
};

}  // namespace kitty
