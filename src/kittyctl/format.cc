#include "kittyctl/format.h"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "kittyctl/json_fields.h"

namespace kitty::ctl {

namespace {

using nlohmann::json;

std::string Printf(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

}  // namespace

std::string FormatMiB(std::optional<double> mib) {
  // 2^44 MiB is 2^64 bytes: anything larger is not a memory size but a broken figure.
  if (!mib || !std::isfinite(*mib) || *mib < 0 || *mib >= 0x1p44) return "-";
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
  // Past 2^64 seconds the conversion below would be undefined; no idle time is that long.
  if (!seconds || !std::isfinite(*seconds) || *seconds < 0 || *seconds >= 0x1p64) return "-";
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

std::string TruncateMiddle(std::string_view text, size_t max_width) {
  const size_t width = DisplayWidth(text);
  if (width <= max_width) return std::string(text);
  if (max_width < 3) return Truncate(text, max_width);
  // Code point boundaries, so neither half splits a UTF-8 sequence.
  std::vector<size_t> starts;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  const size_t keep = max_width - 1;  // one column for the ellipsis
  const size_t head = (keep + 1) / 2;  // the family name matters a little more than the tail
  const size_t tail = keep - head;
  return std::string(text.substr(0, starts[head])) + "…" +
         std::string(text.substr(starts[starts.size() - tail]));
}

std::string FormatRatioPercent(std::optional<double> ratio) {
  if (!ratio || !std::isfinite(*ratio)) return "-";
  const double percent = *ratio * 100.0;
  // One decimal where it says something (+5.8%), none where it would be noise (+140%).
  return Printf(std::fabs(percent) < 9.95 ? "%+.1f%%" : "%+.0f%%", percent);
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

std::string ErrorCodeOf(std::string_view body) {
  const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  return Text(Field(parsed, "error"), "code", "");
}

Result<uint64_t> ParseByteSize(std::string_view text) {
  auto bad = [&] {
    return MakeError("'" + std::string(text) +
                         "' is not a byte size: give bytes (1073741824) or a number with a unit "
                         "(512MiB, 2GiB, 1.5GB; KiB/MiB/GiB/TiB are 1024-based, KB/MB/GB/TB "
                         "1000-based)",
                     ErrorCode::kInvalidRequest);
  };
  std::string_view rest = text;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  size_t digits = 0;
  while (digits < rest.size() &&
         (std::isdigit(static_cast<unsigned char>(rest[digits])) || rest[digits] == '.')) {
    ++digits;
  }
  std::string_view number = rest.substr(0, digits);
  std::string_view unit = rest.substr(digits);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  if (number.empty() || number == "." || number.find('.') != number.rfind('.')) return bad();

  std::string lower(unit);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  struct Unit {
    std::string_view name;
    double factor;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},         {"b", 1},          {"kib", 0x1p10},  {"mib", 0x1p20}, {"gib", 0x1p30},
      {"tib", 0x1p40}, {"kb", 1e3},       {"mb", 1e6},      {"gb", 1e9},     {"tb", 1e12},
  };
  const Unit* found = nullptr;
  for (const Unit& u : kUnits) {
    if (lower == u.name) found = &u;
  }
  if (found == nullptr) return bad();

  // Whole numbers of bytes stay exact; a fraction goes through double and is rounded, which is
  // exact to the byte far past any memory size.
  if (number.find('.') == std::string_view::npos && found->factor == 1) {
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || end != number.data() + number.size()) return bad();
    return value;
  }
  const double value = std::strtod(std::string(number).c_str(), nullptr) * found->factor;
  if (!std::isfinite(value) || value >= 0x1p64) {
    return MakeError("'" + std::string(text) + "' is too large", ErrorCode::kInvalidRequest);
  }
  return static_cast<uint64_t>(std::round(value));
}

}  // namespace kitty::ctl
