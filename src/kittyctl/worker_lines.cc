// The one-line answers of kittyctl's commands: one worker (W in docs/API.md), or headroom's.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "kittyctl/format.h"
#include "kittyctl/json_fields.h"
#include "kittyctl/views.h"

namespace kitty::ctl {

using nlohmann::json;

namespace {

std::string Printf(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, value);
  return buf;
}

// " (runtime)" / " (config)": which source set a policy field (issue 9: a config reload does
// not silently undo a runtime change, so people need to see which one is in force).
std::string SourceNote(const json& worker, const char* field) {
  const std::string source = Text(Field(worker, "policy_source"), field, "");
  return source.empty() ? "" : " (" + source + ")";
}

}  // namespace

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

std::string PolicyLine(const json& worker) {
  std::string line = Text(worker, "model_id", "?") + ": ";
  const std::optional<bool> pinned = Bool(worker, "pinned");
  line += pinned ? (*pinned ? "pinned" : "not pinned") : "pinned -";
  line += SourceNote(worker, "pinned");
  if (Bool(worker, "pressure_evict_only").value_or(false)) {
    line += ", pressure-only" + SourceNote(worker, "pressure_evict_only");
  }
  line += ", priority " + Integer(worker, "priority") + SourceNote(worker, "priority");
  line += ", class " + Text(worker, "class");
  return line;
}

std::string HeadroomLine(const json& answer) {
  const std::string evicted = JoinStrings(Array(answer, "evicted"));
  return "freed " + FormatBytes(Unsigned(answer, "freed_bytes")) + " of " +
         FormatBytes(Unsigned(answer, "requested_bytes")) + " asked (evicted " +
         (evicted.empty() ? "nothing" : evicted) + "); " +
         FormatBytes(Unsigned(answer, "available_bytes")) + " available";
}

}  // namespace kitty::ctl
