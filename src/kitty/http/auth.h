// API key checks for the gateway and admin routes: Bearer tokens compared in constant time.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace kitty::web {

/// Compares without an early exit, so the time taken does not reveal how much matched.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

/// True when `keys` is empty (auth off) or `authorization` is "Bearer <k>" for a k in keys.
/// Every key is compared, match or not.
bool Authorized(const std::vector<std::string>& keys, std::string_view authorization);

}  // namespace kitty::web
