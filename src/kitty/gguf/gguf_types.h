// Tables of llama.cpp/ggml enums the GGUF reader needs: the size of each tensor type's blocks
// (to know how many bytes a tensor's data takes) and readable names of general.file_type.
// Pure functions; unknown values are reported as unknown, never guessed.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace kitty {

/// How ggml stores one tensor type: `block_elements` elements take `block_bytes` bytes.
struct GgmlTypeLayout {
  uint32_t block_elements;
  uint32_t block_bytes;
};

/// The block layout of ggml_type `type` (GGML_TYPE_F32 = 0 ... MXFP4 = 39), or nullopt for
/// values removed from ggml or newer than this table.
std::optional<GgmlTypeLayout> GgmlTypeLayoutOf(uint32_t type);

/// Short name of a ggml_type ("F16", "Q4_K"); empty when unknown.
std::string_view GgmlTypeName(uint32_t type);

/// Short name of a llama_ftype as stored in general.file_type ("Q4_1", "Q4_K_M", "F16");
/// empty when unknown.
std::string_view FileTypeName(uint32_t file_type);

}  // namespace kitty
