#include "kitty/backends/executable.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace kitty {

Status CheckExecutable(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return MakeError("does not exist");
    return MakeError(std::string("cannot be inspected: ") + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) return MakeError("is a directory");
  if (!S_ISREG(st.st_mode)) return MakeError("is not a regular file");
  if (access(path.c_str(), X_OK) != 0) return MakeError("is not executable");
  return Status::Ok();
}

Result<std::string> FindInPath(const std::string& name, const std::string& path_var) {
  size_t start = 0;
  while (start <= path_var.size()) {
    size_t end = path_var.find(':', start);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    if (CheckExecutable(candidate).ok()) return candidate;
    start = end + 1;
  }
  return MakeError("no '" + name + "' on PATH");
}

Result<std::string> FindEngineBinary(const std::string& name, const std::string& configured, const std::string& key,
                                     const std::string& env_var, const EnvLookup& env, const std::string& hint) {
  std::vector<std::string> tried;
  if (!configured.empty()) {
    Status st = CheckExecutable(configured);
    if (st.ok()) return configured;
    tried.push_back(key + " '" + configured + "' " + st.error().message);
  }
  if (auto v = env(env_var); v && !v->empty()) {
    Status st = CheckExecutable(*v);
    if (st.ok()) return *v;
    tried.push_back("$" + env_var + " '" + *v + "' " + st.error().message);
  } else {
    tried.push_back("$" + env_var + " is not set");
  }
  if (auto path = env("PATH"); path && !path->empty()) {
    auto found = FindInPath(name, *path);
    if (found.ok()) return found;
    tried.push_back("no '" + name + "' on PATH");
  } else {
    tried.push_back("no '" + name + "' on PATH ($PATH is not set)");
  }
  std::string msg = name + " not found: ";
  for (size_t i = 0; i < tried.size(); ++i) msg += (i ? "; " : "") + tried[i];
  return MakeError(msg + " (" + hint + ")", ErrorCode::kLaunchInvalid);
}

}  // namespace kitty
