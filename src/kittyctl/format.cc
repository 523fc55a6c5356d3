#include "kittyctl/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kitty::ctl {

namespace {

using nlohmann::json;

std::string Printf(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

std::optional<double> Number(const json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

std::optional<uint64_t> Unsigned(const json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number() || it->get<double>() < 0) return std::nullopt;
  return it->get<uint64_t>();
}

std::string Text(const json& object, const char* key, std::string fallback = "-") {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  if (it == object.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return fallback;
  }
  return it->get<std::string>();
}

std::string Integer(const json& object, const char* key) {
  auto value = Number(object, key);
  return value ? std::to_string(static_cast<long long>(*value)) : "-";
}

const json& Array(const json& object, const char* key) {
  static const json kEmpty = json::array();
  if (!object.is_object()) return kEmpty;
  auto it = object.find(key);
  return it != object.end() && it->is_array() ? *it : kEmpty;
}

// Error text for one line of a table or health report.
std::string ErrorSummary(const json& worker, size_t width) {
  const std::string error = Text(worker, "last_error", "");
  return error.empty() ? "-" : Truncate(FirstLine(error), width);
}

}  // namespace

std::string FormatMiB(std::optional<double> mib) {
  if (!mib || !std::isfinite(*mib) || *mib < 0) return "-";
  if (std::round(*mib) < 1024) return Printf("%.0f MiB", *mib);
  if (*mib < 1024.0 * 1024.0) return Printf("%.1f GiB", *mib / 1024.0);
  return Printf("%.1f TiB", *mib / (1024.0 * 1024.0));
}

std::string FormatBytes(std::optional<uint64_t> bytes) {
  if (!bytes) return "-";
  if (*bytes < 1024) return std::to_string(*bytes) + " B";
  if (*bytes < 1024 * 1024) return Printf("%.0f KiB", *bytes / 1024.0);
  return FormatMiB(*bytes / (1024.0 * 1024.0));
}

std::string FormatDuration(std::optional<double> seconds) {
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0) return "-";
  const auto s = static_cast<uint64_t>(std::floor(*seconds));
  char buf[64];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%llum%02llus", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%lluh%02llum", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s % 3600 / 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llud%02lluh", static_cast<unsigned long long>(s / 86400),
                  static_cast<unsigned long long>(s % 86400 / 3600));
  }
  return buf;
}

std::string FormatCount(uint64_t n) {
  const double v = static_cast<double>(n);
  // One decimal below 10 units ("7.6B"), none above ("135M"), as model cards write them.
  auto scaled = [&](double unit, char suffix) {
    const double x = v / unit;
    std::string text = x < 9.95 ? Printf("%.1f", x) : Printf("%.0f", x);
    if (text.size() > 2 && text.compare(text.size() - 2, 2, ".0") == 0) {
      text.resize(text.size() - 2);
    }
    return text + suffix;
  };
  if (v >= 1e12) return scaled(1e12, 'T');
  if (v >= 1e9) return scaled(1e9, 'B');
  if (v >= 1e6) return scaled(1e6, 'M');
  if (v >= 1e3) return scaled(1e3, 'K');
  return std::to_string(n);
}

