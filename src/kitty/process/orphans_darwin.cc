// macOS: no /proc to read other processes' environments from; orphan cleanup would need
// sysctl(KERN_PROCARGS2). Until then the previous instance's workers are left alone (never
// guessed at), and the caller logs the error.
#include "kitty/process/orphans.h"
#include "kitty/process/state_file.h"

namespace kitty {

Result<CleanupReport> CleanupOrphans(const std::string& state_path, const std::string& my_token) {
  CleanupReport report;
  auto state = ReadStateFile(state_path);
  if (!state.ok()) {
    if (state.error().code == ErrorCode::kFileNotFound) return report;
    return state.error();
  }
  if (state->token == my_token || state->workers.empty()) return report;
  return MakeError("orphan cleanup is not implemented on this platform; " +
                       std::to_string(state->workers.size()) +
                       " worker(s) of the previous kittyd may still run",
                   ErrorCode::kPlatformUnsupported);
}

}  // namespace kitty
