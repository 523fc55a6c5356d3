#include "kitty/base/http_url.h"

#include <charconv>
#include <string_view>

namespace kitty {

Result<HttpUrl> ParseHttpUrl(const std::string& url, bool bare_ok) {
  constexpr std::string_view kScheme = "http://";
  std::string_view rest = url;
  if (rest.substr(0, kScheme.size()) == kScheme) {
    rest.remove_prefix(kScheme.size());
  } else if (rest.find("://") != std::string_view::npos) {
    return MakeError("unsupported URL '" + url + "': only http:// is supported", ErrorCode::kBadUrl);
  } else if (!bare_ok) {
    return MakeError("'" + url + "' is not an http:// URL", ErrorCode::kBadUrl);
  }
  HttpUrl out;
  out.text = url;
  const size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view prefix = rest.substr(slash);
    while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
    out.prefix = std::string(prefix);
  }
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:7700
    const size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return MakeError("bad URL '" + url + "': unterminated '[' in host", ErrorCode::kBadUrl);
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return MakeError("bad URL '" + url + "': junk after ']'", ErrorCode::kBadUrl);
      port = after.substr(1);
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return MakeError("bad URL '" + url + "': no host", ErrorCode::kBadUrl);
  out.host = std::string(host);
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
      return MakeError("bad URL '" + url + "': port '" + std::string(port) + "' is not 1-65535", ErrorCode::kBadUrl);
    out.port = static_cast<int>(value);
  }
  return out;
}

}  // namespace kitty
