// Reads the text of a config file, refusing anything that is not a plain file of sane size.
//
// Users pointed --config at a directory (it loaded as an empty config: "OK (0 models)"), at
// /dev/zero (read without bound until bad_alloc), at a FIFO (open blocks until a writer
// comes) and at /proc/self/mem (a "regular" file of size 0 whose read fails) — issue 8. So:
// stat first and refuse every type but a regular file without opening it, check the size
// against kMaxConfigFileBytes before reading, and read at most one byte more than the cap.
// Internal to config/ (LoadConfigFile in config_loader.h is the public entry).
#pragma once

#include <cstdint>
#include <string>

#include "kitty/base/result.h"

namespace kitty {

/// The largest config file kittyd reads. A config with a thousand models is ~100 KiB; the cap
/// only stops a wrong path (a log, a model file, a device) from being slurped into memory.
inline constexpr uint64_t kMaxConfigFileBytes = 4ull << 20;

/// The whole file at `path`. Errors (kConfigInvalid, or kFileNotFound when the path
/// does not exist) start with the path as given: "/tmp: a directory, not a regular file ...".
Result<std::string> ReadConfigFile(const std::string& path, uint64_t max_bytes = kMaxConfigFileBytes);

}  // namespace kitty
