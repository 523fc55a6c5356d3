// `kittyctl ps`: one row per configured model, from GET /kitty/system/workers.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kittyctl/format.h"
#include "kittyctl/json_fields.h"
#include "kittyctl/views.h"

namespace kitty::ctl {

using nlohmann::json;

namespace {

// Error text for one cell of the table.
std::string ErrorSummary(const json& worker, size_t width) {
  const std::string error = Text(worker, "last_error", "");
  return error.empty() ? "-" : Truncate(FirstLine(error), width);
}

}  // namespace

std::string PsTable(const json& workers_body) {
  static const std::vector<Column> kColumns = {
      {"MODEL"},          {"STATUS"},          {"PID", true},   {"PORT", true},
      {"MEMORY", true},   {"IDLE", true},      {"IN FLIGHT", true}, {"REQUESTS", true},
      {"HOLDS", true},    {"LAST ERROR"},
  };
  std::vector<std::vector<std::string>> rows;
  // A model inside Ollama: what Ollama holds for it (its agent's process holds next to nothing).
  auto held_mib = [](const json& w) -> std::optional<double> {
    if (auto up = Number(Field(w, "upstream"), "size_bytes")) return *up / (1024.0 * 1024.0);
    return Number(w, "rss_mb");
  };
  for (const json& w : Array(workers_body, "workers")) {
    std::string status = Text(w, "status");
    // A start shows how far it is: "starting 42%" (or its phase where nothing says how far).
    if (const json& p = Field(w, "progress"); p.is_object()) {
      if (auto f = Number(p, "fraction")) status += " " + std::to_string(static_cast<int>(*f * 100)) + "%";
      else if (Text(p, "phase") != "starting") status += " (" + Text(p, "phase") + ")";
    }
    const size_t holds = Array(w, "holds").size();
    // Idle time means something only for a running worker; a stopped one has no idle timer.
    const bool running = Text(w, "status") == "ready";
    rows.push_back({
        Text(w, "model_id", "?"),
        status,
        Integer(w, "pid"),
        Integer(w, "port"),
        // A model inside Ollama: what Ollama holds for it (its agent's process holds next to nothing).
        FormatMiB(held_mib(w)),
        running ? FormatDuration(Number(w, "idle_seconds")) : "-",
        Integer(w, "in_flight"),
        Integer(w, "requests_total"),
        holds ? std::to_string(holds) : "-",
        ErrorSummary(w, 60),
    });
  }
  return RenderTable(kColumns, rows);
}

}  // namespace kitty::ctl
