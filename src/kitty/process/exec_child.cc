#include "kitty/process/exec_child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "kitty/process/platform.h"
#include "kitty/process/posix_spawner.h"

extern char** environ;

namespace kitty {
namespace {

bool IsExecutableFile(const std::string& path, int* err) {
  struct stat sb;
  if (stat(path.c_str(), &sb) != 0) return false;
  if (!S_ISREG(sb.st_mode)) return false;
  if (access(path.c_str(), X_OK) != 0) {
    *err = errno;
    return false;
  }
  return true;
}

}  // namespace

Result<std::string> ResolveExecutable(const std::string& name, const std::string& path_env) {
  if (name.find('/') != std::string::npos) return name;
  int err = ENOENT;
  size_t start = 0;
  for (;;) {
    size_t colon = path_env.find(':', start);
    std::string dir = path_env.substr(start, colon == std::string::npos ? colon : colon - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    if (IsExecutableFile(candidate, &err)) return candidate;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (err == EACCES) return MakeError("cannot execute '" + name + "': Permission denied", ErrorCode::kExecFailed);
  return MakeError("cannot execute '" + name + "': not found in PATH", ErrorCode::kExecFailed);
}

ExecPlan MakeExecPlan(const SpawnSpec& spec, const std::string& path, const std::string& token) {
  ExecPlan plan;
  plan.path = path;
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : spec.env) env[k] = v;
  env[kDaemonTokenEnv] = token;
  for (const auto& [k, v] : env) plan.env_storage.push_back(k + "=" + v);
  plan.argv_storage = spec.argv;
  for (auto& s : plan.argv_storage) plan.argv.push_back(s.data());
  plan.argv.push_back(nullptr);
  for (auto& s : plan.env_storage) plan.envp.push_back(s.data());
  plan.envp.push_back(nullptr);
  return plan;
}

void ChildMain(const ExecPlan& plan, const char* cwd, int devnull, int out_w,
                            int err_w, pid_t parent, int max_fd) {
  auto fail = [err_w](ChildFailure::Stage stage) {
    ChildFailure f{stage, errno};
    ssize_t n;
    do n = write(err_w, &f, sizeof f);
    while (n < 0 && errno == EINTR);
    _exit(127);
  };
  // The daemon's signal dispositions and mask are not the worker's business.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < 32; ++s)
    if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, nullptr);

  setpgid(0, 0);
  if (!platform::ChildSetParentDeathSignal(parent)) _exit(1);
  if (dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 || dup2(out_w, 2) < 0) fail(ChildFailure::kStdio);
  if (cwd && chdir(cwd) != 0) fail(ChildFailure::kChdir);
  platform::ChildCloseFdsExcept(err_w, max_fd);
  execve(plan.path.c_str(), plan.argv.data(), plan.envp.data());
  fail(ChildFailure::kExec);
  _exit(127);
}


}  // namespace kitty
