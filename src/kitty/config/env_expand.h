// Load-time expansion of ${VAR} / ${VAR:-default} / $$ in config strings, and of a leading
// "~/" in path-like values. Pure functions: the environment comes in as a lookup.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "kitty/base/result.h"

namespace kitty {

/// Returns the value of an environment variable, or nullopt when it is unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

/// The process environment (getenv).
EnvLookup ProcessEnv();

/// True for the placeholders the command backend fills at launch (PORT, HOST, MODEL_PATH,
/// MODEL_ID, THREADS, CTX); ExpandEnv leaves `${NAME}` / `${NAME:-x}` of these untouched.
bool IsLaunchPlaceholder(std::string_view name);

/// Expands `${VAR}` and `${VAR:-default}` (the default is used when VAR is unset or empty, and
/// is itself expanded) and turns `$$` into `$`. A `$` followed by anything else is literal.
/// Errors: an unset variable without a default ("environment variable 'X' is not set ..."),
/// an unterminated `${`, an empty or malformed name.
Result<std::string> ExpandEnv(std::string_view s, const EnvLookup& env);

/// "~" or "~/x" → "$HOME" / "$HOME/x" (HOME from `env`, else the password database).
/// Anything else is returned unchanged. "~user/" is not supported (returned unchanged).
Result<std::string> ExpandHome(const std::string& path, const EnvLookup& env);

}  // namespace kitty
