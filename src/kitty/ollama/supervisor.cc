#include "kitty/ollama/supervisor.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "kitty/base/bytes.h"
#include "kitty/base/http_url.h"

namespace kitty {
namespace {

constexpr Duration kHour = std::chrono::hours(1);
constexpr Duration kAnswerPoll = std::chrono::milliseconds(250);
constexpr Duration kAnswerTimeout = std::chrono::seconds(2);
constexpr Duration kStopTimeout = std::chrono::seconds(5);

}  // namespace

const char* OllamaSupervisor::HealthName(Health h) {
  switch (h) {
    case Health::kUnknown: return "unknown";
    case Health::kHealthy: return "healthy";
    case Health::kUnhealthy: return "unhealthy";
    case Health::kDown: return "down";
    case Health::kStarting: return "starting";
  }
  return "unknown";
}

OllamaSupervisor::OllamaSupervisor(OllamaConfig config, const Env& env)
    : config_(std::move(config)), env_(env), self_(std::make_shared<OllamaSupervisor*>(this)) {
  if (auto u = ParseHttpUrl(config_.url); u.ok()) {
    host_ = u->host;
    port_ = u->port;
  } else {
    last_error_ = u.error().message;
  }
}

OllamaSupervisor::~OllamaSupervisor() { *self_ = nullptr; }

void OllamaSupervisor::start() {
  if (port_ == 0) {
    spdlog::error("ollama.url: {}", last_error_);
    health_ = Health::kDown;
    return;
  }
  spdlog::info("watching {} (health every {}, manage: {})", where(), FormatSeconds(config_.health_interval_seconds),
               config_.manage ? "yes" : "no");
  check();
}

void OllamaSupervisor::schedule_check(Duration after) {
  if (stopping_) return;
  check_timer_ = env_.clock->start_timer(after, [this] { check(); });
}

void OllamaSupervisor::check() {
  if (check_in_flight_ || restarting_ || stopping_ || port_ == 0) return;
  check_in_flight_ = true;
  const TimePoint began = env_.clock->now();
  // Still no answer after unhealthy_seconds: unhealthy already, before the verdict.
  check_timer_ = env_.clock->start_timer(FromSeconds(config_.unhealthy_seconds), [this] {
    if (check_in_flight_ && health_ != Health::kDown)
      set_health(Health::kUnhealthy, "no answer to /api/version for " + FormatSeconds(config_.unhealthy_seconds));
  });
  std::weak_ptr<OllamaSupervisor*> weak = self_;
  env_.worker_http->call("GET", host_, port_, "/api/version", FromSeconds(config_.down_seconds),
                         [weak, began](WorkerHttpResult r) {
                           if (auto p = weak.lock(); p && *p) (*p)->on_check(began, std::move(r));
                         });
}

void OllamaSupervisor::on_check(TimePoint began, WorkerHttpResult r) {
  check_in_flight_ = false;
  check_timer_.reset();
  if (stopping_) return;
  last_check_ = env_.clock->wall_now();
  const double took = ToSeconds(env_.clock->now() - began);
  if (r.status == 200) {
    note_answer(began, r);
    if (took < config_.unhealthy_seconds) {
      if (gave_up_) spdlog::info("{} answers again", where());
      gave_up_ = false;
      set_health(Health::kHealthy, "");
    } else if (took < config_.down_seconds) {
      set_health(Health::kUnhealthy, "/api/version took " + FormatSeconds(took));
    } else {
      return on_down("/api/version took " + FormatSeconds(took));
    }
    return schedule_check(FromSeconds(config_.health_interval_seconds));
  }
  on_down("/api/version: " + r.describe());
}

void OllamaSupervisor::note_answer(TimePoint began, const WorkerHttpResult& r) {
  latency_ = ToSeconds(env_.clock->now() - began);
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("version") && j["version"].is_string()) version_ = j["version"];
}

void OllamaSupervisor::set_health(Health h, std::string why) {
  if (h != health_) {
    if (h == Health::kHealthy)
      spdlog::info("{} is healthy (Ollama {})", where(), version_.empty() ? "?" : version_);
    else
      spdlog::warn("{} is {}: {}", where(), HealthName(h), why);
  }
  health_ = h;
  if (!why.empty()) last_error_ = std::move(why);
}

