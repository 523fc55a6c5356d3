// How kittyd's own log lines look: text for people (the default), or one JSON object per line
// (`kittyd --log-format json`) for a log shipper: {"time", "level", "msg"}; the request log's
// lines (http/request_log.h) carry their fields as keys instead of a sentence.
#pragma once

#include <string>
#include <string_view>

#include "kitty/base/result.h"

namespace kitty {

enum class LogFormat { kText, kJson };

Result<LogFormat> ParseLogFormat(std::string_view name);
/// Installs the format on spdlog's default logger (and so on every logger cloned from it).
/// Call once, before other threads log.
void SetLogFormat(LogFormat f);
LogFormat CurrentLogFormat();

/// The JSON line of one record (without the newline). A record of the "request" logger whose
/// message is a JSON object has its fields merged in; any other message is "msg".
std::string JsonLogLine(std::string_view time_iso, std::string_view level, std::string_view logger,
                        std::string_view message);

}  // namespace kitty
