// The configuration kittyd uses when started without --config: one small real model
// (smollm2-135m, alias smol). Its text is config/default.yaml, compiled in.
#pragma once

#include <string_view>

namespace kitty {

/// Name used for errors and Config::path when loading the embedded default.
inline constexpr const char* kEmbeddedDefaultName = "<embedded default>";

/// The YAML text of config/default.yaml; load it with
/// LoadConfigString(EmbeddedDefaultConfig(), kEmbeddedDefaultName).
std::string_view EmbeddedDefaultConfig();

}  // namespace kitty
