// The `memory:` section of kitty.yaml (issue 9): the workers' budget, the reserve, per-GPU
// budgets, max_models, the waits of the scheduler, and the pressure thresholds. Internal to
// config/.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "kitty/config/config.h"
#include "kitty/config/yaml_reader.h"

namespace kitty {

/// Reads `n` (the section's value) into `m`, recording every problem in `r`.
void LoadMemorySection(YamlReader& r, const YAML::Node& n, MemoryConfig& m);

/// The section's keys, in documentation order (for "did you mean").
const std::vector<std::string_view>& MemoryKeys();

/// "auto", "80%", "20GiB" or a plain byte count.
Result<MemoryBudget> ParseBudget(std::string_view s);

}  // namespace kitty
