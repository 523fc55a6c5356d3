// Reads the top-level "model" of an OpenAI request body without building a JSON tree:
// the gateway routes every request by it, so this is on the hot path.
#pragma once

#include <string>
#include <string_view>

#include "kitty/base/result.h"

namespace kitty::web {

/// The body's top-level "model" string. Errors: code "invalid_json" (with the parser's
/// position) when the body is not JSON or not an object; "missing_model" when there is no
/// string "model".
Result<std::string> ReadModelField(std::string_view body);

/// The JSON body with its "model" set to `id` (the model serving it, or the name an upstream
/// knows it by), or the body unchanged when it is not a JSON object.
std::string WithModel(const std::string& body, const std::string& id);

}  // namespace kitty::web
