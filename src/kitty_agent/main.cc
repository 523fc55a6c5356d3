// kitty-agent: see agent.h.
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "kitty/config/value_parse.h"
#include "kitty_agent/agent.h"

namespace kitty::agent {

std::atomic<bool> g_stop{false};

void Say(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vprintf(fmt, ap);
  va_end(ap);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

bool SleepOrStop(double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (g_stop) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return g_stop;
}

}  // namespace kitty::agent

namespace {

using namespace kitty::agent;

int Usage(const char* why) {
  std::fprintf(stderr,
               "kitty-agent: %s\n"
               "usage: kitty-agent ollama|remote --url URL --model NAME --port PORT [--host H]\n"
               "         [--pull | --modelfile FILE] [--lease SECONDS] [--poll SECONDS]\n"
               "(started by kittyd for models of backend ollama and remote; see docs/CONFIG.md)\n",
               why);
  return kExitStartFailed;
}

extern "C" void OnStop(int) { g_stop = true; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage("no kind given");
  Options o;
  o.kind = argv[1];
  if (o.kind != "ollama" && o.kind != "remote") return Usage(("unknown kind '" + o.kind + "'").c_str());
  std::string url;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        Usage((a + " needs a value").c_str());
        std::exit(kExitStartFailed);
      }
      return argv[++i];
    };
    auto seconds = [&]() {
      const std::string v = value();
      auto s = kitty::ParseDuration(v);
      if (!s || *s < 0) {
        Usage((a + ": not a duration: " + v).c_str());
        std::exit(kExitStartFailed);
      }
      return *s;
    };
    if (a == "--url") url = value();
    else if (a == "--model") o.model = value();
    else if (a == "--host") o.host = value();
    else if (a == "--port") o.port = std::atoi(value().c_str());
    else if (a == "--pull") o.pull = true;
    else if (a == "--modelfile") o.modelfile = value();
    else if (a == "--lease") o.lease_seconds = seconds();
    else if (a == "--poll") o.poll_seconds = seconds();
    else if (a == "--wait") o.wait_seconds = seconds();
    else return Usage(("unknown option " + a).c_str());
  }
  if (url.empty() || o.model.empty() || o.port <= 0) return Usage("--url, --model and --port are required");
  auto base = kitty::ParseHttpUrl(url);
  if (!base) return Usage(base.error().message.c_str());
  o.url = *base;
  if (const char* k = std::getenv("KITTY_REMOTE_API_KEY")) o.api_key = k;
  if (const char* b = std::getenv("KITTY_OLLAMA_BIN"); b && *b) o.ollama_bin = b;
  else o.ollama_bin = "ollama";

  struct sigaction sa{};
  sa.sa_handler = OnStop;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  HealthServer health;
  if (auto st = health.Start(o.host, o.port); !st.ok()) {
    Say("error: %s", st.error().message.c_str());
    return kExitStartFailed;
  }
  return o.kind == "ollama" ? RunOllama(o, health) : RunRemote(o, health);
}
