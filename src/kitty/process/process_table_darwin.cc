// ProcessTable on macOS. Reading another process's environment needs
// sysctl(KERN_PROCARGS2) (issue 13); until then environ_has() says it cannot tell, and orphan
// cleanup leaves every process alone and reports them as unchecked. Never guessed at.
#include <signal.h>

#include <cerrno>

#include "kitty/process/platform.h"
#include "kitty/process/process_table.h"

namespace kitty {
namespace {

class DarwinProcessTable : public ProcessTable {
 public:
  Result<std::vector<ProcessEntry>> list() override {
    return MakeError("listing processes is not implemented on this platform yet",
                     ErrorCode::kPlatformUnsupported);
  }
  bool running(int pid) override { return platform::ProcessRunning(pid); }
  Result<uint64_t> start_time(int pid) override { return platform::ProcessStartTime(pid); }
  Result<bool> environ_has(int, const std::string&) override {
    return MakeError("reading another process's environment is not implemented on this platform yet",
                     ErrorCode::kPlatformUnsupported);
  }
  bool kill(int pid, int sig) override { return ::kill(pid, sig) == 0; }
};

}  // namespace

std::unique_ptr<ProcessTable> MakeProcessTable() { return std::make_unique<DarwinProcessTable>(); }

}  // namespace kitty
