#include "kitty/testing/fake_spawner.h"

#include <signal.h>

namespace kitty {

class FakeProcess : public Process {
 public:
  FakeProcess(FakeSpawner* s, std::shared_ptr<FakeSpawner::Proc> p) : s_(s), p_(std::move(p)) {}
  int pid() const override { return p_->pid; }
  void signal_group(int sig) override {
    p_->signals.push_back(sig);
    if (sig == SIGKILL || (sig == SIGTERM && !p_->ignore_sigterm)) {
      if (sig == SIGKILL) p_->leaves_grandchild = false;
      if (!p_->exited) {
        s_->exit(p_->pid, ExitStatus{-1, sig});
      } else if (!p_->leaves_grandchild) {
        p_->group_alive = false;
      }
    }
  }
  bool group_alive() const override { return p_->group_alive; }
  bool exited() const override { return p_->exited; }

 private:
  FakeSpawner* s_;
  std::shared_ptr<FakeSpawner::Proc> p_;
};

Result<std::unique_ptr<Process>> FakeSpawner::spawn(const SpawnSpec& spec, ExitCallback on_exit) {
  if (next_spawn_error) return *std::exchange(next_spawn_error, std::nullopt);
  auto p = std::make_shared<Proc>();
  p->pid = next_pid_++;
  p->spec = spec;
  p->on_exit = std::move(on_exit);
  p->ignore_sigterm = std::exchange(next_ignores_sigterm, false);
  p->leaves_grandchild = std::exchange(next_leaves_grandchild, false);
  procs_[p->pid] = p;
  return std::unique_ptr<Process>(std::make_unique<FakeProcess>(this, p));
}

void FakeSpawner::exit(int pid, ExitStatus st) {
  auto p = procs_.at(pid);
  if (p->exited) return;
  p->exited = true;
  if (!p->leaves_grandchild) p->group_alive = false;
  clock_->post([p, st] {
    if (p->on_exit) p->on_exit(st);
  });
}

int FakeSpawner::alive_count() const {
  int n = 0;
  for (const auto& [pid, p] : procs_) n += p->group_alive ? 1 : 0;
  return n;
}

}  // namespace kitty
