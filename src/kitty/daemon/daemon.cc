#include "kitty/daemon/daemon.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>

#include "kitty/base/asio_clock.h"
#include "kitty/gguf/gguf.h"
#include "kitty/http/gateway.h"
#include "kitty/http/server.h"
#include "kitty/http/worker_http_client.h"
#include "kitty/manager/manager.h"
#include "kitty/memory/process_memory.h"
#include "kitty/process/daemon_lock.h"
#include "kitty/process/orphans.h"
#include "kitty/process/port_probe.h"
#include "kitty/process/posix_spawner.h"
#include "kitty/process/state_file.h"
#include "kitty/process/watchdog.h"

namespace kitty {

int RunDaemon(const Config& config, const DaemonOptions& opts) {
  // First, while kittyd has no thread and few descriptors: kills our workers' groups when we
  // die, however we die. The spawner registers every group with it.
  auto watchdog = Watchdog::Start();
  if (!watchdog) {
    spdlog::error("{}", watchdog.error().message);
    return 1;
  }
  const ServerConfig& sc = config.server;
  std::error_code fs_ec;
  std::filesystem::create_directories(sc.logs_dir, fs_ec);
  if (fs_ec) {
    spdlog::error("cannot create logs_dir '{}': {}", sc.logs_dir, fs_ec.message());
    return 1;
  }

  // One daemon per state dir; then clean up what a crashed predecessor left running.
  auto lock = AcquireDaemonLock(sc.state_dir);
  if (!lock) {
    spdlog::error("{}", lock.error().message);
    return 1;
  }
  const std::string token = NewDaemonToken();
  const std::string state_path = sc.state_dir + "/kittyd.state";
  auto cleanup = CleanupOrphans(state_path, token);
  if (!cleanup) {
    spdlog::error("orphan cleanup: {}", cleanup.error().message);
    return 1;
  }
  for (const auto& k : cleanup->killed)
    spdlog::warn("killed worker left by a previous kittyd (pid {}): model '{}', pid {} ({})",
                 cleanup->previous_pid, k.model_id, k.pid, k.command);
  for (int pid : cleanup->survivors)
    spdlog::error("process {} of a previous kittyd survived SIGKILL", pid);
  StateFile state(state_path, token);
  if (Status st = state.save(); !st) spdlog::warn("state file: {}", st.error().message);

  boost::asio::io_context io(1);
  (*watchdog)->watch(io);
  AsioClock clock(io);
  PosixSpawner spawner(io, token, watchdog->get());
  web::WorkerHttpClient worker_http(io);
  web::Gateway* gateway_ptr = nullptr;

  ManagerDeps md;
  md.clock = &clock;
  md.spawner = &spawner;
  md.http = &worker_http;
  md.logs_dir = sc.logs_dir;
  md.auto_ports = sc.auto_ports;
  md.check_port_free = CheckPortFree;
  md.pick_free_port = PickFreePort;
  md.on_spawned = [&state](const std::string& id, int pid) {
    if (Status st = state.record_worker(id, pid); !st)
      spdlog::warn("state file: {}", st.error().message);
  };
  md.on_gone = [&state, &gateway_ptr](const std::string&, int pid) {
    if (Status st = state.forget_worker(pid); !st)
      spdlog::warn("state file: {}", st.error().message);
    if (gateway_ptr) gateway_ptr->pool().forget_pid(pid);
  };
  WorkerManager manager(config.models, md);

  std::map<std::string, nlohmann::json> gguf_cache;
  web::GatewayDeps gd;
  gd.manager = &manager;
  gd.clock = &clock;
  gd.server = sc;
  gd.version = opts.version;
  gd.read_memory = ReadGroupMemory;
  gd.model_info = [&gguf_cache](const ModelConfig& m) -> nlohmann::json {
    if (m.model_path.empty()) return nullptr;
    auto it = gguf_cache.find(m.model_path);
    if (it != gguf_cache.end()) return it->second;
    auto info = ReadGgufInfo(m.model_path);
    nlohmann::json j = info ? ToJson(*info) : nlohmann::json{{"error", info.error().message}};
    // Errors are not cached: the file may appear later.
    if (info) gguf_cache[m.model_path] = j;
    return j;
  };
  web::Gateway gateway(gd);
  gateway_ptr = &gateway;

  web::ServerOptions so;
  so.host = sc.host;
  so.port = sc.port;
  so.max_body_bytes = sc.max_body_bytes;
  web::HttpServer server(io, so, [&gateway](web::Exchange& ex) { return gateway.handle(ex); });
  if (Status st = server.listen(); !st) {
    spdlog::error("{}", st.error().message);
    return 1;
  }
  server.start();
  spdlog::info("kittyd {} listening on http://{}:{} with {} model(s) from {}", opts.version,
               sc.host, server.port(), config.models.size(), config.path);
  for (const auto& m : config.models)
    spdlog::info("  model '{}' ({}), idle shutdown {}", m.id, BackendName(m.backend),
                 m.idle_shutdown_seconds > 0
                     ? std::to_string(static_cast<long>(m.idle_shutdown_seconds)) + "s"
                     : std::string("never"));

  // SIGTERM/SIGINT: stop accepting, stop every worker (SIGTERM to each group, SIGKILL at its
  // stop deadline), then leave the loop. A second signal skips the wait for workers.
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  bool stopping = false;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (stopping) {
          spdlog::warn("second signal: killing workers now");
          for (const auto& w : manager.workers()) w->release(true, nullptr);
          signals.async_wait(on_signal);
          return;
        }
        stopping = true;
        spdlog::info("signal {}: stopping every worker", sig);
        gateway.set_shutting_down();
        server.stop();
        manager.release_all(/*force=*/true, [&] {
          spdlog::info("all workers stopped; exiting");
          signals.cancel();
          io.stop();
        });
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);

  manager.preload();
  io.run();
  if (Status st = state.remove(); !st) spdlog::warn("state file: {}", st.error().message);
  return 0;
}

}  // namespace kitty
