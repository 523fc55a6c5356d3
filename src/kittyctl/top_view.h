// The frame of `kittyctl top`: a header with the system's memory, pressure and restore queue
// (GET /kitty/system/memory), then one row per model (GET /kitty/system/workers), fitted to the
// terminal's width. Pure: the caller fetches, times and draws (top.cc).
//
// Every field is optional: a kittyd from before issue 9 reports neither the memory route nor the
// memory and policy fields of W, and the frame then shows "-" in those cells and
// "system memory: not reported by this kittyd" in the header.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

namespace kitty::ctl {

/// One refresh's answers.
struct TopData {
  nlohmann::json workers;   // body of GET /kitty/system/workers; null before the first answer
  nlohmann::json memory;    // body of GET /kitty/system/memory; null when there is none
  std::string memory_note;  // why `memory` is null: "not reported by this kittyd", an error
  std::string taken_at;     // local wall-clock time of the answers, "HH:MM:SS"
};

struct TopFrameInput {
  std::string url;          // kittyd's URL, as given
  double interval_s = 2;    // the refresh period, shown in the header
  bool interactive = false; // a live terminal view: the header says how to quit
  TopData data;             // the latest answers that arrived
  std::string error;        // why the latest refresh failed ("" when it did not); `data` is older
};

/// The frame: lines of at most `width` columns, each ending in '\n'.
///
/// Rows are sorted so that the models holding memory come first (largest first), then the
/// running ones without figures, then the rest by id. When the table is wider than `width`, model
/// ids are cut in the middle (down to 16 columns), then the least telling columns are hidden
/// (PID, HOLDS, ESTIMATE, ...; a footer names them), then ids are cut further (down to 8).
std::string TopFrame(const TopFrameInput& input, size_t width);

}  // namespace kitty::ctl
