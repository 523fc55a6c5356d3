#include "kitty/http/fallback.h"

#include <nlohmann/json.hpp>
#include <set>

namespace kitty::web {

std::vector<std::shared_ptr<Worker>> FallbackChain(const WorkerManager& m, const std::shared_ptr<Worker>& primary,
                                                   const ModelConfig& primary_config, std::string_view body) {
  std::vector<std::shared_ptr<Worker>> chain = {primary};
  if (primary_config.fallback.empty() || !FallbackAllowed(body)) return chain;
  std::set<std::string> seen = {primary->id()};
  for (size_t i = 0; i < chain.size(); ++i) {
    const auto later = i == 0 ? nullptr : chain[i]->config_snapshot();
    for (const auto& name : (i == 0 ? primary_config : *later).fallback) {
      auto w = m.find(name);  // a reload may have removed it since
      if (w && seen.insert(w->id()).second) chain.push_back(w);
    }
  }
  return chain;
}

bool FallbackAllowed(std::string_view body) {
  // Most bodies do not mention it: no parse for them.
  if (body.find("\"fallback\"") == std::string_view::npos) return true;
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return true;
  auto it = j.find("fallback");
  return it == j.end() || !it->is_boolean() || it->get<bool>();
}

bool FallsBack(ErrorCode code) {
  if (Describe(code).code == "worker_start_failed") return true;
  switch (code) {
    case ErrorCode::kNoRoom:
    case ErrorCode::kNoRoomBusy:
    case ErrorCode::kStartTimeout:
    case ErrorCode::kWorkerCrashed:
    case ErrorCode::kWorkerHung:
      return true;
    default:
      return false;
  }
}

}  // namespace kitty::web
