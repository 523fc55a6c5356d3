// ProcessTable on macOS: the process list and BSD info from libproc, another process's
// environment from sysctl(KERN_PROCARGS2), all through darwin::ProcApi (darwin_proc.h, whose
// logic is tested on Linux with a fake). A process whose environment cannot be read (another
// user's) is reported as such: orphan cleanup then leaves it alone. Never guessed at.
#include <signal.h>

#include "kitty/process/darwin_proc.h"
#include "kitty/process/platform.h"
#include "kitty/process/process_table.h"

namespace kitty {
namespace {

class DarwinProcessTable : public ProcessTable {
 public:
  Result<std::vector<ProcessEntry>> list() override {
    auto pids = api_->all_pids();
    if (!pids.ok()) return pids.error();
    std::vector<ProcessEntry> out;
    for (int pid : *pids) {
      if (pid <= 0) continue;
      auto info = api_->bsd_info(pid);
      if (!info || info->zombie) continue;
      out.push_back({pid, info->pgid, info->command});
    }
    return out;
  }
  bool running(int pid) override { return platform::ProcessRunning(pid); }
  Result<uint64_t> start_time(int pid) override { return darwin::StartTime(*api_, pid); }
  Result<bool> environ_has(int pid, const std::string& entry) override {
    auto args = api_->procargs(pid);
    if (!args.ok()) return args.error();
    return darwin::ProcArgsEnvironHas(*args, entry);
  }
  bool kill(int pid, int sig) override { return ::kill(pid, sig) == 0; }

 private:
  std::unique_ptr<darwin::ProcApi> api_ = darwin::MakeProcApi();
};

}  // namespace

std::unique_ptr<ProcessTable> MakeProcessTable() { return std::make_unique<DarwinProcessTable>(); }

}  // namespace kitty
