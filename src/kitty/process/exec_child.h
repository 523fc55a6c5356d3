// Preparing and running a worker's child process between fork() and exec(): the executable
// looked up before the fork, argv and environment laid out so the child only makes syscalls,
// and the child's side, which reports a failed exec through a close-on-exec pipe. Internal to
// PosixSpawner.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "kitty/base/result.h"
#include "kitty/process/spawner.h"

namespace kitty {

// What the child reports through the CLOEXEC pipe when it cannot exec.
struct ChildFailure {
  enum Stage : int { kExec = 1, kChdir = 2, kStdio = 3 } stage;
  int err;
};

/// argv[0] through PATH, as execvp would, but before fork so the child need not search.
Result<std::string> ResolveExecutable(const std::string& name, const std::string& path_env);

// Everything the child needs, laid out before fork() so that the child only makes syscalls.
struct ExecPlan {
  std::string path;
  std::vector<std::string> argv_storage, env_storage;
  std::vector<char*> argv, envp;
};

/// kittyd's environment, the spec's additions and the daemon token, with argv, for execve.
ExecPlan MakeExecPlan(const SpawnSpec& spec, const std::string& path, const std::string& token);

/// Runs in the forked child: async-signal-safe calls only, never returns. Own process group,
/// parent-death signal, stdio to `devnull`/`out_w`, cwd, every other descriptor closed, exec.
[[noreturn]] void ChildMain(const ExecPlan& plan, const char* cwd, int devnull, int out_w,
                            int err_w, pid_t parent, int max_fd);

}  // namespace kitty
