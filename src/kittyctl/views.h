// What kittyctl's commands print for kittyd's JSON (shapes in docs/API.md). Pure functions of
// the parsed JSON: absent or null fields print "-" (json_fields.h), so a kittyd older or newer
// than this kittyctl still prints. `kittyctl top` has its own view, top_view.h.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace kitty::ctl {

/// `kittyctl ps`: MODEL STATUS PID PORT MEMORY IDLE IN FLIGHT REQUESTS HOLDS LAST ERROR, for the
/// body of GET /kitty/system/workers. (ps_view.cc)
std::string PsTable(const nlohmann::json& workers_body);
/// `kittyctl models`: id, status, aliases, backend and the GGUF summary, for GET /v1/models.
/// (models_view.cc)
std::string ModelsTable(const nlohmann::json& models_body);

// One-line answers (worker_lines.cc).

/// `kittyctl ensure`: "smol ready (pid 1234, port 41000, loaded in 1.8s)".
std::string EnsureLine(const nlohmann::json& worker);
/// `kittyctl release`: "smol stopped".
std::string ReleaseLine(const nlohmann::json& worker);
/// One model's line in `kittyctl health`: "✓ smol - ready (pid 1234, port 41000)",
/// "· big - stopped", "✗ x - failed: <first line of last_error>".
std::string HealthLine(const nlohmann::json& worker);
/// `kittyctl pin|unpin|priority`: the model's policy after the change, with where each part
/// came from: "smol: pinned (runtime), priority 5 (runtime), class active". Parts kittyd did
/// not report print "-".
std::string PolicyLine(const nlohmann::json& worker);
/// `kittyctl headroom`: "freed 1.2 GiB of 2.0 GiB asked (evicted qwen, smol); 20.1 GiB
/// available".
std::string HeadroomLine(const nlohmann::json& answer);

}  // namespace kitty::ctl