void OllamaSupervisor::on_down(const std::string& why) {
  const bool first = health_ == Health::kUnknown;
  set_health(Health::kDown, why);
  if (!config_.manage) return schedule_check(FromSeconds(config_.health_interval_seconds));
  const TimePoint now = env_.clock->now();
  while (!restarts_.empty() && now - restarts_.front() >= kHour) restarts_.pop_front();
  if (!first && static_cast<int>(restarts_.size()) >= config_.max_restarts_per_hour) {
    if (!gave_up_)
      spdlog::error("{} is down ({}) and was restarted {} times in the last hour (ollama.max_restarts_per_hour): "
                    "kittyd gives up; Ollama-backed models go to their fallbacks until it answers again or "
                    "`kittyctl ollama restart`",
                    where(), why, restarts_.size());
    gave_up_ = true;
    return schedule_check(FromSeconds(config_.health_interval_seconds));
  }
  begin_restart(why, /*counted=*/!first);
}

void OllamaSupervisor::begin_restart(std::string why, bool counted) {
  restarting_ = true;
  if (counted) restarts_.push_back(env_.clock->now());
  last_restart_ = env_.clock->wall_now();
  health_ = Health::kStarting;
  check_timer_.reset();
  spdlog::warn("{}: {} ({})", where(), daemon_ || !config_.start_command.empty() ? "restarting" : "starting", why);
  if (!daemon_) return launch();
  // Ours: stop it for good first (a frozen daemon ignores SIGTERM until SIGKILL).
  after_stop_ = [this] {
    if (restarting_) launch();
  };
  stop_daemon();
}

void OllamaSupervisor::stop_daemon() {
  std::weak_ptr<OllamaSupervisor*> weak = self_;
  terminator_ = std::make_unique<Terminator>(
      *env_.clock, *env_.worker_http, *daemon_, StopSpec{"the Ollama daemon", host_, port_, "", kStopTimeout}, [this, weak] {
        // Not from inside the Terminator's own call.
        env_.clock->post([weak] {
          if (auto p = weak.lock(); p && *p) {
            OllamaSupervisor& s = **p;
            s.terminator_.reset();
            s.daemon_.reset();
            if (s.after_stop_) std::exchange(s.after_stop_, nullptr)();
          }
        });
      });
  terminator_->start();
}

void OllamaSupervisor::launch() {
  SpawnSpec spec;
  spec.tail = log_;
  if (!env_.logs_dir.empty()) spec.log_path = env_.logs_dir + "/ollama.log";
  std::weak_ptr<OllamaSupervisor*> weak = self_;
  if (!config_.start_command.empty()) {
    spec.argv = config_.shell ? std::vector<std::string>{"/bin/sh", "-c", config_.start_command[0]} : config_.start_command;
    log_->mark_run("--- kittyd: running ollama.start_command ---");
    auto p = env_.spawner->spawn(spec, [weak](ExitStatus st) {
      if (auto s = weak.lock(); s && *s) {
        (*s)->command_.reset();
        if (st.code != 0) spdlog::warn("ollama.start_command {}", st.describe());
      }
    });
    if (!p) return finish_restart(MakeError("ollama.start_command: " + p.error().message, ErrorCode::kWorkerStartFailed));
    command_ = std::move(p.value());
  } else {
    spec.argv = {config_.bin, "serve"};
    spec.env = config_.env;
    spec.env["OLLAMA_HOST"] = host_ + ":" + std::to_string(port_);
    log_->mark_run("--- kittyd: starting " + config_.bin + " serve ---");
    const uint64_t gen = ++daemon_gen_;
    auto p = env_.spawner->spawn(spec, [weak, gen](ExitStatus st) {
      if (auto s = weak.lock(); s && *s) (*s)->on_daemon_exit(gen, st);
    });
    if (!p)
      return finish_restart(MakeError(config_.bin + " serve: " + p.error().message + " (set ollama.bin)",
                                      ErrorCode::kWorkerStartFailed));
    daemon_ = std::move(p.value());
    spdlog::info("started {} serve (pid {}) for {}", config_.bin, daemon_->pid(), config_.url);
  }
  await_answer(env_.clock->now() + FromSeconds(config_.start_timeout_seconds));
}

