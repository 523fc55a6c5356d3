// The keys a model entry (or `defaults:`) may set: one table of name → typed read. The loader
// walks a model's map and applies each entry through it; ModelKeys() (config_loader.h) lists the
// names in documentation order. Internal to config/.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kitty/config/config.h"
#include "kitty/config/yaml_reader.h"

namespace kitty {

// A model being built: the config plus where each key was set (for cross-model errors).
struct ModelDraft {
  ModelConfig m;
  std::map<std::string, int> key_lines;  // key → line it was set on (model or defaults)
  bool command_is_string = false;
  /// The line `key` was set on, else the model entry's: where an error about it points.
  int line_of(const std::string& key) const {
    auto it = key_lines.find(key);
    return it != key_lines.end() ? it->second : m.mark.line;
  }
};

using ModelKeyFn = std::function<void(YamlReader&, ModelDraft&, const YAML::Node&, const std::string&)>;

struct ModelKey {
  std::string_view name;
  ModelKeyFn apply;
};

/// Every model key, in documentation order.
const std::vector<ModelKey>& ModelKeyTable();

}  // namespace kitty
