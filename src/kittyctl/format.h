// Pure text formatting for kittyctl: sizes, durations, aligned tables, error answers, byte sizes
// typed by people. The views of kittyd's JSON built on these are in views.h and top_view.h. No
// I/O here, so every function is testable on its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kitty/base/result.h"

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
/// Cuts the middle out of `text` to fit `max_width` columns: "qwen2.5-3…ct-q4_k_m". Model ids
/// differ at both ends (family first, size and quantisation last), so both are kept.
std::string TruncateMiddle(std::string_view text, size_t max_width);
/// A signed percentage of a ratio: 0.058 → "+5.8%", -0.31 → "-31%"; "-" when unknown.
std::string FormatRatioPercent(std::optional<double> ratio);

struct Column {
  std::string header;
  bool right_aligned = false;
};
/// An aligned table: a header row and `rows`, columns separated by two spaces, no trailing
/// blanks. Each row has one cell per column (missing cells print empty).
std::string RenderTable(const std::vector<Column>& columns,
                        const std::vector<std::vector<std::string>>& rows);

/// The message of an error answer: error.message of OpenAI-shaped JSON, else "HTTP <status>"
/// with the start of the body.
std::string ErrorMessage(int status, std::string_view body);
/// error.code of an OpenAI-shaped error body ("not_found", "model_not_found"), else "".
std::string ErrorCodeOf(std::string_view body);

/// A byte size as people type it: "1073741824", "512MiB", "2GiB", "1.5GB", "64 KiB". Binary
/// units (KiB, MiB, GiB, TiB) are powers of 1024, decimal ones (KB, MB, GB, TB) powers of 1000,
/// as in kittyd's config; case does not matter. "2G" is refused: it could mean either.
Result<uint64_t> ParseByteSize(std::string_view text);

}  // namespace kitty::ctl
