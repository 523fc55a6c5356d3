// YamlReader: typed reads of yaml-cpp nodes for the config loader. Every value read is
// env-expanded (see env_expand.h); every problem is recorded as "file:line: key: message" and
// the read reports failure, so the loader can go on and collect all errors in one pass.
// Internal to config/.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <string_view>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kitty/config/env_expand.h"

namespace kitty {

/// Stores a successful read (`Set(field, r.String(v, key))`); a failed one left its error.
template <class T>
void Set(T& field, std::optional<T> v) {
  if (v) field = std::move(*v);
}

class YamlReader {
 public:
  YamlReader(std::string file, EnvLookup env) : file_(std::move(file)), env_(std::move(env)) {}

  const std::string& file() const { return file_; }
  const EnvLookup& env() const { return env_; }
  const std::vector<std::string>& errors() const { return errors_; }

  /// 1-based line of `n`, 0 when yaml-cpp has no mark for it.
  static int Line(const YAML::Node& n);
  /// "file:line" of `n`.
  std::string Where(const YAML::Node& n) const;
  std::string Where(int line) const;

  void Error(int line, const std::string& key, const std::string& message);
  /// For a value from elsewhere than the file (a command-line flag): "where: key: message".
  void ErrorAt(const std::string& where, const std::string& key, const std::string& message);
  /// At `at`'s line; for a null value (whose mark yaml-cpp puts on the next token's line) or
  /// one without a mark, at the context line (the key's).
  void Error(const YAML::Node& at, const std::string& key, const std::string& message) {
    int line = at.IsNull() ? 0 : Line(at);
    Error(line > 0 ? line : context_line_, key, message);
  }
  /// The line of the key being read, used for values without a mark.
  void set_context_line(int line) { context_line_ = line; }

  /// A scalar, env-expanded. `what` describes the expected value for the type error
  /// ("a string", "an integer or \"auto\"").
  std::optional<std::string> Scalar(const YAML::Node& v, const std::string& key, const std::string& what);
  std::optional<std::string> String(const YAML::Node& v, const std::string& key);
  /// A string with a leading "~/" expanded.
  std::optional<std::string> Path(const YAML::Node& v, const std::string& key);
  /// An integer in [min, max].
  std::optional<int64_t> Int(const YAML::Node& v, const std::string& key, int64_t min, int64_t max);
  std::optional<bool> Bool(const YAML::Node& v, const std::string& key);
  /// A number of seconds >= 0 (> 0 when `positive`).
  std::optional<double> Seconds(const YAML::Node& v, const std::string& key, bool positive = false);
  /// A list of scalars (numbers and booleans are kept as written); null is an empty list.
  std::optional<std::vector<std::string>> StringList(const YAML::Node& v, const std::string& key);
  /// A map of scalar → scalar; null is an empty map.
  std::optional<std::map<std::string, std::string>> StringMap(const YAML::Node& v, const std::string& key);

  /// "a list", "a map", "null", "\"text\"" — how a node is named in type errors.
  static std::string Describe(const YAML::Node& v);

 private:
  std::string file_;
  EnvLookup env_;
  std::vector<std::string> errors_;
  int context_line_ = 0;
};

/// Calls fn(key node, value node, key string) for each entry of map `n`, reporting non-scalar
/// and duplicate keys under `path`.
void ForEachEntry(YamlReader& r, const YAML::Node& n, const std::string& path,
                  const std::function<void(const YAML::Node&, const YAML::Node&, const std::string&)>& fn);

/// "unknown key", with "(did you mean 'x'?)" when a valid key is near.
std::string UnknownKeyMessage(const std::string& key, const std::vector<std::string_view>& valid);

}  // namespace kitty
