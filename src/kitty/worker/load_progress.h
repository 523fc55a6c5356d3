// LoadProgress: how far a worker's start has come, for status, the event stream and the
// `: loading 42%` comments of a streamed request that waits for the start (issue 12).
//
// Two sources. The engine's own output where it tells: llama-server (and llama.cpp's older
// servers) print a line as each stage of a load begins — the model file opened, metadata read,
// tensors loaded, the context built, the warm-up run, the slots made, the listener up — and each
// stage has a fraction of a typical load. Otherwise time: the seconds since the spawn against
// what the model's last load took in this kittyd. The fraction reported is the larger of the
// two, never 1 before the worker answers its health check, and it never goes back.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kitty {

class LoadProgress {
 public:
  /// One line of the engine's output. True when it moved the load to a later phase.
  bool feed(std::string_view line);
  /// "starting" until a line says more; then e.g. "loading_tensors", "warming_up".
  std::string phase() const;
  /// How far the load is, 0..0.99: the phase's fraction or `elapsed / expected` (capped at
  /// 0.95: a load slower than the last is not done), whichever is further. nullopt when the
  /// engine told nothing and no earlier load gives an expected time.
  std::optional<double> fraction(double elapsed_seconds, std::optional<double> expected_seconds) const;

 private:
  int index_ = -1;  // into the phase table; -1: nothing recognised yet
};

}  // namespace kitty
