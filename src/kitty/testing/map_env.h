// An environment for tests: variables from a map, nothing else (EnvLookup is what the config
// loader and the backends read the environment through).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "kitty/config/env_expand.h"

namespace kitty::testing_util {

inline EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace kitty::testing_util
