// The embedded default configuration. Must stay byte-identical to config/default.yaml
// (default_config_test.cc checks it); edit both together.
#include "kitty/config/default_config.h"

namespace kitty {

std::string_view EmbeddedDefaultConfig() {
  static constexpr std::string_view kText = R"yaml(# kittyd's built-in configuration, used when no --config is given (also compiled into kittyd;
# src/kitty/config/default_config.cc must stay byte-identical to this file).
#
# It serves one real small model so that `kittyd` works out of the box once
# scripts/install_engine.sh has put llama-server and the model under ~/.cache/kitty.
# Override the paths with KITTY_LLAMA_SERVER and KITTY_TEST_MODEL.
server:
  listen: 127.0.0.1:7700

models:
  smollm2-135m:
    backend: llama_server
    aliases: [smol]
    model_path: ${KITTY_TEST_MODEL:-~/.cache/kitty/models/SmolLM2-135M-Instruct.Q4_1.gguf}
    llama_server_bin: ${KITTY_LLAMA_SERVER:-~/.cache/kitty/bin/llama-server}
    ctx: 2048
    threads: 2
    parallel: 2
    idle_shutdown_seconds: 300
)yaml";
  return kText;
}

}  // namespace kitty
