#include "kitty/process/orphans.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include "kitty/process/posix_spawner.h"

namespace kitty {
namespace {
constexpr auto kKillWait = std::chrono::seconds(2);
}  // namespace

Result<CleanupReport> CleanupOrphans(const std::string& state_path, const std::string& my_token,
                                     ProcessTable& table) {
  CleanupReport report;
  auto state = ReadStateFile(state_path);
  if (!state.ok()) {
    if (state.error().code == ErrorCode::kFileNotFound) return report;
    // Unreadable or corrupt: we cannot know what it recorded. Say so and go on.
    report.unchecked_why = state.error().message;
    return report;
  }
  report.had_state = true;
  report.previous_pid = state->pid;
  if (state->token == my_token) return report;  // our own file: nothing is orphaned

  if (state->pid > 0 && state->pid != getpid() && table.running(state->pid)) {
    auto start = table.start_time(state->pid);
    if (start.ok() && (state->pid_start_time == 0 || start.value() == state->pid_start_time)) {
      const std::string dir = state_path.substr(0, state_path.find_last_of('/'));
      return MakeError("another kittyd (pid " + std::to_string(state->pid) +
                           ") is using state dir " + dir,
                       ErrorCode::kAlreadyRunning);
    }
  }

  std::map<int, std::string> model_of_group;
  for (const auto& w : state->workers) model_of_group[w.pid] = w.model_id;
  const std::string entry = std::string(kDaemonTokenEnv) + "=" + state->token;
  const int self = getpid();

  auto all = table.list();
  if (!all.ok()) {
    report.unchecked = state->workers;
    report.unchecked_why = all.error().message;
    return report;
  }
  // Every process carrying the old token is one the old daemon started (the token is a
  // 128-bit random id): those in recorded groups and strays that left their group (setsid).
  std::vector<int> targets;
  for (const auto& p : all.value()) {
    if (p.pid == self) continue;
    auto has = table.environ_has(p.pid, entry);
    if (!has.ok()) {
      // This platform cannot tell: leave it alone, and say which recorded worker it may be.
      if (auto it = model_of_group.find(p.pgid); it != model_of_group.end())
        report.unchecked.push_back({it->second, p.pid, 0});
      report.unchecked_why = has.error().message;
      continue;
    }
    if (!has.value()) continue;
    KilledOrphan k{"", p.pid, p.pgid, p.command};
    if (auto it = model_of_group.find(p.pgid); it != model_of_group.end()) k.model_id = it->second;
    if (table.kill(p.pid, SIGKILL)) {
      report.killed.push_back(k);
      targets.push_back(p.pid);
    }
  }

  const auto deadline = std::chrono::steady_clock::now() + kKillWait;
  for (;;) {
    std::vector<int> left;
    for (int pid : targets)
      if (table.running(pid)) left.push_back(pid);
    targets = std::move(left);
    if (targets.empty() || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  report.survivors = targets;
  return report;
}

Status CleanUpAfterPredecessor(const std::string& state_path, const std::string& my_token,
                               ProcessTable& table) {
  auto cleanup = CleanupOrphans(state_path, my_token, table);
  if (!cleanup) return cleanup.error();  // only kAlreadyRunning
  const CleanupReport& r = *cleanup;
  for (const auto& k : r.killed)
    spdlog::warn("killed worker left by a previous kittyd (pid {}): model '{}', pid {} ({})",
                 r.previous_pid, k.model_id, k.pid, k.command);
  for (int pid : r.survivors)
    spdlog::error("process {} of a previous kittyd survived SIGKILL", pid);
  if (!r.unchecked_why.empty()) {
    std::string which;
    for (const auto& w : r.unchecked)
      which += (which.empty() ? "" : ", ") + w.model_id + " (pid " + std::to_string(w.pid) + ")";
    spdlog::warn("orphan cleanup could not check what a previous kittyd left running ({}){}; "
                 "starting anyway — check for stray workers by hand",
                 r.unchecked_why, which.empty() ? "" : ": " + which);
  }
  return Status::Ok();
}

}  // namespace kitty
