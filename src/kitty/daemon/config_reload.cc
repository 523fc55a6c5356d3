#include "kitty/daemon/config_reload.h"

#include <tuple>

namespace kitty {
namespace {

template <typename T>
void Differs(std::vector<std::string>& out, const char* key, const T& a, const T& b) {
  if (!(a == b)) out.push_back(key);
}

auto Tie(const MemoryBudget& b) { return std::tie(b.kind, b.bytes, b.percent); }

}  // namespace

std::vector<std::string> UnappliedChanges(const Config& running, const Config& next) {
  std::vector<std::string> out;
  const ServerConfig &a = running.server, &b = next.server;
  Differs(out, "server.host", a.host, b.host);
  Differs(out, "server.port", a.port, b.port);
  Differs(out, "server.api_keys", a.api_keys, b.api_keys);
  Differs(out, "server.admin_keys", a.admin_keys, b.admin_keys);
  Differs(out, "server.max_body_bytes", a.max_body_bytes, b.max_body_bytes);
  Differs(out, "server.log_bodies", a.log_bodies, b.log_bodies);
  Differs(out, "server.open_metrics", a.open_metrics, b.open_metrics);
  Differs(out, "server.auto_ports", std::tie(a.auto_ports.first, a.auto_ports.last),
          std::tie(b.auto_ports.first, b.auto_ports.last));
  Differs(out, "server.logs_dir", a.logs_dir, b.logs_dir);
  Differs(out, "server.state_dir", a.state_dir, b.state_dir);
  Differs(out, "server.header_timeout_seconds", a.header_timeout_seconds, b.header_timeout_seconds);
  Differs(out, "server.body_timeout_seconds", a.body_timeout_seconds, b.body_timeout_seconds);
  Differs(out, "server.keep_alive_seconds", a.keep_alive_seconds, b.keep_alive_seconds);
  Differs(out, "server.max_connections", a.max_connections, b.max_connections);
  Differs(out, "server.io_threads", a.io_threads, b.io_threads);
  const MemoryConfig &m = running.memory, &n = next.memory;
  Differs(out, "memory.budget", Tie(m.budget), Tie(n.budget));
  Differs(out, "memory.reserve", m.reserve_bytes, n.reserve_bytes);
  std::vector<std::tuple<MemoryBudget::Kind, uint64_t, double>> ga, gb;
  for (const auto& g : m.gpu_budgets) ga.emplace_back(Tie(g));
  for (const auto& g : n.gpu_budgets) gb.emplace_back(Tie(g));
  Differs(out, "memory.gpu_budgets", ga, gb);
  Differs(out, "memory.max_models", m.max_models, n.max_models);
  Differs(out, "memory.wait_seconds", m.wait_seconds, n.wait_seconds);
  Differs(out, "memory.recovery_seconds", m.recovery_seconds, n.recovery_seconds);
  Differs(out, "memory.sample_seconds", m.sample_seconds, n.sample_seconds);
  const PressureConfig &p = m.pressure, &q = n.pressure;
  Differs(out, "memory.pressure",
          std::tie(p.ram_percent, p.gpu_percent, p.cpu_percent, p.cpu_seconds, p.disk_free_min_bytes),
          std::tie(q.ram_percent, q.gpu_percent, q.cpu_percent, q.cpu_seconds, q.disk_free_min_bytes));
  return out;
}

}  // namespace kitty
