// JSON views of workers for the admin API and /v1/models (docs/API.md).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "kitty/http/json_text.h"
#include "kitty/manager/memory_ledger.h"
#include "kitty/memory/memory_sampler.h"
#include "kitty/memory/process_memory.h"
#include "kitty/worker/worker.h"

namespace kitty::web {

std::string IsoTime(WallTime t);

/// What status shows of a worker, taken on the control thread (any thread may format it).
struct WorkerSnapshot {
  WorkerInfo info;
  std::optional<GroupMemory> memory;  // its group now, when running and sampled
  std::optional<GroupPeak> peak;      // this run's peak
  ModelMemory footprint;              // expected, estimate, learned
  std::optional<std::string> eviction_class;  // null while the model is not running
  Policy policy;
};

/// The W object of docs/API.md, written into `j` (status lists: no tree is built).
void WriteWorker(JsonText& j, const WorkerSnapshot& s, const ModelConfig& c);
/// The same as a value, for answers about one worker.
nlohmann::json WorkerJson(const WorkerSnapshot& s, const ModelConfig& c);

}  // namespace kitty::web
