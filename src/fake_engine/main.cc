// fake_engine: a scripted OpenAI-compatible LLM worker for kittyd's tests and benchmarks.
// See options.cc (or --help) for the script, server.h for the HTTP surface.
#include <utility>  // Boost 1.74's Asio coroutine headers need it first.

#include <unistd.h>

#include <boost/asio.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include "fake_engine/options.h"
#include "fake_engine/process_faults.h"
#include "fake_engine/server.h"

namespace asio = boost::asio;
using kitty::fake::ExitNow;

namespace {

// The simulated model load: ready once --load-ms has passed and --memory-mb is resident.
class Loader {
 public:
  Loader(asio::io_context& io, const kitty::fake::Options& o, kitty::fake::Server& server)
      : io_(io), options_(o), server_(server), load_timer_(io), fail_timer_(io) {}

  void Start() {
    if (options_.fail_on_start) {
      // A failing load still allocates first (--memory-mb), then gives up halfway.
      fail_timer_.expires_after(std::chrono::milliseconds(options_.load_ms / 2));
      fail_timer_.async_wait([this](boost::system::error_code) {
        const std::string& what = options_.model_path.empty() ? options_.model_id : options_.model_path;
        std::fprintf(stderr, "error: failed to load model '%s': fake failure\n", what.c_str());
        ExitNow(options_.exit_code.value_or(1));
      });
    } else {
      load_timer_.expires_after(std::chrono::milliseconds(options_.load_ms));
      load_timer_.async_wait([this](boost::system::error_code) {
        timer_done_ = true;
        MaybeReady();
      });
    }
    if (options_.memory_mb <= 0) {
      memory_done_ = true;
      return;
    }
    // Touching gigabytes takes a while; do it off the event loop so /health keeps answering.
    std::thread([this] {
      std::string error;
      const bool ok = kitty::fake::HoldResidentMemory(options_.memory_mb, &error);
      asio::post(io_, [this, ok, error] {
        if (!ok) {
          std::fprintf(stderr, "error: failed to allocate model memory: %s\n", error.c_str());
          ExitNow(1);
        }
        memory_done_ = true;
        MaybeReady();
      });
    }).detach();
  }

 private:
  void MaybeReady() {
    if (!timer_done_ || !memory_done_) return;
    server_.SetLoaded();
    std::printf(options_.never_healthy ? "fake_engine: loaded (but never healthy)\n"
                                       : "fake_engine: ready\n");
  }

  asio::io_context& io_;
  const kitty::fake::Options& options_;
  kitty::fake::Server& server_;
  asio::steady_timer load_timer_;
  asio::steady_timer fail_timer_;
  bool timer_done_ = false;
  bool memory_done_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // log lines reach a pipe as they happen
  int exit_code = 0;
  const std::optional<kitty::fake::Options> parsed = kitty::fake::ParseOptions(argc, argv, &exit_code);
  if (!parsed) return exit_code;
  const kitty::fake::Options& o = *parsed;
  if (!o.ignored_args.empty()) {
    std::string joined;
    for (const std::string& a : o.ignored_args) joined += " " + a;
    std::fprintf(stderr, "fake_engine: ignoring arguments:%s\n", joined.c_str());
  }

  std::signal(SIGPIPE, SIG_IGN);
  // Before the fork, so that the grandchild resists SIGTERM too.
  if (o.ignore_sigterm) std::signal(SIGTERM, SIG_IGN);
  if (o.fork_child) {
    std::string error;
    const pid_t child = kitty::fake::ForkSleeper(&error);
    if (child < 0) {
      std::fprintf(stderr, "error: %s\n", error.c_str());
      return 1;
    }
    std::printf("fake_engine: forked child pid=%d\n", static_cast<int>(child));
  }

  asio::io_context io{1};
  kitty::fake::Server server(io, o);
  std::string error;
  const uint16_t port = server.Listen(&error);
  if (port == 0) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  std::printf("fake_engine: listening on http://%s:%u model=%s pid=%d\n", o.host.c_str(),
              static_cast<unsigned>(port), o.model_id.c_str(), static_cast<int>(getpid()));

  asio::signal_set signals(io, SIGINT);
  if (!o.ignore_sigterm) signals.add(SIGTERM);
  signals.async_wait([](boost::system::error_code ec, int sig) {
    if (ec) return;  // only cancellation, which nothing does
    std::printf("fake_engine: signal %d, exiting\n", sig);
    ExitNow(0);
  });

  server.Start();
  Loader loader(io, o, server);
  loader.Start();
  io.run();
  ExitNow(0);  // the memory thread may still hold references into this frame
}
