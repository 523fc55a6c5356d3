#include "kitty/http/status_json.h"

#include <cmath>
#include <ctime>

namespace kitty::web {
namespace {

nlohmann::json OptTime(const std::optional<WallTime>& t) {
  return t ? nlohmann::json(IsoTime(*t)) : nlohmann::json(nullptr);
}

nlohmann::json OptNum(const std::optional<double>& v) {
  return v ? nlohmann::json(std::round(*v * 1000) / 1000) : nlohmann::json(nullptr);
}

double Mb(uint64_t bytes) { return std::round(bytes / 1048576.0 * 10) / 10; }

}  // namespace

std::string IsoTime(WallTime t) {
  const std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json WorkerJson(const WorkerInfo& i, const ModelConfig& c,
                          const std::optional<GroupMemory>& memory) {
  nlohmann::json aliases = c.aliases;
  if (!c.alias.empty()) aliases.push_back(c.alias);
  nlohmann::json holds = nlohmann::json::array();
  for (const auto& h : i.holds)
    holds.push_back({{"id", h.id},
                     {"owner", h.owner},
                     {"expires_in_seconds", std::round(h.expires_in_seconds * 10) / 10}});
  return {
      {"model_id", i.model_id},
      {"status", WorkerStateName(i.state)},
      {"pid", i.pid ? nlohmann::json(i.pid) : nlohmann::json(nullptr)},
      {"port", i.port ? nlohmann::json(i.port) : nlohmann::json(nullptr)},
      {"rss_mb", memory ? nlohmann::json(Mb(memory->rss_bytes)) : nlohmann::json(nullptr)},
      {"pss_mb", memory && memory->pss_available ? nlohmann::json(Mb(memory->pss_bytes))
                                                 : nlohmann::json(nullptr)},
      {"processes", memory ? nlohmann::json(memory->process_count) : nlohmann::json(nullptr)},
      {"last_used", OptTime(i.last_used)},
      {"idle_seconds", OptNum(i.idle_seconds)},
      {"in_flight", i.in_flight},
      {"requests_total", i.requests_total},
      {"started_at", OptTime(i.started_at)},
      {"load_seconds", OptNum(i.load_seconds)},
      {"last_error", i.last_error ? nlohmann::json(*i.last_error) : nlohmann::json(nullptr)},
      {"backend", BackendName(c.backend)},
      {"aliases", aliases},
      {"idle_shutdown_seconds", c.idle_shutdown_seconds},
      {"holds", holds},
  };
}

}  // namespace kitty::web
