// Helpers for the config loader's tests: load YAML text with a fixed environment, and the
// error lines of a config that must fail.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "kitty/config/config_loader.h"
#include "kitty/testing/map_env.h"

namespace kitty::config_test {

using testing_util::MapEnv;

inline const EnvLookup kEnv = MapEnv({{"HOME", "/home/t"}});

inline Config Load(std::string_view yaml, const EnvLookup& env = kEnv, const ConfigOverrides& overrides = {}) {
  auto c = LoadConfigString(yaml, "kitty.yaml", env, overrides);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.ok() ? std::move(c).value() : Config{};
}

/// The error lines of a config that must fail (each "kitty.yaml:line: key: message").
inline std::vector<std::string> Errors(std::string_view yaml, const EnvLookup& env = kEnv,
                                       const ConfigOverrides& overrides = {}) {
  auto c = LoadConfigString(yaml, "kitty.yaml", env, overrides);
  EXPECT_FALSE(c.ok()) << "config loaded but should not have";
  if (c.ok()) return {};
  EXPECT_EQ(c.error().code, ErrorCode::kConfigInvalid);
  std::vector<std::string> lines;
  std::istringstream in(c.error().message);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace kitty::config_test
