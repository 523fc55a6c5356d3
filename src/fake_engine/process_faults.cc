#include "fake_engine/process_faults.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace kitty::fake {

void ExitNow(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  _exit(code);
}

void CrashNow(std::string_view why) {
  std::fprintf(stderr, "fake_engine: crashing: %.*s\n", static_cast<int>(why.size()), why.data());
  std::fflush(stdout);
  std::fflush(stderr);
  // Tests crash this process on purpose; keep them from littering core files.
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  std::signal(SIGABRT, SIG_DFL);
  std::abort();
}

pid_t ForkSleeper(std::string* error) {
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return -1;
  }
  if (pid == 0) {
    for (;;) pause();
  }
  return pid;
}

bool HoldResidentMemory(int64_t mb, std::string* error) {
  if (mb <= 0) return true;
  const size_t bytes = static_cast<size_t>(mb) << 20;
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    *error = "mmap " + std::to_string(mb) + " MiB: " + std::strerror(errno);
    return false;
  }
  const long page = sysconf(_SC_PAGESIZE);
  const size_t step = page > 0 ? static_cast<size_t>(page) : 4096;
  volatile char* bytes_ptr = static_cast<char*>(p);
  for (size_t off = 0; off < bytes; off += step) bytes_ptr[off] = 1;
  return true;
}

}  // namespace kitty::fake
