#include "kitty/daemon/log_format.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <ctime>
#include <nlohmann/json.hpp>

namespace kitty {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto t = msg.time;
    const std::time_t secs = std::chrono::system_clock::to_time_t(t);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char iso[40];
    const size_t n = std::strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(iso + n, sizeof iso - n, ".%03dZ", static_cast<int>(ms));
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string line = JsonLogLine(iso, std::string_view(level.data(), level.size()),
                                         std::string_view(msg.logger_name.data(), msg.logger_name.size()),
                                         std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

Result<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return MakeError("unknown log format '" + std::string(name) + "' (use text or json)", ErrorCode::kInvalidRequest);
}

void SetLogFormat(LogFormat f) {
  g_format = f;
  if (f == LogFormat::kJson) spdlog::set_formatter(std::make_unique<JsonFormatter>());
  else spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
}

LogFormat CurrentLogFormat() { return g_format; }

std::string JsonLogLine(std::string_view time_iso, std::string_view level, std::string_view logger,
                        std::string_view message) {
  nlohmann::ordered_json j;
  j["time"] = time_iso;
  j["level"] = level;
  if (logger == "request" && message.starts_with('{')) {
    auto fields = nlohmann::ordered_json::parse(message, nullptr, false);
    if (fields.is_object()) {
      j["event"] = "request";
      for (auto& [k, v] : fields.items()) j[k] = std::move(v);
      return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  j["msg"] = message;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace kitty
