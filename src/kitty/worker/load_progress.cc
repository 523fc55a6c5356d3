#include "kitty/worker/load_progress.h"

#include <algorithm>
#include <array>

namespace kitty {
namespace {

struct Phase {
  const char* name;
  double fraction;  // of a typical load, when this phase begins
  std::array<std::string_view, 4> marks;  // a line with any of these begins it
};

// In load order; a line can only move the load forward. The fractions are rough shares of a
// large model's load on a Mac or a GPU box: reading the tensors dominates. The marks are what
// llama-server prints at its default verbosity (the "srv load_model" lines) and what llama.cpp
// prints at higher verbosity or in older builds (llama_model_loader, load_tensors, ...).
// Only what the engine prints as it loads: whatever it prints first, it loads in this order.
constexpr std::array<Phase, 7> kPhases = {{
    {"loading_model", 0.02, {"load_model: loading model", "llama_load_model_from_file", "loading model from", ""}},
    {"reading_metadata", 0.05, {"llama_model_loader: loaded meta data", "print_info: file format", "", ""}},
    {"loading_tensors", 0.10, {"load_tensors:", "llm_load_tensors:", "", ""}},
    {"creating_context", 0.75, {"llama_context:", "llama_new_context_with_model", "llama_init_from_model", "threadpool init"}},
    {"warming_up", 0.85, {"warming up the model", "", "", ""}},
    {"initializing_slots", 0.92, {"n_slots =", "new slot", "initializing slots", ""}},
    // Not "listening": some servers listen (answering 503) before they load anything.
    {"loaded", 0.97, {"model loaded", "", "", ""}},
}};

}  // namespace

bool LoadProgress::feed(std::string_view line) {
  // The furthest phase the line marks: "load_tensors: loading model tensors" is tensors, not
  // the model's opening.
  for (int i = static_cast<int>(kPhases.size()) - 1; i > index_; --i) {
    for (auto mark : kPhases[static_cast<size_t>(i)].marks) {
      if (!mark.empty() && line.find(mark) != std::string_view::npos) {
        index_ = i;
        return true;
      }
    }
  }
  return false;
}

std::string LoadProgress::phase() const {
  return index_ < 0 ? "starting" : kPhases[static_cast<size_t>(index_)].name;
}

std::optional<double> LoadProgress::fraction(double elapsed, std::optional<double> expected) const {
  std::optional<double> f;
  if (index_ >= 0) f = kPhases[static_cast<size_t>(index_)].fraction;
  if (expected && *expected > 0) {
    const double by_time = std::clamp(elapsed / *expected, 0.0, 0.95);
    f = std::max(f.value_or(0.0), by_time);
  }
  return f;
}

}  // namespace kitty
