#include "fake_engine/options.h"

#include <CLI/CLI.hpp>

namespace kitty::fake {

std::optional<Options> ParseOptions(int argc, char** argv, int* exit_code) {
  Options o;
  CLI::App app{"fake_engine: a scripted OpenAI-compatible LLM worker for tests and benchmarks"};
  // llama-server flags we do not know (-c, -ngl, --jinja, ...) are tolerated, not fatal.
  app.allow_extras();
  app.add_option("--host", o.host, "address to listen on")->capture_default_str();
  app.add_option("--port", o.port, "port to listen on (0 = any free port)")
      ->envname("KITTY_PORT")
      ->required();
  app.add_option("--model-id,-a,--alias", o.model_id, "model id reported by the API")
      ->envname("KITTY_MODEL_ID")
      ->capture_default_str();
  app.add_option("-m,--model", o.model_path, "model path (only quoted in messages)")
      ->envname("KITTY_MODEL_PATH");
  app.add_option("--load-ms", o.load_ms, "simulated model load time; /health is 503 meanwhile")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--memory-mb", o.memory_mb, "allocate and touch this many MiB while loading")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--token-ms", o.token_ms, "delay before each generated token")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--tokens", o.tokens, "tokens per answer (requests may ask fewer)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--fail-on-start", o.fail_on_start, "print an error and exit 1 after load-ms/2");
  app.add_flag("--ignore-sigterm", o.ignore_sigterm, "ignore SIGTERM (only SIGKILL stops it)");
  app.add_flag("--hang-on-shutdown", o.hang_on_shutdown, "POST /shutdown never answers");
  app.add_option("--crash-after", o.crash_after,
                 "abort after this many completed completion/chat requests (0 = never)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--hang-after", o.hang_after,
                 "after this many completed completion/chat requests, answer nothing more (health "
                 "included) while keeping every socket open (0 = never)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--exit-code", o.exit_code,
                 "exit status of --fail-on-start (default 1), and of --crash-after/--crash-mid-stream "
                 "instead of SIGABRT")
      ->check(CLI::Range(0, 255));
  app.add_flag("--crash-mid-stream", o.crash_mid_stream,
               "abort halfway through every completion/chat answer");
  app.add_flag("--fork-child", o.fork_child,
               "fork a grandchild that sleeps forever in the same process group");
  app.add_flag("--never-healthy", o.never_healthy, "GET /health always answers 503");
  app.add_flag("--log-requests", o.log_requests, "print one line per request to stdout");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    *exit_code = app.exit(e);
    return std::nullopt;
  }
  o.ignored_args = app.remaining();
  return o;
}

}  // namespace kitty::fake
