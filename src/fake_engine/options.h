// Command-line options of fake_engine: what the fake worker is scripted to do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kitty::fake {

/// Everything a test or benchmark can script. The defaults make a well-behaved, instant worker.
struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 = any free port (the startup line names it)
  std::string model_id = "fake";
  std::string model_path;  // only quoted in messages, like llama-server's -m
  int64_t load_ms = 0;
  int64_t memory_mb = 0;
  int64_t token_ms = 0;
  int tokens = 16;
  bool fail_on_start = false;
  bool ignore_sigterm = false;
  bool hang_on_shutdown = false;
  int64_t crash_after = 0;  // 0 = never
  int64_t hang_after = 0;   // 0 = never; else stop answering anything after this many answers
  /// How faults end: --fail-on-start exits with it (default 1); crashes exit with it instead of
  /// aborting (SIGABRT) when it is set.
  std::optional<int> exit_code;
  bool crash_mid_stream = false;
  bool fork_child = false;
  bool never_healthy = false;
  bool log_requests = false;
  /// Arguments no flag claimed (e.g. llama-server's --ctx-size 4096), so that the fake can stand in
  /// for llama-server on a command line written for it. main() reports them on stderr.
  std::vector<std::string> ignored_args;
};

/// Parses argv (flags documented by --help). Returns nullopt after --help or a bad flag, with
/// the process exit code in *exit_code (0 for --help). Never throws.
std::optional<Options> ParseOptions(int argc, char** argv, int* exit_code);

}  // namespace kitty::fake
