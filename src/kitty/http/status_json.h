// JSON views of workers for the admin API and /v1/models (docs/API.md).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>

#include "kitty/memory/process_memory.h"
#include "kitty/worker/worker.h"

namespace kitty::web {

std::string IsoTime(WallTime t);

/// The W object of docs/API.md, from a snapshot taken on the control thread (any thread may
/// format it). `memory` is the worker group's memory, when running.
nlohmann::json WorkerJson(const WorkerInfo& i, const ModelConfig& c,
                          const std::optional<GroupMemory>& memory);

}  // namespace kitty::web
