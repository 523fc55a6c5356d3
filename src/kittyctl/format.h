// Pure text formatting for kittyctl: sizes, durations, aligned tables, and the lines each command
// prints for kittyd's JSON (docs/API.md). No I/O here, so every function is testable on its own.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kitty::ctl {

/// Memory in MiB as people read it: "310 MiB", "1.2 GiB"; "-" when unknown.
std::string FormatMiB(std::optional<double> mib);
/// Bytes: "512 B", "88 MiB", "4.4 GiB"; "-" when unknown.
std::string FormatBytes(std::optional<uint64_t> bytes);
/// A duration, floored: "12s", "3m04s", "2h05m", "3d04h"; "-" when unknown or negative.
std::string FormatDuration(std::optional<double> seconds);
/// A count of parameters: "135M", "7.6B", "950K".
std::string FormatCount(uint64_t n);

/// The first line of `text` (without '\r').
std::string FirstLine(std::string_view text);
/// Columns `text` takes on a terminal: UTF-8 code points (wide characters are not special-cased).
size_t DisplayWidth(std::string_view text);
/// Cuts `text` to at most `max_width` columns, ending in "…" when it was cut. Never splits a
/// UTF-8 sequence.
std::string Truncate(std::string_view text, size_t max_width);

struct Column {
  std::string header;
  bool right_aligned = false;
};
/// An aligned table: a header row and `rows`, columns separated by two spaces, no trailing
/// blanks. Each row has one cell per column (missing cells print empty).
std::string RenderTable(const std::vector<Column>& columns,
                        const std::vector<std::vector<std::string>>& rows);

// --- kittyd's JSON (shapes in docs/API.md; absent fields are tolerated and print "-") ---

/// `kittyctl ps`: MODEL STATUS PID PORT MEMORY IDLE IN FLIGHT REQUESTS HOLDS LAST ERROR, for the
/// body of GET /kitty/system/workers.
std::string PsTable(const nlohmann::json& workers_body);
/// `kittyctl models`: id, status, aliases, backend and the GGUF summary, for GET /v1/models.
std::string ModelsTable(const nlohmann::json& models_body);
/// `kittyctl ensure`: "smol ready (pid 1234, port 41000, loaded in 1.8s)".
std::string EnsureLine(const nlohmann::json& worker);
/// `kittyctl release`: "smol stopped".
std::string ReleaseLine(const nlohmann::json& worker);
/// One model's line in `kittyctl health`: "✓ smol - ready (pid 1234, port 41000)",
/// "· big - stopped", "✗ x - failed: <first line of last_error>".
std::string HealthLine(const nlohmann::json& worker);
/// The message of an error answer: error.message of OpenAI-shaped JSON, else "HTTP <status>"
/// with the start of the body.
std::string ErrorMessage(int status, std::string_view body);

}  // namespace kitty::ctl
