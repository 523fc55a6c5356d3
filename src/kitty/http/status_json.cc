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

nlohmann::json OptBytes(const std::optional<uint64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json MemoryJson(const WorkerSnapshot& s) {
  const auto& m = s.memory;
  const auto& f = s.footprint;
  return {
      {"rss_bytes", m ? nlohmann::json(m->rss_bytes) : nlohmann::json(nullptr)},
      {"pss_bytes", m && m->pss_available ? nlohmann::json(m->pss_bytes) : nlohmann::json(nullptr)},
      {"footprint_bytes",
       m && m->footprint_available ? nlohmann::json(m->footprint_bytes) : nlohmann::json(nullptr)},
      {"gpu_bytes", m && m->gpu_available ? nlohmann::json(m->gpu_bytes) : nlohmann::json(nullptr)},
      {"peak_rss_bytes", s.peak ? nlohmann::json(s.peak->rss_bytes) : nlohmann::json(nullptr)},
      {"peak_bytes", s.peak ? nlohmann::json(s.peak->host_bytes) : nlohmann::json(nullptr)},
      {"expected_bytes", OptBytes(f.expected_bytes)},
      {"basis", f.basis},
      {"estimate_bytes", OptBytes(f.estimate_bytes)},
      {"learned_bytes", OptBytes(f.learned_bytes)},
      {"estimate_error", f.estimate_error ? nlohmann::json(std::round(*f.estimate_error * 1000) / 1000)
                                          : nlohmann::json(nullptr)},
      {"estimate_explanation", f.explanation.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.explanation)},
  };
}

}  // namespace

std::string IsoTime(WallTime t) {
  const std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json WorkerJson(const WorkerSnapshot& s, const ModelConfig& c) {
  const WorkerInfo& i = s.info;
  const auto& memory = s.memory;
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
      {"memory", MemoryJson(s)},
      {"class", s.eviction_class ? nlohmann::json(*s.eviction_class) : nlohmann::json(nullptr)},
      {"pinned", s.policy.pinned},
      {"pressure_evict_only", s.policy.pressure_evict_only},
      {"priority", s.policy.priority},
      {"policy_source", {{"pinned", s.policy.pinned_source}, {"priority", s.policy.priority_source}}},
  };
}

}  // namespace kitty::web
