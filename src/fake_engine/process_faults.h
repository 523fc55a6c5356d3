// Process-level behaviour fake_engine scripts: exiting, crashing, leaving a grandchild behind,
// holding real memory. POSIX only (the fake runs where kittyd's workers run: Linux and macOS).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace kitty::fake {

/// Flushes stdout/stderr and ends the process at once with `code` (no destructors: a worker that
/// exits is gone, whatever its threads were doing).
[[noreturn]] void ExitNow(int code);

/// Prints `why` to stderr and dies by SIGABRT without a core file: what a supervisor sees when an
/// engine crashes.
[[noreturn]] void CrashNow(std::string_view why);

/// Forks a child that sleeps until killed, in this process's group and holding its inherited file
/// descriptors (so a supervisor that only signals the leader, or waits for its log pipe to close,
/// is caught out). Returns the child's pid, or -1 with *error set.
pid_t ForkSleeper(std::string* error);

/// Maps `mb` MiB of anonymous memory and writes to every page so it counts in RSS. The memory is
/// never released. Blocks for as long as touching takes. Returns false with *error set on failure.
bool HoldResidentMemory(int64_t mb, std::string* error);

}  // namespace kitty::fake
