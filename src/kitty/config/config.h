// Typed configuration of kittyd, loaded from one YAML file (see config_loader.h).
// Plain data: owned by the daemon, read-only after loading.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kitty {

/// Where a value came from, for error messages: "kitty.yaml:12".
struct SourceMark {
  std::string file;
  int line = 0;  // 1-based; 0 when unknown (defaults, embedded config)
  std::string str() const { return line > 0 ? file + ":" + std::to_string(line) : file; }
};

enum class Backend {
  kLlamaServer,  // llama.cpp's llama-server ("llama_server"; the seed's "llama_worker")
  kCommand,      // any OpenAI-compatible server from an argv template ("command")
  kOllama,       // a model inside an Ollama daemon ("ollama"; the seed's path)
  kRemote,       // an OpenAI-compatible server kittyd never starts or stops ("remote")
  kMlx,          // Apple's MLX through mlx_lm.server (seed 004; "mlx")
};
const char* BackendName(Backend b);

/// One rung of a model's OOM downgrade ladder (seed 002's gpu → cpu_offload → cpu_only): the
/// keys it overrides over the model's own; the rest stay.
struct ModelRung {
  std::optional<int> threads, ngl, ctx, batch, ubatch, parallel;
  std::optional<bool> flash_attn;
  std::optional<uint64_t> memory_bytes;
  std::optional<std::vector<std::string>> extra_args;
  std::string text;  // as written, for status and logs: "{ngl: 0, ctx: 4096}"
};

struct ModelConfig {
  std::string id;
  Backend backend = Backend::kLlamaServer;
  SourceMark mark;  // the line of the model's entry

  // Gateway names that route to this model besides its id. `alias` (llama-server's --alias)
  // is routed too.
  std::vector<std::string> aliases;

  // Where the worker listens. port == 0 means "auto": a free port from server.auto_ports.
  std::string host = "127.0.0.1";
  int port = 0;

  // llama_server keys (seed 001 §3.3): each maps to a llama-server flag when set.
  std::string model_path;
  std::string llama_server_bin;  // empty: defaults.llama_server_bin, then llama-server on PATH
  std::string mlx_server_bin;    // backend mlx: empty: $KITTY_MLX_SERVER, then mlx_lm.server on PATH
  std::optional<int> threads, ngl, ctx, batch, ubatch, parallel;
  std::optional<bool> flash_attn;
  bool jinja = false;
  std::string mmproj;
  std::string alias;
  std::vector<std::string> extra_args;

  // command backend: argv template with ${PORT} ${HOST} ${MODEL_PATH} ${MODEL_ID} ${THREADS} ${CTX}.
  std::vector<std::string> command;
  bool shell = false;  // run `command` through /bin/sh -c (only when the config asks for it)

  // ollama backend: the model's name in Ollama, the daemon's URL, and what to do when Ollama
  // does not have it (pull it from its registry, or create it from a Modelfile).
  std::string ollama_model;
  std::string ollama_url = "http://127.0.0.1:11434";
  bool ollama_pull = false;
  std::string ollama_modelfile;

  // remote backend: the server's base URL (http://host:port[/prefix]), the model name it knows
  // (default: the id), and the environment variable holding its API key (never the key itself).
  std::string remote_url;
  std::string remote_model;
  std::string remote_api_key_env;

  // Process environment and working directory of the worker.
  std::map<std::string, std::string> env;
  std::string cwd;

  // Probing and stopping.
  std::string health_path = "/health";
  std::string shutdown_path;  // e.g. "/shutdown": POSTed before SIGTERM when set

  // Memory (issue 9). `memory_bytes` is the expected footprint when set (a `command` model's
  // only estimate; for llama-server it overrides the GGUF estimate). A pinned model is never
  // evicted nor idled out; a pressure_evict_only one is never idled out and goes only for room
  // or under pressure; a higher priority stays longer.
  std::optional<uint64_t> memory_bytes;
  bool pinned = false;
  bool pressure_evict_only = false;
  int priority = 0;

  // Lifecycle (seconds). idle_shutdown_seconds == 0 means never idle out.
  double idle_shutdown_seconds = 900;
  double stop_timeout_seconds = 10;
  double start_timeout_seconds = 600;
  bool preload = false;

  // Restarts after an end kittyd did not ask for (issue 10). kDefault: on-crash for pinned,
  // preload and pressure_evict_only models, never for the rest (their next request starts them).
  enum class Restart { kDefault, kNever, kOnCrash, kAlways };
  Restart restart = Restart::kDefault;
  int max_restarts = 3;  // consecutive failed restarts before giving up (state failed)
  // Liveness of a ready worker: its health path every interval (0: never); this many failures
  // in a row while it serves no request mean it is hung (killed, restarted by policy).
  double liveness_interval_seconds = 10;
  int liveness_failures = 3;
  // A request that gets no byte from its worker for this long means the worker is hung: it is
  // killed, the client gets 502 worker_hung, and the restart policy follows. 0 (the default):
  // off, since a non-streamed generation sends nothing until it is done.
  double busy_timeout_seconds = 0;

  // Models that serve this one's requests while it is failed, backing off or cannot fit; in
  // order, then their own fallbacks, never one twice (issue 10).
  std::vector<std::string> fallback;
  // The OOM downgrade ladder: each OOM kill steps one rung down, `ensure --reset` climbs back.
  std::vector<ModelRung> downgrade;
  int rung = 0;  // the rung this config is at (0: as configured); see AtRung
};

