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

/// The ggml_type named `name`, case-insensitive ("f16", "q8_0", "Q4_K"); nullopt when no type
/// of this table has that name. llama-server's --cache-type-k/-v take these names in lower case.
std::optional<uint32_t> GgmlTypeFromName(std::string_view name);

/// Bytes of `elements` values of `layout`, whole blocks (ggml_row_size): elements that do not
/// fill a last block still take all of it.
uint64_t GgmlRowBytes(GgmlTypeLayout layout, uint64_t elements);

/// Short name of a llama_ftype as stored in general.file_type ("Q4_1", "Q4_K_M", "F16");
/// empty when unknown.
std::string_view FileTypeName(uint32_t file_type);

}  // namespace kitty
