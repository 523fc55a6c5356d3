// The scheduler's decisions, as pure functions over a snapshot: which eviction class a model is
// in, and what it takes to start one (start now, stop these first, wait for busy ones, or no room
// at all). No I/O, no clock, no threads: the manager takes a snapshot on the control loop, asks,
// and carries the answer out. Tested on plain data in microseconds (plan_test.cc).
//
// Eviction order (seed 002): class EVICTABLE, then IDLE, then WARM — never ACTIVE (pinned,
// requests in flight, holds, starting) — then lower priority first, then least recently used.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kitty::sched {

enum class EvictionClass { kActive, kWarm, kIdle, kEvictable };
const char* EvictionClassName(EvictionClass c);

struct ClassInputs {
  bool pinned = false;
  bool busy = false;                 // requests in flight, holds, or starting
  bool pressure_evict_only = false;  // capped at IDLE: the idle sweep never takes it
  double idle_seconds = 0;           // since the last request ended
  double idle_period_seconds = 900;  // its idle_shutdown_seconds (or a default when 0 = never)
};

/// ACTIVE when pinned or busy; WARM for the first half of the idle period; IDLE for the second;
/// EVICTABLE past it (a pressure_evict_only model stays IDLE).
EvictionClass ClassOf(const ClassInputs& in);

/// A model that holds memory now, or is on its way to (starting) or from (stopping) it.
struct Holder {
  std::string id;
  uint64_t bytes = 0;        // measured now, else expected
  EvictionClass cls = EvictionClass::kActive;
  int priority = 0;
  double last_used = 0;      // seconds on any monotonic scale; smaller = longer ago
  bool pinned = false;
  bool stopping = false;     // already going: its memory comes back without another eviction
};

/// What the budget leaves now.
struct Room {
  int64_t free_bytes = 0;    // may be negative when the machine is already over budget
  int running = 0;           // holders that are not stopping
  int max_models = 0;        // 0 = no limit
};

struct StartPlan {
  enum class Kind {
    kStart,       // fits now
    kEvict,       // stop `evict` (in that order), then start
    kWait,        // what would make room is busy or already stopping: ask again later
    kNoRoom,      // nothing that may be evicted would ever make room
  };
  Kind kind = Kind::kStart;
  std::vector<std::string> evict;
  uint64_t need_bytes = 0;
  int64_t free_bytes = 0;
  std::string why;  // for kWait and kNoRoom: who holds the memory, in words
};

/// What it takes to start a model expected to need `need` bytes (nullopt: unknown; only
/// max_models applies). `holders` must not contain the model itself.
StartPlan PlanStart(std::optional<uint64_t> need, const std::vector<Holder>& holders, const Room& room);

/// The holders to stop, in eviction order, to free at least `bytes` (pressure, headroom). Pinned
/// and ACTIVE holders are never chosen; stopping ones count as already freed. May return fewer
/// than needed when nothing else may go.
std::vector<std::string> PlanRelease(uint64_t bytes, const std::vector<Holder>& holders);

/// Holders sorted in eviction order (first to go first), ACTIVE and pinned ones left out.
std::vector<const Holder*> EvictionOrder(const std::vector<Holder>& holders);

}  // namespace kitty::sched
