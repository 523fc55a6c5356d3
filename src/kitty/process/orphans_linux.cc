#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "kitty/process/orphans.h"
#include "kitty/process/platform.h"
#include "kitty/process/posix_spawner.h"
#include "kitty/process/proc_stat_linux.h"
#include "kitty/process/state_file.h"

namespace kitty {

namespace {

constexpr auto kKillWait = std::chrono::seconds(2);

// True when /proc/PID/environ holds exactly `entry` (NUL-separated). Unreadable (another
// user's process, or gone): false.
bool EnvironHas(int pid, const std::string& entry) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
  if (!in) return false;
  std::string var;
  while (std::getline(in, var, '\0'))
    if (var == entry) return true;
  return false;
}

std::vector<int> AllPids() {
  std::vector<int> pids;
  DIR* dir = opendir("/proc");
  if (!dir) return pids;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    long pid = strtol(e->d_name, &end, 10);
    if (*end == '\0' && pid > 0) pids.push_back(static_cast<int>(pid));
  }
  closedir(dir);
  return pids;
}

}  // namespace

Result<CleanupReport> CleanupOrphans(const std::string& state_path, const std::string& my_token) {
  CleanupReport report;
  auto state = ReadStateFile(state_path);
  if (!state.ok()) {
    if (state.error().code == ErrorCode::kFileNotFound) return report;
    return state.error();
  }
  report.had_state = true;
  report.previous_pid = state->pid;
  if (state->token == my_token) return report;  // our own file: nothing is orphaned

  if (state->pid > 0 && state->pid != getpid() && platform::ProcessRunning(state->pid)) {
    auto start = platform::ProcessStartTime(state->pid);
    if (start.ok() && (state->pid_start_time == 0 || start.value() == state->pid_start_time)) {
      std::string dir = state_path.substr(0, state_path.find_last_of('/'));
      return MakeError("another kittyd (pid " + std::to_string(state->pid) +
                           ") is using state dir " + dir,
                       ErrorCode::kAlreadyRunning);
    }
  }

  std::map<int, std::string> model_of_group;
  for (const auto& w : state->workers) model_of_group[w.pid] = w.model_id;
  const std::string entry = std::string(kDaemonTokenEnv) + "=" + state->token;
  const int self = getpid();

  // Every process carrying the old token is one the old daemon started (the token is a
  // 128-bit random id): those in recorded groups and strays that left their group (setsid).
  std::vector<int> targets;
  for (int pid : AllPids()) {
    if (pid == self) continue;
    auto st = ReadProcStat(pid);
    if (!st.ok() || st->state == 'Z' || st->state == 'X') continue;
    if (!EnvironHas(pid, entry)) continue;
    KilledOrphan k;
    k.pid = pid;
    k.pgid = st->pgrp;
    k.command = st->comm;
    if (auto it = model_of_group.find(st->pgrp); it != model_of_group.end()) k.model_id = it->second;
    if (kill(pid, SIGKILL) == 0) {
      report.killed.push_back(k);
      targets.push_back(pid);
    }
  }

  auto deadline = std::chrono::steady_clock::now() + kKillWait;
  for (;;) {
    std::vector<int> left;
    for (int pid : targets)
      if (platform::ProcessRunning(pid)) left.push_back(pid);
    targets = std::move(left);
    if (targets.empty() || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  report.survivors = targets;
  return report;
}

}  // namespace kitty
