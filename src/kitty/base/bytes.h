// Byte counts and seconds for people: "512 MiB", "1.5 GiB" (1024-based, as the config's sizes), "2.5s".
#pragma once

#include <cstdint>
#include <string>

namespace kitty {

/// Whole units print without decimals ("4 GiB"), others with one ("1.5 GiB").
std::string FormatBytes(uint64_t bytes);

/// "5s", "2.5s": seconds for log lines and messages.
std::string FormatSeconds(double seconds);

}  // namespace kitty
