// kittyd: loads the config (or the embedded default), then runs the daemon.
#include <signal.h>
#include <stdlib.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "kitty/config/config_loader.h"
#include "kitty/config/default_config.h"
#include "kitty/daemon/daemon.h"
#include "kitty/daemon/log_format.h"

#ifndef KITTY_VERSION
#define KITTY_VERSION "0.1.0"
#endif

int main(int argc, char** argv) {
  CLI::App app{"kittyd: runs each local LLM in its own worker process, on demand"};
  std::string config_path, listen, log_level = "info", log_format = "text";
  bool check = false, print_default = false;
  app.add_option("-c,--config", config_path, "kitty.yaml to load (default: the embedded config)");
  app.add_option("--listen", listen, "override server.listen, e.g. 127.0.0.1:7700");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-format", log_format,
                 "text, or json: one JSON object per line, request lines with their fields as keys")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--check", check, "validate the config and exit");
  app.add_flag("--print-default-config", print_default, "print the embedded config and exit");
  app.set_version_flag("--version", KITTY_VERSION);
  CLI11_PARSE(app, argc, argv);

  spdlog::set_level(spdlog::level::from_str(log_level));
  kitty::SetLogFormat(kitty::ParseLogFormat(log_format).value());
  signal(SIGPIPE, SIG_IGN);

  if (print_default) {
    std::cout << kitty::EmbeddedDefaultConfig();
    return 0;
  }
  // --listen goes through server.listen's own parser and checks (a model on that port is an
  // error too); its problems are reported with the file's.
  const kitty::ConfigOverrides overrides{listen};
  // The same read at start and at every reload (SIGHUP, POST /kitty/config/reload).
  auto load = [config_path, overrides] {
    return config_path.empty() ? kitty::LoadConfigString(kitty::EmbeddedDefaultConfig(),
                                                         kitty::kEmbeddedDefaultName, overrides)
                               : kitty::LoadConfigFile(config_path, overrides);
  };
  auto config = load();
  if (!config) {
    std::cerr << "kittyd: invalid configuration:\n" << config.error().message << "\n";
    return 2;
  }
  if (check) {
    std::cout << "kittyd: " << config->path << ": OK (" << config->models.size() << " models)\n";
    return 0;
  }
  // kitty-agent (ollama and remote models) is looked for beside this binary.
  std::string agent;
  if (char* self = realpath(argv[0], nullptr)) {
    const std::string path(self);
    free(self);
    agent = path.substr(0, path.rfind('/') + 1) + "kitty-agent";
  }
  return kitty::RunDaemon(*config, {KITTY_VERSION, load, agent});
}
