#include "kitty/http/auth.h"

#include <algorithm>

namespace kitty::web {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? a[i] : 0;
    const unsigned char y = i < b.size() ? b[i] : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

bool Authorized(const std::vector<std::string>& keys, std::string_view authorization) {
  if (keys.empty()) return true;
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() < kBearer.size()) return false;
  std::string scheme(authorization.substr(0, kBearer.size()));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::tolower);
  if (scheme != "bearer ") return false;
  const std::string_view token = authorization.substr(kBearer.size());
  bool ok = false;
  for (const auto& k : keys) ok |= ConstantTimeEquals(token, k);
  return ok;
}

}  // namespace kitty::web
