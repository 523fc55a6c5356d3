// kittyctl: the command line over kittyd's admin API (docs/API.md).
//
//   kittyctl [--url URL] [--api-key KEY] [--timeout S] <command> ...
//   ps [--json] | ensure ID [--reset] | release ID [--force] | release-all [--force]
//   reload [--force] | ollama status|restart | events [-f] [MODEL]
//   logs ID [-n N] [-f] | models [--json] | health
//   top [--interval S] [--once] [--json] | pin ID | unpin ID | priority ID N | headroom BYTES
//   service install|uninstall|status|print [--kittyd PATH] [--config PATH] [--no-start]
//
// Exit codes: 0 ok, 1 kittyd answered with an error (or a model failed, for health), 2 kittyd
// unreachable, 64 bad command line.
#include <CLI/CLI.hpp>
#include <chrono>
#include <exception>
#include <iostream>
#include <optional>
#include <string>

#include "kittyctl/commands.h"
#include "kittyctl/service.h"

namespace {

using namespace kitty::ctl;

constexpr double kLongTimeoutS = 600;   // ensure/release wait for a model to load or stop
constexpr double kShortTimeoutS = 10;   // everything else is answered at once
// top blocks Ctrl-C while it fetches (terminal.h Waiter), so a hung kittyd must not hold it long.
constexpr double kTopTimeoutS = 5;

int Main(int argc, char** argv) {
  CLI::App app{"kittyctl: control kittyd, the local model worker manager"};
  app.require_subcommand(1);
  app.fallthrough();  // global flags may also follow the command
  app.failure_message(CLI::FailureMessage::help);

  std::string url = "http://127.0.0.1:7700";
  std::string api_key;
  std::optional<double> timeout_s;
  app.add_option("--url", url, "kittyd's base URL")
      ->envname("KITTY_URL")
      ->capture_default_str();
  app.add_option("--api-key", api_key, "admin key, sent as 'Authorization: Bearer'")
      ->envname("KITTY_API_KEY");
  app.add_option("--timeout", timeout_s,
                 "seconds to wait for an answer (default 600 for ensure/release, 10 otherwise)")
      ->check(CLI::PositiveNumber);

  bool json = false;
  bool force = false;
  bool follow = false;
  int lines = 100;
  std::string model_id;

  auto* ps = app.add_subcommand("ps", "list the models' workers: status, pid, memory, idle time");
  ps->add_flag("--json", json, "print kittyd's JSON unchanged");

  auto* ensure = app.add_subcommand("ensure", "start a model if needed and wait until it is ready");
  ensure->add_option("ID", model_id, "model id or alias")->required();
  ensure->add_flag("--json", json, "print kittyd's JSON unchanged");
  bool reset = false;
  ensure->add_flag("--reset", reset,
                   "climb back to the top of the model's OOM downgrade ladder (restarts it once idle)");

  auto* reload = app.add_subcommand(
      "reload", "re-read kittyd's config file and apply it; prints what happened to each model");
  reload->add_flag("--force", force, "restart changed models now, cutting their requests in flight");
  reload->add_flag("--json", json, "print kittyd's JSON unchanged");

  auto* events = app.add_subcommand("events", "kittyd's lifecycle events (start, ready, evicted, crash, ...)");
  std::string events_model;
  bool events_follow = false;
  events->add_option("MODEL", events_model, "only this model's events");
  events->add_flag("-f,--follow", events_follow, "keep printing new events until Ctrl-C");
  events->add_flag("--json", json, "print each event's JSON");

  auto* ollama = app.add_subcommand("ollama", "the Ollama daemon kittyd watches (its `ollama:` section)");
  std::string ollama_op = "status";
  ollama->add_option("OP", ollama_op, "status (default) or restart (waits until it answers again)")
      ->check(CLI::IsMember({"status", "restart"}));
  ollama->add_flag("--json", json, "print kittyd's JSON unchanged");

  auto* release =
      app.add_subcommand("release", "stop a model and wait until its processes are gone");
  release->add_option("ID", model_id, "model id or alias")->required();
  release->add_flag("--force", force, "cut requests in flight instead of letting them finish");
  release->add_flag("--json", json, "print kittyd's JSON unchanged");

  auto* release_all = app.add_subcommand("release-all", "stop every model");
  release_all->add_flag("--force", force, "cut requests in flight instead of letting them finish");
  release_all->add_flag("--json", json, "print kittyd's JSON unchanged");

  auto* logs = app.add_subcommand("logs", "print a model's recent output");
  logs->add_option("ID", model_id, "model id or alias")->required();
  logs->add_option("-n,--lines", lines, "how many of the last lines")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  logs->add_flag("-f,--follow", follow, "keep printing new lines until Ctrl-C");

  auto* models = app.add_subcommand("models", "list the configured models (GET /v1/models)");
  models->add_flag("--json", json, "print kittyd's JSON unchanged");

  auto* health = app.add_subcommand(
      "health", "check kittyd and every model; exit 0 healthy, 1 a model failed, 2 unreachable");

  TopOptions top_options;
  auto* top = app.add_subcommand(
      "top", "a live view of models and memory, like top; q or Ctrl-C quits");
  top->add_option("-d,--interval", top_options.interval_s, "seconds between refreshes")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  top->add_flag("--once", top_options.once, "print one frame and exit");
  top->add_flag("--json", top_options.json,
                "print {\"workers\": [...], \"memory\": {...}} per refresh instead of the frame");

  auto* pin = app.add_subcommand("pin", "never evict or idle out a model (until unpin)");
  pin->add_option("ID", model_id, "model id or alias")->required();
  pin->add_flag("--json", json, "print kittyd's JSON unchanged");
  auto* unpin = app.add_subcommand("unpin", "let a pinned model be evicted and idled out again");
  unpin->add_option("ID", model_id, "model id or alias")->required();
  unpin->add_flag("--json", json, "print kittyd's JSON unchanged");

  int priority = 0;  // the daemon keeps an int: CLI11 refuses what would not fit
  auto* priority_cmd =
      app.add_subcommand("priority", "set a model's eviction priority (higher stays longer)");
  priority_cmd->add_option("ID", model_id, "model id or alias")->required();
  priority_cmd->add_option("N", priority, "the priority, an integer")->required();
  priority_cmd->add_flag("--json", json, "print kittyd's JSON unchanged");

  std::string bytes;
  auto* headroom = app.add_subcommand(
      "headroom", "make room for a job outside kittyd: evict models until BYTES are free");
  headroom->add_option("BYTES", bytes, "bytes (1073741824) or with a unit: 512MiB, 2GiB, 1.5GB")
      ->required();
  headroom->add_flag("--json", json, "print kittyd's JSON unchanged");

  ServiceOptions service_options;
  auto* service = app.add_subcommand(
      "service", "run kittyd as a user service: a systemd user unit (Linux), a launchd agent (macOS)");
  service->add_option("OP", service_options.op, "install, uninstall, status, or print (the file, to stdout)")
      ->required()
      ->check(CLI::IsMember({"install", "uninstall", "status", "print"}));
  service->add_option("--kittyd", service_options.kittyd, "the kittyd to run (default: the one beside kittyctl)");
  service->add_option("-c,--config", service_options.config, "kitty.yaml for it (default: the embedded config)");
  service->add_flag("--no-start", service_options.no_start, "install: write the file, do not load it");
  service->add_option("--system", service_options.system, "print: the file for linux or macos (default: this one)")
      ->check(CLI::IsMember({"linux", "macos"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, or the error with usage
    return code == 0 ? 0 : kExitUsage;
  }

  // A service is this machine's business, not kittyd's: no URL or key needed.
  if (service->parsed()) return RunService(service_options, argv[0]);
  // headroom stops models and waits for their memory to come back, as release does.
  const bool long_wait =
      ensure->parsed() || release->parsed() || release_all->parsed() || headroom->parsed() ||
      (ollama->parsed() && ollama_op == "restart");
  Context ctx;
  ctx.api_key = api_key;
  const double seconds = timeout_s.value_or(long_wait       ? kLongTimeoutS
                                            : top->parsed() ? kTopTimeoutS
                                                            : kShortTimeoutS);
  ctx.timeout = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  kitty::Result<BaseUrl> parsed_url = ParseBaseUrl(url);
  if (!parsed_url.ok()) {
    std::cerr << "kittyctl: " << parsed_url.error().message << std::endl;
    return kExitUsage;
  }
  ctx.url = *parsed_url;

  if (ps->parsed()) return RunPs(ctx, json);
  if (ensure->parsed()) return RunEnsure(ctx, model_id, reset, json);
  if (reload->parsed()) return RunReload(ctx, force, json);
  if (ollama->parsed()) return RunOllama(ctx, ollama_op, json);
  if (events->parsed()) return RunEvents(ctx, events_model, events_follow, json);
  if (release->parsed()) return RunRelease(ctx, model_id, force, json);
  if (release_all->parsed()) return RunReleaseAll(ctx, force, json);
  if (logs->parsed()) return RunLogs(ctx, model_id, lines, follow);
  if (models->parsed()) return RunModels(ctx, json);
  if (health->parsed()) return RunHealth(ctx);
  if (top->parsed()) return RunTop(ctx, top_options);
  if (pin->parsed()) return RunPin(ctx, model_id, /*pinned=*/true, json);
  if (unpin->parsed()) return RunPin(ctx, model_id, /*pinned=*/false, json);
  if (priority_cmd->parsed()) return RunPriority(ctx, model_id, priority, json);
  if (headroom->parsed()) return RunHeadroom(ctx, bytes, json);
  std::cerr << app.help() << std::flush;
  return kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // The one place exceptions are caught: nothing below is expected to throw (JSON is parsed
  // without exceptions), but an allocation failure should still end with a message.
  try {
    return Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "kittyctl: internal error: " << e.what() << std::endl;
    return kExitError;
  }
}
