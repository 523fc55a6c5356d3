// OllamaSupervisor (issue 11, seed 003's "reset daemon" hook): watches the Ollama daemon at
// ollama.url and, with `manage`, starts it when absent and restarts it when down.
//
//   every health_interval_seconds: GET /api/version, classed by how long it took:
//     < unhealthy_seconds → healthy;  < down_seconds → unhealthy;  slower or no answer → down
//   down and manage → restart: a daemon kittyd started is stopped (SIGTERM, then SIGKILL of its
//     group: a frozen one must go too) and started again; otherwise ollama.start_command runs
//     (systemctl --user restart ollama, launchctl kickstart -k ...); with neither, an absent
//     daemon is started as `ollama serve`, and a present one kittyd did not start is left
//     alone (kittyd never kills a process it did not start).
//   at most max_restarts_per_hour automatic restarts; then it stays `down` (gave_up) until it
//     answers again or someone restarts it by hand; meanwhile Ollama-backed models are
//     unavailable at once, so their requests go to their fallbacks instead of waiting.
//
// A daemon kittyd starts is its supervised process: in its own group, killed with kittyd (the
// watchdog), stopped at kittyd's shutdown. Control thread only.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "kitty/base/clock.h"
#include "kitty/base/env.h"
#include "kitty/base/result.h"
#include "kitty/config/config.h"
#include "kitty/process/log_tail.h"
#include "kitty/process/spawner.h"
#include "kitty/process/terminator.h"
#include "kitty/worker/worker_http.h"

namespace kitty {

class OllamaSupervisor {
 public:
  enum class Health { kUnknown, kHealthy, kUnhealthy, kDown, kStarting };
  static const char* HealthName(Health h);

  struct Info {
    std::string url;
    Health health = Health::kUnknown;
    std::optional<double> latency_seconds;  // of the last answered check
    std::string version;                    // what /api/version said
    bool manage = false;
    bool started_by_kittyd = false;  // kittyd's own `ollama serve` (pid below)
    int pid = 0;
    int restarts_last_hour = 0, max_restarts_per_hour = 0;
    bool gave_up = false;
    std::optional<WallTime> last_check, last_restart;
    std::string last_error;
    std::vector<std::string> log_tail;  // of the daemon kittyd started
  };

  /// `env` needs clock, spawner and worker_http (and logs_dir for ollama.log).
  OllamaSupervisor(OllamaConfig config, const Env& env);
  ~OllamaSupervisor();

  /// The first check at once (and the start of an absent daemon when managed).
  void start();
  /// Restarts the daemon now (POST /kitty/ollama/restart); `done` gets the outcome once it
  /// answers again or could not be restarted. Not counted against the hourly limit; clears a
  /// give-up.
  void restart(std::function<void(Status)> done);
  /// Why Ollama-backed models cannot be served now (down with nobody restarting it); nullopt
  /// while it is up or a restart is under way.
  std::optional<Error> unavailable() const;
  Info info() const;
  /// Stops a daemon kittyd started (shutdown); `done` runs once its group is gone.
  void stop(std::function<void()> done);

 private:
  void schedule_check(Duration after);
  void check();
  void on_check(TimePoint began, WorkerHttpResult r);
  /// /api/version answered (sent at `began`): its latency and the version it names.
  void note_answer(TimePoint began, const WorkerHttpResult& r);
  void set_health(Health h, std::string why);
  /// Down: restart when allowed, else give up.
  void on_down(const std::string& why);
  void begin_restart(std::string why, bool counted);
  /// SIGTERM, then SIGKILL, to the group of the daemon kittyd started; after_stop_ runs once
  /// the group is gone.
  void stop_daemon();
  void launch();
  void await_answer(TimePoint deadline);
  void finish_restart(Status st);
  void on_daemon_exit(uint64_t gen, ExitStatus st);
  std::string where() const { return "the Ollama daemon at " + config_.url; }

  const OllamaConfig config_;
  const Env& env_;
  std::string host_;
  int port_ = 0;
  std::shared_ptr<LogTail> log_ = std::make_shared<LogTail>(200);

  Health health_ = Health::kUnknown;
  std::optional<double> latency_;
  std::string version_, last_error_;
  std::optional<WallTime> last_check_, last_restart_;
  bool check_in_flight_ = false;
  bool restarting_ = false;
  bool stopping_ = false;
  bool gave_up_ = false;
  std::deque<TimePoint> restarts_;  // automatic restarts, the last hour's
  std::vector<std::function<void(Status)>> restart_waiters_;

  std::unique_ptr<Process> daemon_;  // `ollama serve` kittyd started, while its group lives
  uint64_t daemon_gen_ = 0;          // stale exit callbacks compare
  std::unique_ptr<Terminator> terminator_;
  std::function<void()> after_stop_;
  std::unique_ptr<Process> command_;  // a running start_command
  std::unique_ptr<Timer> check_timer_, answer_timer_;
  std::shared_ptr<OllamaSupervisor*> self_;  // lets late HTTP answers find out we are gone
};

}  // namespace kitty
