// What an agent (backend ollama or remote) last reported of its upstream, read from
// WorkerInfo::backend_status: the figures status, /api/ps, /metrics and the scheduler use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kitty/worker/worker.h"

namespace kitty {

struct UpstreamMemory {
  uint64_t size_bytes = 0;       // what the upstream holds for the model (Ollama's size)
  uint64_t size_vram_bytes = 0;  // of which on a GPU
};

/// Ollama's figures for the model, when its agent reported them; nullopt otherwise.
std::optional<UpstreamMemory> UpstreamMemoryOf(const WorkerInfo& info);

/// What an agent says it is doing while it starts ("waiting_for_ollama", "creating", "pulling",
/// "loading"), from its health answer; nullopt when it says nothing of the kind.
std::optional<std::string> UpstreamPhaseOf(const std::string& backend_status);

}  // namespace kitty