/// `base` with the overrides of its downgrade rung `rung` (1-based; 0 returns base) applied.
ModelConfig AtRung(const ModelConfig& base, int rung);

/// What a reload does when a model's config goes from `a` to `b`: nothing; apply it to the
/// running worker (names, policy, timeouts); or restart the worker (what it runs changed).
enum class ConfigChange { kNone, kLive, kRestart };
ConfigChange CompareModels(const ModelConfig& a, const ModelConfig& b);

// Below Linux's ephemeral range (32768-60999), so a client connection's local port never
// holds a worker's port.
struct PortRange {
  int first = 29000;
  int last = 29999;
};

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 7700;
  std::vector<std::string> api_keys;    // gateway routes; empty = open
  std::vector<std::string> admin_keys;  // admin routes; empty = open
  uint64_t max_body_bytes = 32ull << 20;
  bool log_bodies = false;  // request bodies are never logged unless this is set
  // GET /metrics without the admin key: for scrapers that cannot send one (the inference
  // gateway's endpoint picker). It shows model names and memory, never requests.
  bool open_metrics = false;
  PortRange auto_ports;
  std::string logs_dir;   // per-worker logs; default: $XDG_STATE_HOME/kitty/logs or ~/.local/state/kitty/logs
  std::string state_dir;  // daemon state file (orphan cleanup); default: alongside logs

  // Slow or hostile clients must not hold connections for long (issue 8: 1,000 half-sent
  // requests used to hold 1,000 fds for 300 s each).
  double header_timeout_seconds = 10;  // for a request's whole header to arrive
  double body_timeout_seconds = 10;    // for its body, per MiB of declared size: see BodyTimeout
  double keep_alive_seconds = 300;     // an idle keep-alive connection is closed after this
  int max_connections = 16384;         // concurrent client connections
  int io_threads = 0;                  // the gateway's I/O threads; 0 = cores - 1 (at least 1)

  /// Seconds allowed for a body of `bytes` (its declared length): body_timeout_seconds per
  /// MiB, the MiB rounded up, at least one (an empty body gets one).
  double BodyTimeout(uint64_t bytes) const;
};

/// A memory budget: fixed bytes, a percentage of the total (RAM, unified memory, or a GPU's), or
/// "auto": what is available at each decision minus the reserve.
struct MemoryBudget {
  enum class Kind { kAuto, kBytes, kPercent };
  Kind kind = Kind::kAuto;
  uint64_t bytes = 0;
  double percent = 0;
  /// The budget for a machine (or GPU) of `total` bytes; nullopt for auto.
  std::optional<uint64_t> Resolve(uint64_t total) const;
  /// "auto", "20 GiB", "80%".
  std::string Describe() const;
};

/// Thresholds of the pressure monitor (seed 002's defaults).
struct PressureConfig {
  double ram_percent = 90;   // RAM (or the cgroup's limit) in use
  double gpu_percent = 85;   // a GPU's memory in use
  double cpu_percent = 80;   // CPU busy, sustained for cpu_seconds
  double cpu_seconds = 30;
  uint64_t disk_free_min_bytes = 2ull << 30;  // free space under state_dir and logs_dir
};

struct MemoryConfig {
  MemoryBudget budget;                    // for the workers, RAM (unified memory on a Mac)
  uint64_t reserve_bytes = 1ull << 30;    // never handed to workers (auto budgets)
  std::vector<MemoryBudget> gpu_budgets;  // per GPU index; absent = auto
  int max_models = 0;                     // running at once; 0 = no limit (seed 004's pool size)
  double wait_seconds = 60;      // a start waits this long for busy models to free room
  double recovery_seconds = 10;  // after a stop for room, for GPU memory to show as free
  double sample_seconds = 2;     // how often workers' and the machine's memory are read
  PressureConfig pressure;
};

/// The Ollama daemon under kittyd's watch (seed 003): its health is read every
/// health_interval_seconds and classed by how long /api/version takes to answer; when it is down
/// and `manage` is set kittyd restarts it, at most max_restarts_per_hour times.
struct OllamaConfig {
  bool configured = false;  // an `ollama:` section was given
  std::string url = "http://127.0.0.1:11434";
  bool manage = false;  // start it when absent, restart it when down
  std::string bin = "ollama";  // `ollama serve` when start_command is empty
  std::vector<std::string> start_command;  // e.g. [systemctl, --user, restart, ollama]
  bool shell = false;                      // run start_command through /bin/sh -c
  std::map<std::string, std::string> env;  // for a daemon kittyd starts (OLLAMA_MODELS, ...)
  double health_interval_seconds = 30;
  double unhealthy_seconds = 5;  // slower than this: unhealthy
  double down_seconds = 15;      // slower than this, or no answer: down
  int max_restarts_per_hour = 3;
  double start_timeout_seconds = 60;  // for a restarted daemon to answer again
};

struct Config {
  std::string path;  // the file it came from ("<embedded default>" for the built-in one)
  ServerConfig server;
  MemoryConfig memory;
  OllamaConfig ollama;
  std::vector<ModelConfig> models;  // in file order

  const ModelConfig* find(const std::string& id) const {
    for (const auto& m : models)
      if (m.id == id) return &m;
    return nullptr;
  }
};

}  // namespace kitty
