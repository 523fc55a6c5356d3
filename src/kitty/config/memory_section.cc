#include "kitty/config/memory_section.h"

#include <cmath>
#include <cstdlib>

#include "kitty/base/bytes.h"
#include "kitty/config/value_parse.h"

namespace kitty {
namespace {

// A percentage in (0, 100].
std::optional<double> Percent(YamlReader& r, const YAML::Node& v, const std::string& key) {
  auto s = r.Scalar(v, key, "a percentage such as 90");
  if (!s) return std::nullopt;
  std::string text = *s;
  if (!text.empty() && text.back() == '%') text.pop_back();
  auto n = ParseNumber(text);
  if (!n.ok() || *n <= 0 || *n > 100) {
    r.Error(v, key, "expected a percentage in (0, 100], got \"" + *s + "\"");
    return std::nullopt;
  }
  return *n;
}

std::optional<uint64_t> Bytes(YamlReader& r, const YAML::Node& v, const std::string& key) {
  auto s = r.Scalar(v, key, "a size such as 2GiB");
  if (!s) return std::nullopt;
  auto b = ParseByteSize(*s);
  if (!b.ok()) {
    r.Error(v, key, b.error().message);
    return std::nullopt;
  }
  return *b;
}

std::optional<MemoryBudget> Budget(YamlReader& r, const YAML::Node& v, const std::string& key) {
  auto s = r.Scalar(v, key, "auto, a percentage (\"80%\") or a size (\"20GiB\")");
  if (!s) return std::nullopt;
  auto b = ParseBudget(*s);
  if (!b.ok()) {
    r.Error(v, key, b.error().message);
    return std::nullopt;
  }
  return *b;
}

const std::vector<std::string_view>& PressureKeys() {
  static const std::vector<std::string_view> kKeys = {"ram_percent", "gpu_percent", "cpu_percent",
                                                      "cpu_seconds", "disk_free_min"};
  return kKeys;
}

void LoadPressure(YamlReader& r, const YAML::Node& n, PressureConfig& p) {
  if (!n.IsMap()) {
    r.Error(n, "memory.pressure", "expected a map, got " + YamlReader::Describe(n));
    return;
  }
  ForEachEntry(r, n, "memory.pressure", [&](const YAML::Node& k, const YAML::Node& v, const std::string& name) {
    const std::string key = "memory.pressure." + name;
    if (name == "ram_percent") Set(p.ram_percent, Percent(r, v, key));
    else if (name == "gpu_percent") Set(p.gpu_percent, Percent(r, v, key));
    else if (name == "cpu_percent") Set(p.cpu_percent, Percent(r, v, key));
    else if (name == "cpu_seconds") Set(p.cpu_seconds, r.Seconds(v, key, /*positive=*/true));
    else if (name == "disk_free_min") Set(p.disk_free_min_bytes, Bytes(r, v, key));
    else r.Error(k, key, UnknownKeyMessage(name, PressureKeys()));
  });
}

}  // namespace

Result<MemoryBudget> ParseBudget(std::string_view s) {
  MemoryBudget b;
  if (s == "auto") return b;
  if (!s.empty() && s.back() == '%') {
    auto n = ParseNumber(s.substr(0, s.size() - 1));
    if (!n.ok() || *n <= 0 || *n > 100)
      return MakeError("expected a percentage in (0%, 100%], got \"" + std::string(s) + "\"");
    b.kind = MemoryBudget::Kind::kPercent;
    b.percent = *n;
    return b;
  }
  auto bytes = ParseByteSize(s);
  if (!bytes.ok())
    return MakeError("expected auto, a percentage (\"80%\") or a size (\"20GiB\"), got \"" +
                     std::string(s) + "\"");
  if (*bytes == 0) return MakeError("a budget of 0 bytes leaves no room for any model");
  b.kind = MemoryBudget::Kind::kBytes;
  b.bytes = *bytes;
  return b;
}

const std::vector<std::string_view>& MemoryKeys() {
  static const std::vector<std::string_view> kKeys = {
      "budget", "max_memory_gb", "reserve", "gpu_budgets", "max_models", "wait_seconds", "recovery_seconds",
      "sample_seconds", "pressure"};
  return kKeys;
}

void LoadMemorySection(YamlReader& r, const YAML::Node& n, MemoryConfig& m) {
  if (!n.IsMap()) {
    r.Error(n, "memory", "expected a map, got " + YamlReader::Describe(n));
    return;
  }
  bool budget_given = false, max_gb_given = false;
  ForEachEntry(r, n, "memory", [&](const YAML::Node& k, const YAML::Node& v, const std::string& name) {
    const std::string key = "memory." + name;
    if (name == "budget" || name == "max_memory_gb") {
      // max_memory_gb is seed 004's name for the MLX pool's limit: here it is the budget of
      // every model (in GiB, as the seed's figure), whatever its engine.
      const bool gb = name == "max_memory_gb";
      if ((gb && budget_given) || (!gb && max_gb_given)) {
        r.Error(v, key, "give memory.budget or memory.max_memory_gb, not both (they are the same limit)");
        return;
      }
      (gb ? max_gb_given : budget_given) = true;
      if (!gb) return Set(m.budget, Budget(r, v, key));
      auto s = r.Scalar(v, key, "a number of GiB such as 48");
      if (!s) return;
      char* end = nullptr;
      const double g = std::strtod(s->c_str(), &end);
      if (end == s->c_str() || *end != '\0' || !(g > 0) || g > 1e6) {
        r.Error(v, key, "expected a positive number of GiB such as 48, got \"" + *s + "\"");
        return;
      }
      m.budget.kind = MemoryBudget::Kind::kBytes;
      m.budget.bytes = static_cast<uint64_t>(g * 1024 * 1024 * 1024);
    } else if (name == "reserve") {
      Set(m.reserve_bytes, Bytes(r, v, key));
    } else if (name == "gpu_budgets") {
      if (!v.IsSequence()) {
        r.Error(v, key, "expected a list, one budget per GPU index, got " + YamlReader::Describe(v));
        return;
      }
      m.gpu_budgets.clear();
      for (size_t i = 0; i < v.size(); ++i)
        if (auto b = Budget(r, v[i], key + "[" + std::to_string(i) + "]")) m.gpu_budgets.push_back(*b);
    } else if (name == "max_models") {
      if (auto x = r.Int(v, key, 0, 10000)) m.max_models = static_cast<int>(*x);
    } else if (name == "wait_seconds") {
      Set(m.wait_seconds, r.Seconds(v, key));
    } else if (name == "recovery_seconds") {
      Set(m.recovery_seconds, r.Seconds(v, key));
    } else if (name == "sample_seconds") {
      auto x = r.Seconds(v, key, /*positive=*/true);
      if (x && *x < 0.1) r.Error(v, key, "must be at least 0.1 (each read scans every worker's memory maps)");
      else Set(m.sample_seconds, x);
    } else if (name == "pressure") {
      LoadPressure(r, v, m.pressure);
    } else {
      r.Error(k, key, UnknownKeyMessage(name, MemoryKeys()));
    }
  });
}

}  // namespace kitty
