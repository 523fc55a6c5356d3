#include "kitty/daemon/daemon.h"

#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <filesystem>

#include "kitty/base/asio_clock.h"
#include "kitty/base/blocking_pool.h"
#include "kitty/base/env.h"
#include "kitty/base/file_system.h"
#include "kitty/daemon/config_reload.h"
#include "kitty/daemon/model_info_cache.h"
#include "kitty/events/bus.h"
#include "kitty/http/io_threads.h"
#include "kitty/http/router.h"
#include "kitty/http/server.h"
#include "kitty/http/upstream_pool.h"
#include "kitty/http/worker_http_client.h"
#include "kitty/base/bytes.h"
#include "kitty/manager/manager.h"
#include "kitty/manager/memory_ledger.h"
#include "kitty/manager/scheduler.h"
#include "kitty/process/oom_counts.h"
#include "kitty/memory/load_probe.h"
#include "kitty/memory/memory_probe.h"
#include "kitty/backends/plan.h"
#include "kitty/events/journal.h"
#include "kitty/memory/memory_sampler.h"
#include "kitty/metrics/request_metrics.h"
#include "kitty/ollama/supervisor.h"
#include "kitty/process/daemon_lock.h"
#include "kitty/process/orphans.h"
#include "kitty/process/port_allocator.h"
#include "kitty/process/posix_spawner.h"
#include "kitty/process/state_file.h"
#include "kitty/process/watchdog.h"

