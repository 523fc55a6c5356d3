#include "kitty/config/config.h"

#include <algorithm>
#include <cstdio>

#include "kitty/base/bytes.h"

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

std::optional<uint64_t> MemoryBudget::Resolve(uint64_t total) const {
  switch (kind) {
    case Kind::kAuto: return std::nullopt;
    case Kind::kBytes: return bytes;
    case Kind::kPercent: return static_cast<uint64_t>(static_cast<double>(total) * percent / 100.0);
  }
  return std::nullopt;
}

std::string MemoryBudget::Describe() const {
  switch (kind) {
    case Kind::kAuto: return "auto";
    case Kind::kBytes: return FormatBytes(bytes);
    case Kind::kPercent: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g%%", percent);
      return buf;
    }
  }
  return "?";
}

}  // namespace kitty
