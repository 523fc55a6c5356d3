// How much a node can hold at once, for those that route between nodes: Ray Serve's
// max_num_models_per_replica and the inference gateway's max_lora both ask "how many models can
// be resident together here". Pure functions over plain data, like plan.h.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace kitty::sched {

/// The most of the configured models that fit `capacity_bytes` together: their footprints
/// (expected bytes; nullopt where nothing is known) taken smallest first, capped by `max_models`
/// (0: no cap). A footprint nobody knows is planned as free by the scheduler (only max_models
/// applies to it), so it is counted as fitting; so is everything when the capacity is unknown.
/// At least 1 when any model is configured: one model alone is always tried.
int MaxResident(std::vector<std::optional<uint64_t>> footprints, std::optional<uint64_t> capacity_bytes,
                int max_models);

/// What is in use as a share of the capacity, from 0 to 1 (more than the capacity reads as 1).
double UsageFraction(uint64_t used_bytes, uint64_t capacity_bytes);

}  // namespace kitty::sched
