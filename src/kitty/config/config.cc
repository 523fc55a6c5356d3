#include "kitty/config/config.h"

#include <algorithm>

namespace kitty {

const char* BackendName(Backend b) {
  switch (b) {
    case Backend::kLlamaServer: return "llama_server";
    case Backend::kCommand: return "command";
    case Backend::kOllama: return "ollama";
  }
  return "unknown";
}

double ServerConfig::BodyTimeout(uint64_t bytes) const {
  constexpr uint64_t kMiB = 1ull << 20;
  const uint64_t mib = std::max<uint64_t>(1, bytes / kMiB + (bytes % kMiB != 0));
  // Callers turn this into a std::chrono deadline, whose nanoseconds overflow after ~292
  // years; a huge declared length must not wrap around to a deadline in the past.
  constexpr double kMaxSeconds = 1e9;
  return std::min(kMaxSeconds, static_cast<double>(mib) * body_timeout_seconds);
}

}  // namespace kitty
