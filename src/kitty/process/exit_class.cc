#include "kitty/process/exit_class.h"

#include <signal.h>

namespace kitty {
namespace {

// A counter that moved between the two reads; "" when none did or none could be read.
std::string Moved(const char* name, const std::optional<uint64_t>& before,
                  const std::optional<uint64_t>& after) {
  if (!before || !after || *after <= *before) return {};
  return std::string(name) + " oom_kill " + std::to_string(*before) + " → " + std::to_string(*after);
}

bool Readable(const OomCounts& before, const OomCounts& after) {
  return (before.system && after.system) || (before.cgroup && after.cgroup);
}

}  // namespace

const char* ExitKindName(ExitKind k) {
  switch (k) {
    case ExitKind::kClean: return "clean";
    case ExitKind::kCrash: return "crash";
    case ExitKind::kOomKill: return "oom_kill";
    case ExitKind::kStartFailure: return "start_failure";
    case ExitKind::kHung: return "hung";
    case ExitKind::kStopped: return "stopped";
  }
  return "unknown";
}

ExitVerdict ClassifyExit(const ExitFacts& f) {
  const std::string what = f.status.describe();
  if (f.hung) return {ExitKind::kHung, what + ": it had stopped answering, and kittyd killed it"};
  if (f.stop_requested) return {ExitKind::kStopped, what + " (stopped by kittyd)"};
  // 137 is how a shell or wrapper reports a child killed by SIGKILL (128 + 9).
  const bool killed = f.status.signal == SIGKILL || f.status.code == 137;
  if (killed) {
    std::string moved = Moved("cgroup", f.oom_before.cgroup, f.oom_after.cgroup);
    if (moved.empty()) moved = Moved("system", f.oom_before.system, f.oom_after.system);
    if (!moved.empty()) return {ExitKind::kOomKill, what + ": the kernel's OOM killer (" + moved + ")"};
    if (!Readable(f.oom_before, f.oom_after))
      return {ExitKind::kOomKill,
              what + ", not sent by kittyd: probably the OOM killer (no OOM counter to confirm it here)"};
    return {ExitKind::kCrash, what + ", not sent by kittyd nor the OOM killer (its counters did not move)"};
  }
  if (!f.became_ready) return {ExitKind::kStartFailure, what + " before it became ready"};
  if (f.status.code == 0) return {ExitKind::kClean, what + " while ready, on its own"};
  return {ExitKind::kCrash, what + " while ready"};
}

}  // namespace kitty
