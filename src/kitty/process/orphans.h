// Orphan cleanup: after a daemon crash (SIGKILL, OOM kill, power of the process), its workers
// may still run and hold gigabytes. At start, BEFORE spawning anything and after taking the
// daemon lock (daemon_lock.h), the new daemon reads the previous instance's state file
// (state_file.h) and kills what that instance started.
//
// A process is killed only if its environment carries KITTY_DAEMON_TOKEN=<previous token>: a
// pid or process group id that was reused by another program is never touched. Where the
// platform cannot tell (ProcessTable errors), nothing is killed: the recorded workers are
// reported as unchecked, and the daemon starts anyway (never refuse to start over cleanup).
#pragma once

#include <string>
#include <vector>

#include "kitty/base/result.h"
#include "kitty/process/process_table.h"
#include "kitty/process/state_file.h"

namespace kitty {

struct KilledOrphan {
  std::string model_id;  // from the state file; empty for a token-bearing stray outside it
  int pid = 0;
  int pgid = 0;
  std::string command;  // the process name, for the log
};

struct CleanupReport {
  bool had_state = false;   // a previous state file existed
  int previous_pid = 0;     // the previous daemon's pid
  std::vector<KilledOrphan> killed;
  std::vector<int> survivors;           // SIGKILLed but still present after the wait
  std::vector<RecordedWorker> unchecked;  // recorded workers we could not check
  std::string unchecked_why;              // why (the platform's message)
};

/// Kills the previous daemon instance's workers recorded in `state_path`. No state file: an
/// empty report. The only error is kAlreadyRunning, when the recorded daemon still runs (same
/// pid and start time); every other problem is in the report. Blocks up to about 2 s waiting
/// for killed processes to disappear.
Result<CleanupReport> CleanupOrphans(const std::string& state_path, const std::string& my_token,
                                     ProcessTable& table);

/// CleanupOrphans with this platform's table, logging what it did. Returns an error only when
/// the daemon must not start (another one runs on this state dir).
Status CleanUpAfterPredecessor(const std::string& state_path, const std::string& my_token,
                               ProcessTable& table);

}  // namespace kitty
