// The `ollama:` section of kitty.yaml (issue 11, seed 003): the Ollama daemon kittyd watches,
// and may start and restart. Internal to config/.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string_view>
#include <vector>

#include "kitty/config/config.h"
#include "kitty/config/yaml_reader.h"

namespace kitty {

/// Reads `n` (the section's value) into `o`, recording every problem in `r`.
void LoadOllamaSection(YamlReader& r, const YAML::Node& n, OllamaConfig& o);

/// The section's keys, in documentation order (for "did you mean").
const std::vector<std::string_view>& OllamaKeys();

/// An error message when `url` is not a plain http:// URL kittyd can reach (kittyd speaks no
/// TLS to upstreams yet); empty when it is fine.
std::string CheckHttpUrl(const std::string& url);

}  // namespace kitty
