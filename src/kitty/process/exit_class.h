// Exit classification (issue 10): what a worker's end was, from what kittyd knows about it.
// Pure: the facts (exit status, whether kittyd asked for the stop or sent the kill, whether the
// run became ready, the kernel's OOM-kill counters around the run) come in, a kind and a reason
// in words go out. The restart policy decides on the kind; status shows both.
//
//   hung (liveness killed it)                        → hung
//   kittyd asked it to stop (release, idle, evict)   → stopped
//   SIGKILL (or exit 137) kittyd did not send:
//     an OOM-kill counter moved during the run       → oom_kill (confirmed)
//     no counter readable here                       → oom_kill (unconfirmed: seed 002's hint)
//     counters readable and unmoved                  → crash (killed by another process)
//   never became ready                               → start_failure
//   exit 0                                           → clean (an exit nobody asked for)
//   anything else (non-zero, a signal)               → crash
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kitty/process/spawner.h"

namespace kitty {

enum class ExitKind { kClean, kCrash, kOomKill, kStartFailure, kHung, kStopped };
const char* ExitKindName(ExitKind k);

/// The kernel's OOM-kill counters: system-wide (/proc/vmstat oom_kill) and for kittyd's cgroup
/// (memory.events oom_kill), each null where it cannot be read (macOS, no cgroup v2).
struct OomCounts {
  std::optional<uint64_t> system, cgroup;
};

struct ExitFacts {
  ExitStatus status;
  bool became_ready = false;    // the run answered health at least once
  bool stop_requested = false;  // kittyd asked it to stop (its SIGKILL escalation included)
  bool hung = false;            // liveness found it hung and killed it
  OomCounts oom_before, oom_after;  // read at spawn and at exit
};

struct ExitVerdict {
  ExitKind kind = ExitKind::kCrash;
  std::string why;  // "killed by SIGKILL from the kernel's OOM killer (system oom_kill 3 → 4)"
  bool failure() const { return kind != ExitKind::kStopped; }
};

ExitVerdict ClassifyExit(const ExitFacts& f);

}  // namespace kitty
