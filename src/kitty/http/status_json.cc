#include "kitty/http/status_json.h"

#include <cmath>
#include <ctime>

namespace kitty::web {
namespace {

double Mb(uint64_t bytes) { return std::round(bytes / 1048576.0 * 10) / 10; }
double Round3(double v) { return std::round(v * 1000) / 1000; }

// Optional members: the value, or null.
void OptTime(JsonText& j, const std::optional<WallTime>& t) { t ? j.str(IsoTime(*t)) : j.null(); }
void OptNum(JsonText& j, const std::optional<double>& v) { v ? j.num(Round3(*v)) : j.null(); }
void OptBytes(JsonText& j, const std::optional<uint64_t>& v) { v ? j.integer(*v) : j.null(); }
template <class T>
void If(JsonText& j, bool known, T v) {
  known ? j.integer(v) : j.null();
}

void WriteMemory(JsonText& j, const WorkerSnapshot& s) {
  const auto& m = s.memory;
  const auto& f = s.footprint;
  j.begin_object();
  j.key("rss_bytes"), If(j, m.has_value(), m ? m->rss_bytes : 0);
  j.key("pss_bytes"), If(j, m && m->pss_available, m ? m->pss_bytes : 0);
  j.key("footprint_bytes"), If(j, m && m->footprint_available, m ? m->footprint_bytes : 0);
  j.key("gpu_bytes"), If(j, m && m->gpu_available, m ? m->gpu_bytes : 0);
  j.key("peak_rss_bytes"), If(j, s.peak.has_value(), s.peak ? s.peak->rss_bytes : 0);
  j.key("peak_bytes"), If(j, s.peak.has_value(), s.peak ? s.peak->host_bytes : 0);
  j.key("expected_bytes"), OptBytes(j, f.expected_bytes);
  j.key("basis").str(f.basis);
  j.key("estimate_bytes"), OptBytes(j, f.estimate_bytes);
  j.key("learned_bytes"), OptBytes(j, f.learned_bytes);
  j.key("estimate_error"), OptNum(j, f.estimate_error);
  j.key("estimate_explanation");
  f.explanation.empty() ? j.null() : j.str(f.explanation);
  j.end_object();
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

void WriteWorker(JsonText& j, const WorkerSnapshot& s, const ModelConfig& c) {
  const WorkerInfo& i = s.info;
  const auto& memory = s.memory;
  j.begin_object();
  j.key("model_id").str(i.model_id);
  j.key("status").str(WorkerStateName(i.state));
  j.key("pid"), If(j, i.pid != 0, i.pid);
  j.key("port"), If(j, i.port != 0, i.port);
  j.key("rss_mb");
  memory ? j.num(Mb(memory->rss_bytes)) : j.null();
  j.key("pss_mb");
  memory && memory->pss_available ? j.num(Mb(memory->pss_bytes)) : j.null();
  j.key("processes"), If(j, memory.has_value(), memory ? memory->process_count : 0);
  j.key("last_used"), OptTime(j, i.last_used);
  j.key("idle_seconds"), OptNum(j, i.idle_seconds);
  j.key("in_flight").integer(i.in_flight);
  j.key("requests_total").integer(i.requests_total);
  j.key("started_at"), OptTime(j, i.started_at);
  j.key("load_seconds"), OptNum(j, i.load_seconds);
  j.key("progress");
  if (i.progress) {
    const auto& p = *i.progress;
    j.begin_object();
    j.key("phase").str(p.phase);
    j.key("fraction"), OptNum(j, p.fraction);
    j.key("elapsed_seconds").num(Round3(p.elapsed_seconds));
    j.key("expected_seconds"), OptNum(j, p.expected_seconds);
    j.end_object();
  } else {
    j.null();
  }
  j.key("last_error");
  i.last_error ? j.str(*i.last_error) : j.null();
  j.key("last_exit");
  if (i.last_exit) {
    const auto& e = *i.last_exit;
    j.begin_object();
    j.key("class").str(e.kind);
    j.key("message").str(e.message);
    j.key("code"), If(j, e.code >= 0, e.code);
    j.key("signal"), If(j, e.signal != 0, e.signal);
    j.key("at").str(IsoTime(e.at));
    j.key("log_tail").begin_array();
    for (const auto& line : e.log_tail) j.str(line);
    j.end_array();
    j.end_object();
  } else {
    j.null();
  }
  j.key("exits").begin_object();
  for (const auto& [kind, n] : i.exits) j.key(kind).integer(n);
  j.end_object();
  j.key("restart").begin_object();
  j.key("policy").str(i.restart.policy);
  j.key("attempts").integer(i.restart.attempts);
  j.key("next_in_seconds"), OptNum(j, i.restart.next_in_seconds);
  j.key("gave_up").boolean(i.restart.gave_up);
  j.end_object();
  j.key("downgrade").begin_object();
  j.key("rung").integer(i.downgrade.rung);
  j.key("rungs").integer(i.downgrade.rungs);
  j.key("overrides");
  i.downgrade.rung > 0 ? j.str(i.downgrade.overrides) : j.null();
  j.end_object();
  j.key("fallback").begin_array();
  for (const auto& f : c.fallback) j.str(f);
  j.end_array();
  j.key("config_pending").boolean(i.config_pending);
  j.key("backend").str(BackendName(c.backend));
  // What an agent says of the upstream (Ollama's size and expiry of the model, a remote's URL).
  j.key("upstream");
  if (auto u = nlohmann::json::parse(i.backend_status, nullptr, false); !i.backend_status.empty() && u.is_object())
    j.json(u);
  else
    j.null();
  j.key("aliases").begin_array();
  for (const auto& a : c.aliases) j.str(a);
  if (!c.alias.empty()) j.str(c.alias);
  j.end_array();
  j.key("idle_shutdown_seconds").num(c.idle_shutdown_seconds);
  j.key("keep_alive_seconds"), OptNum(j, i.keep_alive_seconds);
  j.key("idles_out_in_seconds"), OptNum(j, i.idles_out_in_seconds);
  j.key("holds").begin_array();
  for (const auto& h : i.holds) {
    j.begin_object();
    j.key("id").str(h.id);
    j.key("owner").str(h.owner);
    j.key("expires_in_seconds").num(std::round(h.expires_in_seconds * 10) / 10);
    j.end_object();
  }
  j.end_array();
  j.key("memory"), WriteMemory(j, s);
  j.key("class");
  s.eviction_class ? j.str(*s.eviction_class) : j.null();
  j.key("pinned").boolean(s.policy.pinned);
  j.key("pressure_evict_only").boolean(s.policy.pressure_evict_only);
  j.key("priority").integer(s.policy.priority);
  j.key("policy_source").begin_object();
  j.key("pinned").str(s.policy.pinned_source);
  j.key("priority").str(s.policy.priority_source);
  j.end_object();
  j.end_object();
}

nlohmann::json WorkerJson(const WorkerSnapshot& s, const ModelConfig& c) {
  JsonText j;
  WriteWorker(j, s, c);
  return nlohmann::json::parse(j.take());
}

}  // namespace kitty::web
