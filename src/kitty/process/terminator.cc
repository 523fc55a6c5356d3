#include "kitty/process/terminator.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace kitty {
namespace {

constexpr Duration kGonePoll = std::chrono::milliseconds(5);
// POST shutdown_path gets at most this long to answer, and a worker that accepted it this
// long to exit by itself before the SIGTERM (both capped at half the stop timeout).
constexpr Duration kShutdownAnswer = std::chrono::seconds(1);
constexpr Duration kShutdownGrace = std::chrono::seconds(2);

}  // namespace

Terminator::Terminator(Clock& clock, WorkerHttp& http, Process& process, StopSpec spec,
                       std::function<void()> on_gone)
    : clock_(clock),
      http_(http),
      process_(process),
      spec_(std::move(spec)),
      on_gone_(std::move(on_gone)),
      self_(std::make_shared<Terminator*>(this)) {}

Terminator::~Terminator() { *self_ = nullptr; }

void Terminator::start() {
  if (started_ || done_) return;
  started_ = true;
  if (process_.exited()) return check_group();
  spdlog::info("{}: stopping pid {}", spec_.label, process_.pid());
  deadline_ = clock_.start_timer(spec_.timeout, [this] { on_deadline(); });
  if (spec_.shutdown_path.empty()) return sigterm();

  // The seed's contract: POST shutdown_path first; SIGTERM if it does not answer, or if the
  // process is still there after a short grace.
  const Duration half = spec_.timeout / 2;
  std::weak_ptr<Terminator*> weak = self_;
  http_.call("POST", spec_.host, spec_.port, spec_.shutdown_path, std::min(kShutdownAnswer, half),
             [weak](WorkerHttpResult r) {
               auto self = weak.lock();
               if (!self || !*self) return;
               Terminator& t = **self;
               if (t.done_ || t.process_.exited()) return;
               if (r.status >= 200 && r.status < 300) {
                 t.step_ = t.clock_.start_timer(std::min(kShutdownGrace, t.spec_.timeout / 2),
                                                [&t] { t.sigterm(); });
               } else {
                 spdlog::info("{}: {} answered {}; sending SIGTERM", t.spec_.label,
                              t.spec_.shutdown_path, r.describe());
                 t.sigterm();
               }
             });
}

void Terminator::sigterm() {
  if (done_ || process_.exited()) return;
  process_.signal_group(SIGTERM);
  // llama-server ignores a SIGTERM that arrives with a request in flight and exits on the
  // second one (docs/ENGINE.md): so a second SIGTERM halfway to the deadline.
  step_ = clock_.start_timer(spec_.timeout / 2, [this] {
    if (done_ || process_.exited()) return;
    spdlog::info("{}: still running; second SIGTERM", spec_.label);
    process_.signal_group(SIGTERM);
  });
}

void Terminator::on_deadline() {
  if (done_ || process_.exited()) return;
  spdlog::warn("{}: pid {} still running after {:.1f}s; sending SIGKILL to its group",
               spec_.label, process_.pid(), ToSeconds(spec_.timeout));
  process_.signal_group(SIGKILL);
}

void Terminator::kill_now() {
  if (done_) return;
  started_ = true;
  step_.reset();
  deadline_.reset();
  if (!process_.exited()) {
    process_.signal_group(SIGKILL);
    return;  // leader_exited() comes back here
  }
  check_group();
}

void Terminator::leader_exited() {
  if (done_) return;
  step_.reset();
  deadline_.reset();
  check_group();
}

void Terminator::check_group() {
  poll_.reset();
  if (done_) return;
  if (process_.group_alive()) {
    // The leader is gone but members of its group are left (grandchildren): kill them, and
    // look again shortly. A group cannot outlive SIGKILL for long.
    process_.signal_group(SIGKILL);
    poll_ = clock_.start_timer(kGonePoll, [this] { check_group(); });
    return;
  }
  done_ = true;
  // Last: the owner may destroy us from on_gone.
  auto fn = std::move(on_gone_);
  fn();
}

}  // namespace kitty