namespace kitty {
namespace {

// Descriptors kittyd keeps for itself beyond client connections: the listener, the control
// loop, log pipes, state and lock files, upstream connections (one per busy client at most,
// counted with the client), a margin.
constexpr rlim_t kReservedFds = 256;

// Raises the soft descriptor limit to the hard one (10,000 clients need 10,000 descriptors;
// the usual soft default is 1,024) and returns the limit now in force.
rlim_t RaiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit want = rl;
    want.rlim_cur = rl.rlim_max;
#ifdef __APPLE__
    want.rlim_cur = std::min<rlim_t>(want.rlim_cur, OPEN_MAX);  // macOS refuses more
#endif
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
    else spdlog::warn("cannot raise the open-file limit from {}: {}", rl.rlim_cur, strerror(errno));
  }
  return rl.rlim_cur;
}

}  // namespace

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

  // One daemon per state dir; then clean up what a crashed predecessor left running. Only a
  // live predecessor stops the start: anything else is logged, and we go on (issue 8).
  auto lock = AcquireDaemonLock(sc.state_dir);
  if (!lock) {
    spdlog::error("{}", lock.error().message);
    return 1;
  }
  const std::string token = NewDaemonToken();
  const std::string state_path = sc.state_dir + "/kittyd.state";
  if (Status st = CleanUpAfterPredecessor(state_path, token, *MakeProcessTable()); !st) {
    spdlog::error("{}", st.error().message);
    return 1;
  }
  FileSystem& fs = RealFileSystem();
  StateFile state(state_path, token, 0, fs);
  if (Status st = state.save(); !st) spdlog::warn("state file: {}", st.error().message);

  const rlim_t fd_limit = RaiseFileLimit();
  // An idle client holds one descriptor, a busy one two (its worker's connection): the cap
  // counts one each, and a burst of busy clients beyond the limit is met by accept's own
  // out-of-descriptors handling (shed an idle connection, answer 503).
  size_t max_connections = static_cast<size_t>(sc.max_connections);
  if (fd_limit > kReservedFds && max_connections > fd_limit - kReservedFds) {
    max_connections = std::max<size_t>(16, fd_limit - kReservedFds);
    spdlog::warn("server.max_connections {} lowered to {} (open-file limit {})", sc.max_connections,
                 max_connections, fd_limit);
  }

  // The control loop: workers, timers, the spawner, health probes. Main thread.
  boost::asio::io_context control(1);
  BlockingPool blocking(2);
  AsioClock clock(control);
  (*watchdog)->watch(control);
  PosixSpawner spawner(control, token, watchdog->get(), &blocking);
  web::WorkerHttpClient worker_http(control);
  OsPortAllocator ports;
  OsMemoryProbe memory;
  EventBus events;
  Env env;
  env.clock = &clock;
  env.spawner = &spawner;
  env.worker_http = &worker_http;
  env.ports = &ports;
  env.events = &events;
  env.blocking = &blocking;
  env.memory = &memory;
  env.fs = &fs;
  env.logs_dir = sc.logs_dir;
  env.oom_counts = ReadOomCounts;
  // Launches see kittyd's environment, plus where kitty-agent is (unless $KITTY_AGENT says) and
  // the `ollama` binary the agent runs for `ollama create` (ollama.bin).
  env.plan_launch = [agent = opts.agent_path, ollama_bin = config.ollama.bin](const ModelConfig& m, int port) {
    const EnvLookup process = ProcessEnv();
    return PlanLaunchWithEnv(m, port, [&](const std::string& name) -> std::optional<std::string> {
      auto v = process(name);
      if (!v && name == "KITTY_AGENT" && !agent.empty()) return agent;
      if (!v && name == "KITTY_OLLAMA_BIN") return ollama_bin;
      return v;
    });
  };
  if (!opts.agent_path.empty()) spdlog::debug("kitty-agent: {}", opts.agent_path);

  // The state file follows the workers; its writes (each an fsync) run in order on the pool.
  auto state_strand = blocking.make_strand();
  auto state_sub = events.subscribe([&state, &state_strand](const WorkerEvent& e) {
    if (e.kind != EventKind::kSpawned && e.kind != EventKind::kGone) return;
    boost::asio::post(state_strand, [&state, e] {
      Status st = e.kind == EventKind::kSpawned ? state.record_worker(e.model_id, e.pid)
                                                : state.forget_worker(e.pid);
      if (!st) spdlog::warn("state file: {}", st.error().message);
    });
  });

  // Footprints first (estimates from GGUF headers, learned ones from the state dir): the first
  // start is planned on them. Blocking, once, before the loop runs.
  MemoryLedger ledger(env, config.models, sc.state_dir + "/footprints.json");
  ledger.init();
  if (config.memory.budget.kind != MemoryBudget::Kind::kAuto) {
    auto sys = memory.system();
    const auto too_big = ledger.too_big_for(config.memory.budget, sys.ok() ? sys->total_bytes : 0);
    for (const auto& why : too_big) spdlog::error("{}: {}", config.path, why);
    if (!too_big.empty()) return 1;
    if (sys.ok())
      spdlog::info("memory budget {} of {} (reserve {})", config.memory.budget.Describe(),
                   FormatBytes(sys->total_bytes), FormatBytes(config.memory.reserve_bytes));
  }
  // Every start passes the scheduler (fit, make room, wait, or no_room). It reads the
  // registry, built next, through a pointer: the manager's workers need the admission first.
  const WorkerManager* registry = nullptr;
  // The pressure monitor's CPU and disk figures (disk: where kittyd writes its state and logs).
  OsLoadProbe load(env);
  std::vector<std::string> disk_dirs = {sc.state_dir};
  if (sc.logs_dir != sc.state_dir) disk_dirs.push_back(sc.logs_dir);
  Scheduler scheduler(env, config.memory, ledger, load, std::move(disk_dirs),
                      [&registry] { return registry->all_workers(); });
  env.admission = &scheduler;
  // The Ollama daemon under watch (an `ollama:` section): its models fall back at once while
  // it is down for good.
  std::unique_ptr<OllamaSupervisor> ollama;
  if (config.ollama.configured) {
    ollama = std::make_unique<OllamaSupervisor>(config.ollama, env);
    env.upstream_unavailable = [s = ollama.get()](const ModelConfig& m) -> std::optional<Error> {
      return m.backend == Backend::kOllama ? s->unavailable() : std::nullopt;
    };
  }
  WorkerManager manager(config.models, env, sc.auto_ports);
  registry = &manager;
  MemorySampler sampler(
      env,
      [&manager] {
        std::vector<int> pgids;
        for (const auto& w : manager.all_workers())
          if (int pid = w->pid()) pgids.push_back(pid);
        return pgids;
      },
      FromSeconds(config.memory.sample_seconds));
  ledger.attach(&sampler);  // before start: the first run's peak must not be missed
  sampler.start();
  scheduler.start();
  web::IoThreads io(sc.io_threads);
  // Each I/O thread's upstream pool drops the connections of a worker that is gone.
  auto pool_sub = events.subscribe([&io](const WorkerEvent& e) {
    if (e.kind != EventKind::kGone) return;
    for (int i = 0; i < io.size(); ++i)
      boost::asio::post(io.context(i), [&ctx = io.context(i), pid = e.pid] {
        boost::asio::use_service<web::UpstreamPool>(ctx).forget_pid(pid);
      });
  });

  ModelInfoCache model_info(blocking);
  model_info.prefetch(config.models);
  web::RouteContext rc;
  rc.manager = &manager;
  rc.control = control.get_executor();
  rc.memory = &sampler;
  rc.ledger = &ledger;
  rc.scheduler = &scheduler;
  rc.memory_config = config.memory;
  rc.clock = &clock;
  rc.server = sc;
  rc.version = opts.version;
  if (const char* ui = std::getenv("KITTY_UI_DIR")) rc.ui_dir = ui;
  rc.model_info = [&model_info](const ModelConfig& m) { return model_info.get(m); };
  // A reload re-reads the file and applies its models (control thread). What it cannot apply
  // (server:, memory:) is named in the answer; an invalid file changes nothing.
  Config running = config;
  auto reload = [&](bool force) -> Result<nlohmann::json> {
    if (!opts.reload_config) return MakeError("this kittyd cannot reload its config", ErrorCode::kUnsupported);
    auto next = opts.reload_config();
    if (!next) {
      spdlog::error("config reload failed; still running on the previous config:\n{}", next.error().message);
      return MakeError("config reload failed; kittyd keeps running on the previous config:\n" + next.error().message,
                       ErrorCode::kInvalidRequest);
    }
    ledger.set_models(next->models);
    model_info.prefetch(next->models);
    const auto outcome = manager.reload(next->models, force);
    const auto unapplied = UnappliedChanges(running, *next);
    for (const auto& k : unapplied) spdlog::warn("config reload: {} changed; it applies at kittyd's next start", k);
    running.models = next->models;
    WorkerEvent reloaded{EventKind::kConfigReloaded, "", 0, clock.now()};
    for (const auto& [id, what] : outcome) reloaded.message += (reloaded.message.empty() ? "" : ", ") + id + ": " + what;
    events.publish(reloaded);
    nlohmann::json models = nlohmann::json::object();
    for (const auto& [id, what] : outcome) models[id] = what;
    return nlohmann::json{{"config", next->path}, {"force", force}, {"models", models}, {"not_applied", unapplied}};
  };
  rc.reload = reload;
  rc.ollama = ollama.get();
  // Load durations for /metrics, as each worker becomes ready (its own figure of spawn → ready).
  RequestMetrics metrics;
  rc.metrics = &metrics;
  EventJournal journal(events, clock);
  rc.journal = &journal;
  auto load_sub = events.subscribe([&manager, &metrics](const WorkerEvent& e) {
    if (e.kind != EventKind::kReady) return;
    if (auto w = manager.find(e.model_id))
      if (auto s = w->info().load_seconds) metrics.load(w->id(), *s);
  });
  web::Router router(rc);

  web::ServerOptions so;
  so.host = sc.host;
  so.port = sc.port;
  so.max_body_bytes = sc.max_body_bytes;
  so.header_timeout = std::chrono::milliseconds(static_cast<int64_t>(sc.header_timeout_seconds * 1000));
  so.body_timeout = [sc](uint64_t bytes) {
    return std::chrono::milliseconds(static_cast<int64_t>(sc.BodyTimeout(bytes) * 1000));
  };
  so.keep_alive = std::chrono::milliseconds(static_cast<int64_t>(sc.keep_alive_seconds * 1000));
  so.max_connections = max_connections;
  web::HttpServer server(io, so, [&router](web::Exchange& ex) { return router.handle(ex); });
  if (Status st = server.listen(); !st) {
    spdlog::error("{}", st.error().message);
    return 1;
  }
  server.start();
  io.start();
  spdlog::info("kittyd {} listening on http://{}:{} with {} model(s) from {} ({} I/O threads)",
               opts.version, sc.host, server.port(), config.models.size(), config.path, io.size());
  for (const auto& m : config.models)
    spdlog::info("  model '{}' ({}), idle shutdown {}", m.id, BackendName(m.backend),
                 m.idle_shutdown_seconds > 0
                     ? std::to_string(static_cast<long>(m.idle_shutdown_seconds)) + "s"
                     : std::string("never"));

  // SIGTERM/SIGINT: stop accepting, stop every worker (requests in flight are cut; each group
  // gets SIGTERM, then SIGKILL at its stop deadline), then leave. A second signal kills every
  // group at once.
  boost::asio::signal_set signals(control, SIGTERM, SIGINT);
  boost::asio::signal_set hup(control, SIGHUP);  // reload the config
  bool stopping = false;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (stopping) {
          spdlog::warn("second signal: killing every worker now");
          manager.kill_all(nullptr, ErrorCode::kShuttingDown);
          signals.async_wait(on_signal);
          return;
        }
        stopping = true;
        spdlog::info("signal {}: stopping every worker", sig);
        router.set_shutting_down();
        server.stop();
        scheduler.stop();
        manager.release_all(
            /*force=*/true,
            [&] {
              // The workers first (their agents unload from Ollama), then a daemon kittyd started.
              auto leave = [&] {
                spdlog::info("all workers stopped; exiting");
                signals.cancel();
                hup.cancel();
                control.stop();
              };
              if (ollama) ollama->stop(leave);
              else leave();
            },
            ErrorCode::kShuttingDown);
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  std::function<void(const boost::system::error_code&, int)> on_hup = [&](const boost::system::error_code& ec, int) {
    if (ec || stopping) return;
    spdlog::info("SIGHUP: reloading the config");
    if (auto r = reload(false); r) spdlog::info("config reload: {}", r->dump());
    hup.async_wait(on_hup);
  };
  hup.async_wait(on_hup);

  if (ollama) ollama->start();
  manager.preload();
  control.run();
  io.stop();
  io.join();
  // The state file's queued writes land before it is removed.
  boost::asio::post(state_strand, [&state] {
    if (Status st = state.remove(); !st) spdlog::warn("state file: {}", st.error().message);
  });
  blocking.join();
  return 0;
}

}  // namespace kitty