void OllamaSupervisor::await_answer(TimePoint deadline) {
  if (!restarting_ || stopping_) return;
  const TimePoint began = env_.clock->now();
  std::weak_ptr<OllamaSupervisor*> weak = self_;
  env_.worker_http->call("GET", host_, port_, "/api/version", kAnswerTimeout, [weak, deadline, began](WorkerHttpResult r) {
    auto p = weak.lock();
    if (!p || !*p) return;
    OllamaSupervisor& s = **p;
    if (!s.restarting_) return;
    if (r.status == 200) {
      s.note_answer(began, r);
      return s.finish_restart({});
    }
    if (s.env_.clock->now() >= deadline)
      return s.finish_restart(MakeError(s.where() + " did not answer within " + FormatSeconds(s.config_.start_timeout_seconds) +
                                            " of its start (last: " + r.describe() + ")",
                                        ErrorCode::kStartTimeout));
    s.answer_timer_ = s.env_.clock->start_timer(kAnswerPoll, [weak, deadline] {
      if (auto q = weak.lock(); q && *q) (*q)->await_answer(deadline);
    });
  });
}

void OllamaSupervisor::finish_restart(Status st) {
  restarting_ = false;
  answer_timer_.reset();
  last_check_ = env_.clock->wall_now();
  if (st.ok()) {
    gave_up_ = false;
    set_health(Health::kHealthy, "");
    last_error_.clear();
  } else {
    set_health(Health::kDown, st.error().message);
  }
  for (auto& w : std::exchange(restart_waiters_, {})) w(st);
  schedule_check(FromSeconds(config_.health_interval_seconds));
}

void OllamaSupervisor::on_daemon_exit(uint64_t gen, ExitStatus st) {
  if (gen != daemon_gen_ || !daemon_) return;
  if (terminator_) return terminator_->leader_exited();  // a stop kittyd asked for
  std::string why = config_.bin + " serve " + st.describe();
  spdlog::warn("{}: {}", where(), why);
  // Its runners are in its group: none may outlive it holding a model's memory.
  daemon_->signal_group(SIGKILL);
  daemon_.reset();
  if (stopping_) return;
  if (restarting_) return finish_restart(MakeError(why, ErrorCode::kWorkerStartFailed));
  check_timer_.reset();
  on_down(why);
}

void OllamaSupervisor::restart(std::function<void(Status)> done) {
  if (stopping_) return done(MakeError("kittyd is shutting down", ErrorCode::kShuttingDown));
  if (port_ == 0) return done(MakeError("ollama.url: " + last_error_, ErrorCode::kInvalidRequest));
  if (!daemon_ && config_.start_command.empty() && health_ != Health::kDown && health_ != Health::kUnknown)
    return done(MakeError(where() + " was not started by kittyd and ollama.start_command is not set: kittyd does not "
                              "kill a process it did not start",
                          ErrorCode::kUnsupported));
  restart_waiters_.push_back(std::move(done));
  if (restarting_) return;  // joins the one under way
  check_in_flight_ = false;  // a check's late answer is ignored (restarting_)
  begin_restart("asked for (POST /kitty/ollama/restart)", /*counted=*/false);
}

std::optional<Error> OllamaSupervisor::unavailable() const {
  if (restarting_) return std::nullopt;
  if (gave_up_)
    return MakeError(where() + " is down (" + last_error_ + "); kittyd gave up restarting it after " +
                         std::to_string(restarts_.size()) + " restarts in the last hour",
                     ErrorCode::kWorkerStartFailed);
  if (health_ == Health::kDown && !config_.manage)
    return MakeError(where() + " is down (" + last_error_ + ")", ErrorCode::kWorkerStartFailed);
  return std::nullopt;
}

OllamaSupervisor::Info OllamaSupervisor::info() const {
  Info i;
  i.url = config_.url;
  i.health = health_;
  i.latency_seconds = latency_;
  i.version = version_;
  i.manage = config_.manage;
  i.started_by_kittyd = daemon_ != nullptr;
  i.pid = daemon_ ? daemon_->pid() : 0;
  const TimePoint now = env_.clock->now();
  for (const auto& t : restarts_) i.restarts_last_hour += now - t < kHour;
  i.max_restarts_per_hour = config_.max_restarts_per_hour;
  i.gave_up = gave_up_;
  i.last_check = last_check_;
  i.last_restart = last_restart_;
  i.last_error = last_error_;
  i.log_tail = log_->current_run(20);
  return i;
}

void OllamaSupervisor::stop(std::function<void()> done) {
  stopping_ = true;
  check_timer_.reset();
  answer_timer_.reset();
  restarting_ = false;
  for (auto& w : std::exchange(restart_waiters_, {})) w(MakeError("kittyd is shutting down", ErrorCode::kShuttingDown));
  if (!daemon_) return done();
  spdlog::info("stopping {} serve (pid {})", config_.bin, daemon_->pid());
  after_stop_ = std::move(done);
  if (!terminator_) stop_daemon();  // else the stop under way ends in after_stop_
}

}  // namespace kitty
