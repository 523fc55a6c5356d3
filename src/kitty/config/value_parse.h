// Parsers for the config's string-valued scalars: integers, booleans, byte sizes ("32MiB"),
// "host:port" and port ranges ("41000-41999"). Pure; errors are the message tail only
// ("expected an integer, got \"abc\""), the loader adds file:line: key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "kitty/base/result.h"
#include "kitty/config/config.h"

namespace kitty {

/// A decimal integer ("12", "-1", "+3"), nothing else.
Result<int64_t> ParseInteger(std::string_view s);
/// A non-negative decimal number ("1.5", "300", "1e3" is not accepted).
Result<double> ParseNumber(std::string_view s);
/// A duration in seconds, as Ollama's keep_alive takes it: a number of seconds ("300", "-1"), or
/// Go's form ("5m", "1h30m", "10s", "500ms", "1.5h"). Negative values are returned as they are
/// (Ollama: keep for ever).
Result<double> ParseDuration(std::string_view s);
/// true/false, yes/no, on/off (any case).
Result<bool> ParseBool(std::string_view s);
/// "1048576", "32MiB", "32 MiB", "1.5GiB", "500KB": KiB/MiB/GiB are 1024-based, KB/MB/GB
/// 1000-based, "B" bytes. Must fit in 64 bits.
Result<uint64_t> ParseByteSize(std::string_view s);

struct HostPort {
  std::string host;
  int port = 0;
};
/// "127.0.0.1:7700", "localhost:7700", "[::1]:7700". Port 1..65535.
Result<HostPort> ParseListen(std::string_view s);
/// "41000-41999" (first <= last, both in 1..65535).
Result<PortRange> ParsePortRange(std::string_view s);
/// Checks first <= last and both in 1..65535.
Status CheckPortRange(const PortRange& r);

}  // namespace kitty
