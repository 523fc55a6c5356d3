// macOS has no OOM-kill counter a process can read (jetsam kills are logged, not counted):
// a SIGKILL kittyd did not send is classed as a probable OOM kill, unconfirmed.
#include "kitty/process/oom_counts.h"

namespace kitty {

OomCounts ReadOomCounts() { return {}; }
OomCounts ReadOomCountsAt(const std::string&, const std::string&) { return {}; }

}  // namespace kitty
