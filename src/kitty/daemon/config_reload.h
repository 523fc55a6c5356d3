// What a config reload cannot apply to a running kittyd: the server: and memory: sections
// (listen address, keys, limits, budget) are read once at start. A reload applies the models
// and names these, so the answer says what needs a restart of kittyd.
#pragma once

#include <string>
#include <vector>

#include "kitty/config/config.h"

namespace kitty {

/// The keys of server: and memory: that differ between `running` and `next`
/// ("server.port", "memory.budget", ...), in a fixed order.
std::vector<std::string> UnappliedChanges(const Config& running, const Config& next);

}  // namespace kitty
