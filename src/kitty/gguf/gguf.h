// GGUF model files: a quick validity check before a worker is spawned, and the metadata kittyd
// shows in GET /v1/models and `kittyctl models` and bases memory estimates on.
//
// Every length and count in a GGUF file is untrusted. The reader streams the header, the
// metadata key/values and the tensor infos through a 64 KiB buffer; it never reads or maps the
// tensor data, stores only the handful of values below (large arrays such as the tokenizer's
// vocabulary are skipped, not held), rejects any count that cannot fit in the rest of the file
// before looping over it, and allocates nothing proportional to a number read from the file
// beyond small fixed caps. Every loop consumes bytes of the file or fails, so a hostile file ends
// in an error, never a crash, a hang or an allocation blow-up.
//
// Format (little-endian): "GGUF", u32 version, then tensor_count and kv_count (u64; u32 in v1),
// kv_count × {string key, u32 value type, value}, tensor_count × {string name, u32 n_dims,
// n_dims × u64 dims, u32 ggml type, u64 offset}, padding to general.alignment (default 32), and
// the tensor data. Strings are a u64 length (u32 in v1) and bytes; arrays are a u32 element
// type, a u64 count (u32 in v1) and the elements.
//
// Thread-safety: the functions are reentrant; they share no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "kitty/base/result.h"

namespace kitty {

/// What kittyd knows about a model file without loading it. Optional fields are absent when the
/// file does not say (or says it with an unexpected type).
struct GgufInfo {
  uint32_t version = 0;
  uint64_t tensor_count = 0;
  uint64_t kv_count = 0;
  uint64_t file_size_bytes = 0;

  std::optional<std::string> architecture;  // general.architecture ("llama", "qwen2", ...)
  std::optional<std::string> name;          // general.name
  std::optional<std::string> size_label;    // general.size_label ("135M", "8x7B")

  /// general.parameter_count, else the sum of the tensors' element counts.
  std::optional<uint64_t> parameter_count;
  std::optional<uint32_t> file_type;  // general.file_type (llama_ftype)
  std::string file_type_name;         // "Q4_K_M"; empty when file_type is absent or unknown

  // <arch>.* hyperparameters. A per-layer array (some models give head counts per layer) is
  // reported as its largest element.
  std::optional<uint64_t> context_length;    // trained context, tokens
  std::optional<uint64_t> block_count;       // layers
  std::optional<uint64_t> embedding_length;
  std::optional<uint64_t> head_count;        // <arch>.attention.head_count
  std::optional<uint64_t> head_count_kv;     // <arch>.attention.head_count_kv
  std::optional<uint64_t> key_length;        // <arch>.attention.key_length (head dim of K)
  std::optional<uint64_t> value_length;      // <arch>.attention.value_length
  // The feed-forward width, for the compute-buffer part of a memory estimate
  // (memory/footprint.h). Mixture-of-experts models give the experts' width and how many
  // experts each token uses; dense models give only feed_forward_length.
  std::optional<uint64_t> feed_forward_length;         // <arch>.feed_forward_length
  std::optional<uint64_t> expert_feed_forward_length;  // <arch>.expert_feed_forward_length
  std::optional<uint64_t> expert_used_count;           // <arch>.expert_used_count

  bool has_chat_template = false;  // tokenizer.chat_template present (the text is not kept)

  uint64_t alignment = 32;    // general.alignment
  /// Where tensor data starts. A file without tensors (a vocabulary-only GGUF) may end before
  /// this offset: its padding is optional.
  uint64_t data_offset = 0;
  /// Bytes of tensor data the tensor infos describe; absent when a tensor has a type this
  /// reader does not know (then the file's length is not checked against it either).
  std::optional<uint64_t> tensor_data_bytes;
};

/// The cheap check kittyd runs before spawning a worker: the file exists, is a readable regular
/// file, starts with the GGUF magic, has a supported version (1-3) and a header whose counts
/// could fit in the file. Reads at most the first 24 bytes. Errors (code ErrorCode::kModelFileInvalid):
///   model file '/x.gguf' does not exist
///   model file '/x.gguf' is a directory, not a file
///   model file '/x.gguf' is not readable: Permission denied
///   '/x.gguf' is not a GGUF file (magic 0x7f454c46 "\x7fELF", expected "GGUF")
///   '/x.gguf' has unsupported GGUF version 99 (supported: 1, 2, 3)
Status CheckGgufFile(const std::string& path);

/// Everything CheckGgufFile checks, then the metadata key/values and the tensor infos, and that
/// the file is long enough to hold the tensor data they describe (a truncated download fails
/// here rather than in the worker). Errors have code "model_file_invalid" and say what is wrong
/// and at which offset: "'/x.gguf' is not a valid GGUF file: kv 7 ('tokenizer.ggml.tokens'):
/// array of 4294967296 string elements cannot fit in the 1200 bytes left (offset 4096)".
Result<GgufInfo> ReadGgufInfo(const std::string& path);

/// The API shape (`"gguf"` in GET /v1/models): snake_case keys as in GgufInfo, null for absent
/// optional fields; file_type_name is null when empty.
nlohmann::json ToJson(const GgufInfo& info);

}  // namespace kitty
