// Finding and checking the programs a backend launches, the way the spawner will exec them:
// a name with a '/' is a path (relative to the worker's cwd when it has one), a bare name is
// looked up in PATH. Reads the filesystem only.
#pragma once

#include <string>

#include "kitty/base/result.h"
#include "kitty/config/env_expand.h"

namespace kitty {

/// Ok when `path` is a regular file this process may execute; otherwise the reason, phrased to
/// follow a subject: "does not exist", "is a directory", "is not executable".
Status CheckExecutable(const std::string& path);

/// The first "<dir>/<name>" in the colon-separated `path_var` that is an executable file
/// (empty entries mean "."), or an error "no '<name>' on PATH".
Result<std::string> FindInPath(const std::string& name, const std::string& path_var);

/// An engine's binary: the path the config key `key` gives (`configured`, when set), else
/// $`env_var`, else `name` on PATH; a place that does not hold an executable falls through to the
/// next. The error (launch_invalid) is "<name> not found: " with every place looked at, then `hint`.
Result<std::string> FindEngineBinary(const std::string& name, const std::string& configured, const std::string& key,
                                     const std::string& env_var, const EnvLookup& env, const std::string& hint);

}  // namespace kitty
