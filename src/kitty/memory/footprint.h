// Footprints: how much memory a model's worker is expected to hold, before it has ever run
// (issue 9, item 3). The scheduler plans a start with the learned footprint (the measured peak
// of an earlier run, footprint_store.h) when there is one, else with the figure from here:
//   - llama_server: an estimate from the GGUF file and the flags kittyd passes, sized the way
//     llama-server b11434 sizes its buffers (see EstimateFootprint);
//   - any backend whose config has an explicit `memory:` (bytes): that figure;
//   - otherwise unknown.
//
// The estimate is one number for the whole process: RAM and GPU memory together. It is kept in
// parts (weights, KV cache, compute, runtime) so that a later split by device can place them:
// with `ngl` layers offloaded, the weights and KV cache of those layers and most of the compute
// buffer go to the GPU, the rest stays in RAM.
//
// Pure functions of their arguments: no I/O, callable from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kitty/base/result.h"
#include "kitty/config/config.h"
#include "kitty/gguf/gguf.h"

namespace kitty {

/// Where an expected footprint comes from: docs/API.md's `memory.basis`, but for "learned",
/// which only the footprint store gives.
enum class FootprintBasis { kEstimate, kConfig, kUnknown };

/// "estimate", "config", "unknown".
std::string_view FootprintBasisName(FootprintBasis b);

/// The buffers llama-server b11434 allocates for a config, resolved as it resolves them.
struct LlamaServerSizing {
  uint64_t n_ctx = 0;      // KV cells of all slots together, after llama.cpp's rounding
  uint64_t n_ctx_seq = 0;  // cells one slot may use
  uint64_t n_seq = 0;      // slots (--parallel)
  bool kv_unified = false;
  uint64_t n_batch = 0;
  uint64_t n_ubatch = 0;
  uint32_t type_k = 1;  // ggml_type of the K and V caches (1 = F16)
  uint32_t type_v = 1;
  bool flash_attn = true;  // `auto` counts as on: see the .cc
  /// --cache-ram in MiB: 0 = no prompt cache, -1 = no limit.
  int64_t cache_ram_mib = 8192;
};

/// Resolves what llama-server will allocate for model `m`: the argv kittyd builds for it
/// (LlamaServerArgv, so extra_args are read as llama-server reads them: the last flag wins),
/// with LLAMA_ARG_* variables of the model's `env` as defaults. Errors (code kConfigInvalid)
/// for values llama-server would refuse ("--cache-type-k 'q9_0' is not a KV cache type") and
/// for a context it cannot size ("no ctx and the GGUF has no context_length").
Result<LlamaServerSizing> ResolveLlamaServerSizing(const ModelConfig& m, const GgufInfo& model);

struct Footprint {
  FootprintBasis basis = FootprintBasis::kUnknown;
  uint64_t weights_bytes = 0;   // tensor data of the model (and of the mmproj)
  uint64_t kv_cache_bytes = 0;  // K and V for every cell of every layer
  uint64_t compute_bytes = 0;   // llama.cpp's compute buffer: a heuristic
  uint64_t runtime_bytes = 0;   // the process itself: a heuristic
  /// The sum of the parts (kEstimate), the configured figure (kConfig), 0 when kUnknown.
  uint64_t total_bytes = 0;
  /// What llama-server's prompt cache may add with traffic (--cache-ram; not in total_bytes):
  /// it keeps copies of idle slots' KV in RAM, up to this much. nullopt: no limit, or not a
  /// llama_server estimate.
  std::optional<uint64_t> prompt_cache_limit_bytes;
  /// How the figure was reached, for logs and status: "weights 92.1 MiB + KV cache 45 MiB
  /// (...) + compute 14.5 MiB (heuristic) + runtime 20 MiB (heuristic) = 171.6 MiB".
  std::string explanation;
};

/// The estimate for a llama_server model: weights + KV cache + compute + runtime (see the .cc
/// for each formula and its source). `mmproj` is the model's --mmproj file when it has one: its
/// weights are added, its own compute is not (a heuristic for vision encoders is future work).
/// Errors: those of ResolveLlamaServerSizing, and a GGUF without the hyperparameters the KV
/// cache needs (block_count; key_length or embedding_length and head_count).
Result<Footprint> EstimateFootprint(const ModelConfig& m, const GgufInfo& model,
                                    const GgufInfo* mmproj = nullptr);

/// The footprint a model starts with before any run: its configured `memory:` bytes when set
/// (any backend), else for llama_server the estimate (an error makes it kUnknown with the error
/// as explanation), else kUnknown. `model`/`mmproj` may be null when not read (or unreadable).
Footprint InitialFootprint(const ModelConfig& m, std::optional<uint64_t> memory_bytes,
                           const GgufInfo* model, const GgufInfo* mmproj = nullptr);

}  // namespace kitty
