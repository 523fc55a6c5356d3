#include "kitty/http/proxy_text.h"

#include <cstdio>

#include "kitty/http/errors.h"

namespace kitty::web {

std::string UpstreamTarget(const std::string& prefix, const std::string& target) {
  if (prefix.empty()) return target;
  if (prefix.ends_with("/v1") && target.starts_with("/v1/")) return prefix + target.substr(3);
  return prefix + target;
}

uint64_t CountSseEvents(std::string_view piece) {
  uint64_t n = piece.starts_with("data:") ? 1 : 0;
  for (size_t at = piece.find("\ndata:"); at != std::string_view::npos; at = piece.find("\ndata:", at + 6)) ++n;
  return n;
}

std::string ChunkHeader(size_t n) {
  char buf[24];
  const int len = snprintf(buf, sizeof buf, "%zx\r\n", n);
  return std::string(buf, static_cast<size_t>(len));
}

std::string SseErrorEvent(const Error& e, const nlohmann::json& extra) {
  return "data: " + ErrorBody(e, extra).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
}

}  // namespace kitty::web
