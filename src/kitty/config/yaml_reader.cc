#include "kitty/config/yaml_reader.h"

#include <map>

#include "kitty/config/suggest.h"

#include "kitty/config/value_parse.h"

namespace kitty {

int YamlReader::Line(const YAML::Node& n) {
  int line = n.Mark().line;
  return line >= 0 ? line + 1 : 0;
}

std::string YamlReader::Where(int line) const {
  return line > 0 ? file_ + ":" + std::to_string(line) : file_;
}

std::string YamlReader::Where(const YAML::Node& n) const {
  int line = Line(n);
  return Where(line > 0 ? line : context_line_);
}

void YamlReader::Error(int line, const std::string& key, const std::string& message) {
  ErrorAt(Where(line), key, message);
}

void YamlReader::ErrorAt(const std::string& where, const std::string& key, const std::string& message) {
  errors_.push_back(where + ": " + (key.empty() ? "" : key + ": ") + message);
}

std::string YamlReader::Describe(const YAML::Node& v) {
  switch (v.Type()) {
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Scalar: return "\"" + v.Scalar() + "\"";
    default: return "nothing";
  }
}

std::optional<std::string> YamlReader::Scalar(const YAML::Node& v, const std::string& key,
                                              const std::string& what) {
  if (!v.IsScalar()) {
    Error(v, key, "expected " + what + ", got " + Describe(v));
    return std::nullopt;
  }
  auto expanded = ExpandEnv(v.Scalar(), env_);
  if (!expanded.ok()) {
    Error(v, key, expanded.error().message);
    return std::nullopt;
  }
  return std::move(expanded).value();
}

std::optional<std::string> YamlReader::String(const YAML::Node& v, const std::string& key) {
  return Scalar(v, key, "a string");
}

std::optional<std::string> YamlReader::Path(const YAML::Node& v, const std::string& key) {
  auto s = Scalar(v, key, "a path");
  if (!s) return std::nullopt;
  auto home = ExpandHome(*s, env_);
  if (!home.ok()) {
    Error(v, key, home.error().message);
    return std::nullopt;
  }
  return std::move(home).value();
}

std::optional<int64_t> YamlReader::Int(const YAML::Node& v, const std::string& key, int64_t min,
                                       int64_t max) {
  auto s = Scalar(v, key, "an integer");
  if (!s) return std::nullopt;
  auto n = ParseInteger(*s);
  if (!n.ok()) {
    Error(v, key, n.error().message);
    return std::nullopt;
  }
  if (*n < min || *n > max) {
    std::string range = max == INT32_MAX ? ">= " + std::to_string(min)
                                         : "in " + std::to_string(min) + ".." + std::to_string(max);
    Error(v, key, "must be " + range + ", got " + std::to_string(*n));
    return std::nullopt;
  }
  return *n;
}

std::optional<bool> YamlReader::Bool(const YAML::Node& v, const std::string& key) {
  auto s = Scalar(v, key, "true or false");
  if (!s) return std::nullopt;
  auto b = ParseBool(*s);
  if (!b.ok()) {
    Error(v, key, b.error().message);
    return std::nullopt;
  }
  return *b;
}

std::optional<double> YamlReader::Seconds(const YAML::Node& v, const std::string& key, bool positive) {
  auto s = Scalar(v, key, "a number of seconds");
  if (!s) return std::nullopt;
  auto d = ParseNumber(*s);
  if (!d.ok()) {
    Error(v, key, "expected a number of seconds, got \"" + *s + "\"");
    return std::nullopt;
  }
  if (*d < 0) {
    Error(v, key, "must not be negative, got " + *s);
    return std::nullopt;
  }
  if (positive && *d == 0) {
    Error(v, key, "must be greater than 0");
    return std::nullopt;
  }
  return *d;
}

std::optional<std::vector<std::string>> YamlReader::StringList(const YAML::Node& v, const std::string& key) {
  if (v.IsNull()) return std::vector<std::string>{};
  if (!v.IsSequence()) {
    Error(v, key, "expected a list of strings, got " + Describe(v));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (size_t i = 0; i < v.size(); ++i) {
    auto item = Scalar(v[i], key + "[" + std::to_string(i) + "]", "a string");
    if (item)
      out.push_back(std::move(*item));
    else
      ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<std::map<std::string, std::string>> YamlReader::StringMap(const YAML::Node& v,
                                                                         const std::string& key) {
  if (v.IsNull()) return std::map<std::string, std::string>{};
  if (!v.IsMap()) {
    Error(v, key, "expected a map of NAME: value, got " + Describe(v));
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  bool ok = true;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const YAML::Node& k = it->first;
    if (!k.IsScalar() || k.Scalar().empty() || k.Scalar().find('=') != std::string::npos) {
      Error(k, key, "expected a variable name, got " + Describe(k));
      ok = false;
      continue;
    }
    auto value = Scalar(it->second, key + "." + k.Scalar(), "a string");
    if (value)
      out[k.Scalar()] = std::move(*value);
    else
      ok = false;
  }
  if (!ok) return std::nullopt;
  return out;
}

std::string UnknownKeyMessage(const std::string& key, const std::vector<std::string_view>& valid) {
  std::string near = NearestWord(key, valid);
  return near.empty() ? "unknown key" : "unknown key (did you mean '" + near + "'?)";
}

void ForEachEntry(YamlReader& r, const YAML::Node& n, const std::string& path,
                  const std::function<void(const YAML::Node&, const YAML::Node&, const std::string&)>& fn) {
  std::map<std::string, int> seen;
  for (auto it = n.begin(); it != n.end(); ++it) {
    const YAML::Node& k = it->first;
    std::string full = path.empty() ? "" : path + ".";
    if (!k.IsScalar() || k.Scalar().empty()) {
      r.Error(k, path, "expected a key name, got " + YamlReader::Describe(k));
      continue;
    }
    const std::string& name = k.Scalar();
    if (auto [pos, fresh] = seen.emplace(name, YamlReader::Line(k)); !fresh) {
      r.Error(k, full + name,
              std::string(path == "models" ? "duplicate model id (first defined at "
                                           : "duplicate key (first set at ") +
                  r.Where(pos->second) + ")");
      continue;
    }
    r.set_context_line(YamlReader::Line(k));
    fn(k, it->second, name);
  }
}

}  // namespace kitty