std::string FirstLine(std::string_view text) {
  std::string_view line = text.substr(0, text.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return std::string(line);
}

size_t DisplayWidth(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string Truncate(std::string_view text, size_t max_width) {
  if (DisplayWidth(text) <= max_width) return std::string(text);
  if (max_width == 0) return "";
  // Keep max_width - 1 code points, then the ellipsis.
  size_t kept = 0;
  size_t end = 0;
  while (end < text.size()) {
    const bool starts = (static_cast<unsigned char>(text[end]) & 0xC0) != 0x80;
    if (starts && kept == max_width - 1) break;
    if (starts) ++kept;
    ++end;
  }
  return std::string(text.substr(0, end)) + "…";
}

std::string RenderTable(const std::vector<Column>& columns,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) width[c] = DisplayWidth(columns[c].header);
  for (const auto& row : rows) {
    for (size_t c = 0; c < columns.size() && c < row.size(); ++c) {
      width[c] = std::max(width[c], DisplayWidth(row[c]));
    }
  }
  std::string out;
  auto emit = [&](auto cell_at) {
    std::string line;
    for (size_t c = 0; c < columns.size(); ++c) {
      const std::string& cell = cell_at(c);
      const size_t pad = width[c] - DisplayWidth(cell);
      if (c > 0) line += "  ";
      if (columns[c].right_aligned) line.append(pad, ' ');
      line += cell;
      if (!columns[c].right_aligned) line.append(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  emit([&](size_t c) -> const std::string& { return columns[c].header; });
  static const std::string kEmpty;
  for (const auto& row : rows) {
    emit([&](size_t c) -> const std::string& { return c < row.size() ? row[c] : kEmpty; });
  }
  return out;
}

std::string PsTable(const json& workers_body) {
  static const std::vector<Column> kColumns = {
      {"MODEL"},          {"STATUS"},          {"PID", true},   {"PORT", true},
      {"MEMORY", true},   {"IDLE", true},      {"IN FLIGHT", true}, {"REQUESTS", true},
      {"HOLDS", true},    {"LAST ERROR"},
  };
  std::vector<std::vector<std::string>> rows;
  for (const json& w : Array(workers_body, "workers")) {
    const std::string status = Text(w, "status");
    const size_t holds = Array(w, "holds").size();
    // Idle time means something only for a running worker; a stopped one has no idle timer.
    const bool running = status == "ready";
    rows.push_back({
        Text(w, "model_id", "?"),
        status,
        Integer(w, "pid"),
        Integer(w, "port"),
        FormatMiB(Number(w, "rss_mb")),
        running ? FormatDuration(Number(w, "idle_seconds")) : "-",
        Integer(w, "in_flight"),
        Integer(w, "requests_total"),
        holds ? std::to_string(holds) : "-",
        ErrorSummary(w, 60),
    });
  }
  return RenderTable(kColumns, rows);
}

std::string ModelsTable(const json& models_body) {
  static const std::vector<Column> kColumns = {
      {"MODEL"}, {"STATUS"},    {"BACKEND"},     {"ALIASES"},       {"ARCH"},
      {"PARAMS", true}, {"QUANT"}, {"CONTEXT", true}, {"LAYERS", true}, {"FILE", true},
  };
  std::vector<std::vector<std::string>> rows;
  for (const json& m : Array(models_body, "data")) {
    std::string aliases;
    for (const json& alias : Array(m, "aliases")) {
      if (!alias.is_string()) continue;
      if (!aliases.empty()) aliases += ",";
      aliases += alias.get<std::string>();
    }
    const json gguf = m.is_object() && m.contains("gguf") ? m["gguf"] : json();
    std::string params = Text(gguf, "size_label");
    if (params == "-") {
      if (auto n = Unsigned(gguf, "parameter_count")) params = FormatCount(*n);
    }
    auto context = Unsigned(gguf, "context_length");
    rows.push_back({
        Text(m, "id", "?"),
        Text(m, "status"),
        Text(m, "backend"),
        aliases.empty() ? "-" : aliases,
        Text(gguf, "architecture"),
        params,
        Text(gguf, "file_type_name"),
        context ? std::to_string(*context) : "-",
        Integer(gguf, "block_count"),
        FormatBytes(Unsigned(gguf, "file_size_bytes")),
    });
  }
  return RenderTable(kColumns, rows);
}

std::string EnsureLine(const json& worker) {
  std::string line = Text(worker, "model_id", "?") + " " + Text(worker, "status");
  std::vector<std::string> details;
  if (auto pid = Number(worker, "pid")) details.push_back("pid " + Integer(worker, "pid"));
  if (auto port = Number(worker, "port")) details.push_back("port " + Integer(worker, "port"));
  if (auto load = Number(worker, "load_seconds")) {
    details.push_back("loaded in " + Printf("%.1fs", *load));
  }
  if (!details.empty()) {
    line += " (";
    for (size_t i = 0; i < details.size(); ++i) line += (i ? ", " : "") + details[i];
    line += ")";
  }
  return line;
}

std::string ReleaseLine(const json& worker) {
  return Text(worker, "model_id", "?") + " " + Text(worker, "status");
}

std::string HealthLine(const json& worker) {
  const std::string id = Text(worker, "model_id", "?");
  const std::string status = Text(worker, "status", "unknown");
  if (status == "failed") {
    const std::string error = Text(worker, "last_error", "");
    return "✗ " + id + " - failed" + (error.empty() ? "" : ": " + FirstLine(error));
  }
  if (status == "ready") {
    std::string details = "pid " + Integer(worker, "pid") + ", port " + Integer(worker, "port");
    if (auto rss = Number(worker, "rss_mb")) details += ", " + FormatMiB(rss);
    return "✓ " + id + " - ready (" + details + ")";
  }
  return "· " + id + " - " + status;
}

std::string ErrorMessage(int status, std::string_view body) {
  const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("error")) {
    const json& error = parsed["error"];
    if (error.is_object()) {
      const std::string message = Text(error, "message", "");
      if (!message.empty()) return message;
    } else if (error.is_string()) {
      return error.get<std::string>();
    }
  }
  std::string out = "HTTP " + std::to_string(status);
  const std::string first = Truncate(FirstLine(body), 200);
  if (!first.empty()) out += ": " + first;
  return out;
}

}  // namespace kitty::ctl
