#include "kitty/worker/upstream_status.h"

#include <nlohmann/json.hpp>

namespace kitty {

std::optional<UpstreamMemory> UpstreamMemoryOf(const WorkerInfo& info) {
  if (info.backend_status.empty()) return std::nullopt;
  auto j = nlohmann::json::parse(info.backend_status, nullptr, false);
  if (!j.is_object() || !j.contains("size_bytes") || !j["size_bytes"].is_number_unsigned()) return std::nullopt;
  UpstreamMemory m;
  m.size_bytes = j["size_bytes"].get<uint64_t>();
  if (j.contains("size_vram_bytes") && j["size_vram_bytes"].is_number_unsigned())
    m.size_vram_bytes = j["size_vram_bytes"].get<uint64_t>();
  return m;
}

std::optional<std::string> UpstreamPhaseOf(const std::string& backend_status) {
  if (backend_status.empty()) return std::nullopt;
  auto j = nlohmann::json::parse(backend_status, nullptr, false);
  if (!j.is_object() || !j.contains("status") || !j["status"].is_string()) return std::nullopt;
  auto phase = j["status"].get<std::string>();
  if (phase == "ok" || phase.empty()) return std::nullopt;
  return phase;
}

}  // namespace kitty
