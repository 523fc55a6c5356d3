#include "kitty/config/config.h"

namespace kitty {

const char* BackendName(Backend b) {
  switch (b) {
    case Backend::kLlamaServer: return "llama_server";
    case Backend::kCommand: return "command";
    case Backend::kOllama: return "ollama";
  }
  return "unknown";
}

}  // namespace kitty
