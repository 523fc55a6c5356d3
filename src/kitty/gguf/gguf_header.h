// The fixed GGUF header (magic, version, tensor and key/value counts) and the checks on it that
// both CheckGgufFile and ReadGgufInfo make. Internal to src/kitty/gguf.
#pragma once

#include <cstdint>
#include <string>

#include "kitty/base/result.h"
#include "kitty/gguf/file_reader.h"

namespace kitty {

struct GgufHeader {
  uint32_t version = 0;  // 1, 2 or 3
  uint64_t tensor_count = 0;
  uint64_t kv_count = 0;
};

/// Reads the header from the start of `r` and checks it: magic (with a hint for Git LFS
/// pointers and HTML error pages), version, and counts small enough for the rest of the file to
/// hold (so later loops are bounded by the file's size). Leaves `r` at the first key/value.
Status ReadGgufHeader(FileReader& r, const std::string& path, GgufHeader* h);

/// "'<path>' is not a valid GGUF file: <what>", code "model_file_invalid".
Error GgufInvalid(const std::string& path, const std::string& what);

}  // namespace kitty
