// Loads kitty.yaml into a Config and validates it before anything starts.
//
// Sections: `server`, `defaults` (any model-level key; applies to every model that does not
// set it; `env` maps are merged, model entries win) and `models` (id → model keys). The seed's
// models.yaml loads unchanged (`backend: llama_worker` is llama_server). Every string value is
// expanded with ${VAR} / ${VAR:-default} / $$ from the environment, except the launch
// placeholders the command backend fills (${PORT} ${HOST} ${MODEL_PATH} ${MODEL_ID}
// ${THREADS} ${CTX}); path-like values also get a leading "~/" expanded. A model's `alias`
// (llama-server's --alias) is also appended to its `aliases`, so `aliases` lists every name
// besides the id that routes to it. Relative paths are kept as written (kittyd's cwd).
//
// Errors: all problems are collected, one per line, each "file:line: key.path: message", e.g.
//   kitty.yaml:7: models.qwen_32b.treads: unknown key (did you mean 'threads'?)
// and returned as one Error with code kConfigInvalid (kFileNotFound when the file is missing). A YAML syntax
// error names the line where an unclosed bracket or quote opened as well as where parsing
// stopped; a second YAML document in the file is an error (see yaml_document.h).
#pragma once

#include <string>
#include <string_view>

#include "kitty/base/result.h"
#include "kitty/config/config.h"
#include "kitty/config/env_expand.h"

namespace kitty {

/// Command-line settings that replace the file's. Each goes through the parser and checks of
/// the key it replaces (and the checks across keys, e.g. a model's fixed port against kittyd's
/// own); its errors name the flag: "--listen: expected \"host:port\" ...".
struct ConfigOverrides {
  std::string listen;  // kittyd --listen HOST:PORT, for server.listen; empty: none
};

/// Reads and loads the file at `path` (a regular file of at most 4 MiB holding one YAML
/// document, see config_file.h); errors name it as given.
Result<Config> LoadConfigFile(const std::string& path, const ConfigOverrides& overrides = {});

/// Loads YAML text; `name` is used in error messages and as Config::path.
Result<Config> LoadConfigString(std::string_view yaml, const std::string& name,
                                const ConfigOverrides& overrides = {});

/// As above with an explicit environment (tests; ${VAR}, HOME, KITTY_STATE_DIR, XDG_STATE_HOME).
Result<Config> LoadConfigString(std::string_view yaml, const std::string& name, const EnvLookup& env,
                                const ConfigOverrides& overrides = {});

/// Default server.state_dir: $KITTY_STATE_DIR, else $XDG_STATE_HOME/kitty, else
/// ~/.local/state/kitty. The default logs_dir is "<state_dir>/logs".
Result<std::string> DefaultStateDir(const EnvLookup& env);

/// The keys a model (or `defaults:`) may set, and those of `server:`, in documentation order.
const std::vector<std::string_view>& ModelKeys();
const std::vector<std::string_view>& ServerKeys();

}  // namespace kitty
