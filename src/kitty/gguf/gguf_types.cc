#include "kitty/gguf/gguf_types.h"

#include <algorithm>
#include <array>

namespace kitty {
namespace {

struct TypeRow {
  std::string_view name;
  GgmlTypeLayout layout;
};

// Indexed by ggml_type; block sizes from ggml-common.h's block structs (QK_K = 256). Rows
// with an empty name are values ggml removed (Q4_2, Q4_3, the repacked Q4_0_x_y/IQ4_NL_x_y).
constexpr std::array<TypeRow, 40> kTypes = {{
    {"F32", {1, 4}},         // 0
    {"F16", {1, 2}},         // 1
    {"Q4_0", {32, 18}},      // 2
    {"Q4_1", {32, 20}},      // 3
    {"", {0, 0}},            // 4  Q4_2 (removed)
    {"", {0, 0}},            // 5  Q4_3 (removed)
    {"Q5_0", {32, 22}},      // 6
    {"Q5_1", {32, 24}},      // 7
    {"Q8_0", {32, 34}},      // 8
    {"Q8_1", {32, 36}},      // 9
    {"Q2_K", {256, 84}},     // 10
    {"Q3_K", {256, 110}},    // 11
    {"Q4_K", {256, 144}},    // 12
    {"Q5_K", {256, 176}},    // 13
    {"Q6_K", {256, 210}},    // 14
    {"Q8_K", {256, 292}},    // 15
    {"IQ2_XXS", {256, 66}},  // 16
    {"IQ2_XS", {256, 74}},   // 17
    {"IQ3_XXS", {256, 98}},  // 18
    {"IQ1_S", {256, 50}},    // 19
    {"IQ4_NL", {32, 18}},    // 20
    {"IQ3_S", {256, 110}},   // 21
    {"IQ2_S", {256, 82}},    // 22
    {"IQ4_XS", {256, 136}},  // 23
    {"I8", {1, 1}},          // 24
    {"I16", {1, 2}},         // 25
    {"I32", {1, 4}},         // 26
    {"I64", {1, 8}},         // 27
    {"F64", {1, 8}},         // 28
    {"IQ1_M", {256, 56}},    // 29
    {"BF16", {1, 2}},        // 30
    {"", {0, 0}},            // 31 Q4_0_4_4 (removed)
    {"", {0, 0}},            // 32 Q4_0_4_8 (removed)
    {"", {0, 0}},            // 33 Q4_0_8_8 (removed)
    {"TQ1_0", {256, 54}},    // 34
    {"TQ2_0", {256, 66}},    // 35
    {"", {0, 0}},            // 36 IQ4_NL_4_4 (removed)
    {"", {0, 0}},            // 37 IQ4_NL_4_8 (removed)
    {"", {0, 0}},            // 38 IQ4_NL_8_8 (removed)
    {"MXFP4", {32, 17}},     // 39
}};

// Indexed by llama_ftype (llama.h). Empty: removed values.
constexpr std::array<std::string_view, 41> kFileTypes = {
    "F32",      // 0  LLAMA_FTYPE_ALL_F32
    "F16",      // 1
    "Q4_0",     // 2
    "Q4_1",     // 3
    "",         // 4  Q4_1_SOME_F16 (removed)
    "",         // 5  Q4_2 (removed)
    "",         // 6  Q4_3 (removed)
    "Q8_0",     // 7
    "Q5_0",     // 8
    "Q5_1",     // 9
    "Q2_K",     // 10
    "Q3_K_S",   // 11
    "Q3_K_M",   // 12
    "Q3_K_L",   // 13
    "Q4_K_S",   // 14
    "Q4_K_M",   // 15
    "Q5_K_S",   // 16
    "Q5_K_M",   // 17
    "Q6_K",     // 18
    "IQ2_XXS",  // 19
    "IQ2_XS",   // 20
    "Q2_K_S",   // 21
    "IQ3_XS",   // 22
    "IQ3_XXS",  // 23
    "IQ1_S",    // 24
    "IQ4_NL",   // 25
    "IQ3_S",    // 26
    "IQ3_M",    // 27
    "IQ2_S",    // 28
    "IQ2_M",    // 29
    "IQ4_XS",   // 30
    "IQ1_M",    // 31
    "BF16",     // 32
    "",         // 33 Q4_0_4_4 (removed)
    "",         // 34 Q4_0_4_8 (removed)
    "",         // 35 Q4_0_8_8 (removed)
    "TQ1_0",    // 36
    "TQ2_0",    // 37
    "MXFP4_MOE",  // 38
    "NVFP4",    // 39
    "Q1_0",     // 40
};

}  // namespace

std::optional<GgmlTypeLayout> GgmlTypeLayoutOf(uint32_t type) {
  if (type >= kTypes.size() || kTypes[type].name.empty()) return std::nullopt;
  return kTypes[type].layout;
}

std::string_view GgmlTypeName(uint32_t type) {
  return type < kTypes.size() ? kTypes[type].name : std::string_view();
}

std::optional<uint32_t> GgmlTypeFromName(std::string_view name) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  for (uint32_t t = 0; t < kTypes.size(); ++t) {
    std::string_view n = kTypes[t].name;
    if (n.empty() || n.size() != name.size()) continue;
    if (std::equal(n.begin(), n.end(), name.begin(), [&](char a, char b) { return lower(a) == lower(b); }))
      return t;
  }
  return std::nullopt;
}

uint64_t GgmlRowBytes(GgmlTypeLayout layout, uint64_t elements) {
  if (layout.block_elements == 0) return 0;
  return (elements + layout.block_elements - 1) / layout.block_elements * layout.block_bytes;
}

std::string_view FileTypeName(uint32_t file_type) {
  return file_type < kFileTypes.size() ? kFileTypes[file_type] : std::string_view();
}

}  // namespace kitty
