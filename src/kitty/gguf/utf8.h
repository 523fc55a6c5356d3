// Text from untrusted files: making it valid UTF-8 for JSON, and escaping it for error messages.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kitty {

/// Returns `in` with each byte that does not start a well-formed UTF-8 sequence (overlong forms,
/// UTF-16 surrogates and code points past U+10FFFF included) replaced by U+FFFD. nlohmann::json
/// throws when dumping invalid UTF-8, and file metadata is untrusted.
std::string SanitizeUtf8(std::string_view in);

/// At most `max` bytes of `s` as printable ASCII: other bytes, '\\' and '"' become \xNN;
/// "..." marks a cut.
std::string EscapeForMessage(std::string_view s, size_t max = 64);

}  // namespace kitty
