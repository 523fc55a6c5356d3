// kitty-agent: the process kittyd supervises for a model it does not run itself, so that such a
// model goes through the same lifecycle as any worker (start, ready, idle, hold, release,
// eviction, restart). Its start loads the model upstream, its health says whether the upstream
// still has it, and its stop unloads it; requests go straight to the upstream, never through
// the agent (LaunchPlan::upstream).
//
//   kitty-agent ollama --url U --model M --port P   a model inside an Ollama daemon
//   kitty-agent remote --url U --model M --port P   an OpenAI-compatible server (key from
//                                                   $KITTY_REMOTE_API_KEY)
//
// Exit codes: 0 stopped as asked; 2 could not start (the log says why); 3 the upstream
// unloaded the model on its own; 4 the upstream stopped answering.
#pragma once

#include <atomic>
#include <string>

#include "kitty_agent/health_server.h"
#include "kittyctl/http_client.h"

namespace kitty::agent {

inline constexpr int kExitStartFailed = 2;
inline constexpr int kExitEvicted = 3;
inline constexpr int kExitUpstreamGone = 4;

struct Options {
  std::string kind;  // "ollama" or "remote"
  ctl::BaseUrl url;
  std::string model;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string api_key;          // remote: from the environment, never argv
  bool pull = false;            // ollama: pull a missing model
  std::string modelfile;        // ollama: create a missing model from this Modelfile
  std::string ollama_bin;       // for `ollama create` ($KITTY_OLLAMA_BIN, else ollama on PATH)
  double lease_seconds = 300;   // ollama: the keep_alive kittyd renews while it wants the model
  double poll_seconds = 2;      // how often the upstream is checked
  double wait_seconds = 15;     // for the upstream to answer at start
  double gone_seconds = 10;     // no answer this long while ready: the upstream is gone
};

/// Set by SIGTERM/SIGINT: unload and exit.
extern std::atomic<bool> g_stop;

/// printf to stdout (kittyd's log of the worker), flushed: the log tail explains failures.
void Say(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

/// Sleeps up to `seconds`, returning early (true) once a stop was asked.
bool SleepOrStop(double seconds);

int RunOllama(const Options& o, HealthServer& health);
int RunRemote(const Options& o, HealthServer& health);

}  // namespace kitty::agent
