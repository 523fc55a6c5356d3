#include "kitty/memory/footprint.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <map>
#include <vector>

#include "kitty/backends/plan.h"
#include "kitty/base/bytes.h"
#include "kitty/gguf/gguf_types.h"

// Sources for the sizing below (llama.cpp, build b11434, the one scripts/install_engine.sh
// installs). The code was read through the search tool (ggml-org/llama.cpp; the stored
// revision prints the same llama_context log lines as b11434) and every rule was checked
// against what b11434 logs for SmolLM2-135M:
//   [ctx]  src/llama-context.cpp, llama_context::llama_context:
//            n_ctx    = params.n_ctx == 0 ? n_ctx_train : params.n_ctx
//            n_batch  = min(n_ctx, n_batch)            (causal attention)
//            n_ubatch = min(n_batch, n_ubatch)
//            n_ctx    = GGML_PAD(n_ctx, 256)
//            unified:   n_ctx_seq = n_ctx
//            else:      n_ctx_seq = GGML_PAD(n_ctx / n_seq_max, 256); n_ctx = n_ctx_seq * n_seq_max
//          So -c is the TOTAL number of KV cells, shared by the slots; b11434 logs
//          "n_ctx = 2304, n_ctx_seq = 768" for -c 2048 -np 3.
//   [defaults] common/common.h: n_ctx 0 (= the trained context; b11434 --help: "-c ...
//          (default: 0, 0 = loaded from model)", so no cap), n_batch 2048, n_ubatch 512, cache
//          types F16, cache_ram_mib 8192, fit_params on with fit_params_min_ctx 4096.
//   [auto] b11434 without --parallel logs "n_parallel is set to auto, using n_parallel = 4 and
//          kv_unified = true"; --help: "-kvu ... (default: enabled if number of slots is auto)".
//   [kv]   llama_kv_cache: per layer and cell, K holds n_head_kv * n_embd_head_k values of
//          type_k and V n_head_kv * n_embd_head_v of type_v (ggml_row_size); n_embd_head_* is
//          <arch>.attention.key_length/value_length, else n_embd / n_head. b11434 logs
//          "size = 45.00 MiB (1024 cells, 30 layers, 2/2 seqs), K (f16): 22.50 MiB" for -c 2048
//          -np 2: 2048 cells * 30 layers * 3 heads * 64 * 2 bytes * 2 (K and V) = 45 MiB.
//   [outputs] the server reserves logits for one output per slot, not per batch token
//          (llama.cpp PR #23861, "limit max outputs of llama_context"): no vocabulary-sized
//          term per ubatch token in the compute buffer.
//
// Not modelled (the learned footprint corrects them after the first run): sliding-window
// layers (their KV is smaller), recurrent state (Mamba-like models), DeepSeek's MLA cache
// layout, --fit lowering an unset ctx on a machine short of memory (the estimate is then an
// upper bound), the host memory of GPU runtimes (CUDA's libraries take hundreds of MiB of RAM),
// CPU weight repacking, and the mmproj's compute.

namespace kitty {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kCtxPad = 256;             // [ctx] GGML_PAD(n_ctx, 256)
constexpr int64_t kDefaultBatch = 2048;       // [defaults]
constexpr int64_t kDefaultUbatch = 512;       // [defaults]
constexpr uint64_t kAutoParallel = 4;         // [auto]
constexpr int64_t kDefaultCacheRamMib = 8192; // [defaults]
constexpr uint64_t kF32 = 4;                  // bytes of an activation
constexpr uint64_t kF16 = 2;

// The llama-server runtime beyond the buffers above: the binary and its libraries, the
// vocabulary and tokenizer tables, thread stacks, the HTTP server. A heuristic, calibrated on
// the engine rather than on a model: b11434 (CPU build) running SmolLM2-135M held 16.7 MiB more
// (VmHWM) than the weights, KV cache, compute and output buffers it logs; rounded up for larger
// vocabularies.
constexpr uint64_t kRuntimeAllowance = 20 * kMiB;

Error Invalid(const std::string& what) { return MakeError(what, ErrorCode::kConfigInvalid); }

uint64_t PadUp(uint64_t n, uint64_t pad) { return (n + pad - 1) / pad * pad; }

// The llama-server options that change its memory: their flags and environment variable
// (llama-server --help of b11434). kv_unified is a switch; the others take a value.
enum class Opt {
  kCtx, kParallel, kBatch, kUbatch, kFlashAttn, kCacheK, kCacheV, kCacheRam, kKvUnified,
};

struct OptSpec {
  Opt opt;
  std::array<const char*, 2> flags;
  const char* env;
};

constexpr std::array<OptSpec, 9> kOpts = {{
    {Opt::kCtx, {"-c", "--ctx-size"}, "LLAMA_ARG_CTX_SIZE"},
    {Opt::kParallel, {"-np", "--parallel"}, "LLAMA_ARG_N_PARALLEL"},
    {Opt::kBatch, {"-b", "--batch-size"}, "LLAMA_ARG_BATCH"},
    {Opt::kUbatch, {"-ub", "--ubatch-size"}, "LLAMA_ARG_UBATCH"},
    {Opt::kFlashAttn, {"-fa", "--flash-attn"}, "LLAMA_ARG_FLASH_ATTN"},
    {Opt::kCacheK, {"-ctk", "--cache-type-k"}, "LLAMA_ARG_CACHE_TYPE_K"},
    {Opt::kCacheV, {"-ctv", "--cache-type-v"}, "LLAMA_ARG_CACHE_TYPE_V"},
    {Opt::kCacheRam, {"-cram", "--cache-ram"}, "LLAMA_ARG_CACHE_RAM"},
    {Opt::kKvUnified, {"-kvu", "--kv-unified"}, "LLAMA_ARG_KV_UNIFIED"},
}};

struct Setting {
  std::string value;
  std::string origin;  // "--ctx-size", "env LLAMA_ARG_CTX_SIZE": for error messages
};

// Environment first, then argv in order: a later flag replaces an earlier one, as in
// llama.cpp's parser (extra_args come after kittyd's own flags).
Result<std::map<Opt, Setting>> CollectSettings(const ModelConfig& m) {
  std::map<Opt, Setting> out;
  for (const OptSpec& s : kOpts) {
    if (auto it = m.env.find(s.env); it != m.env.end())
      out[s.opt] = {it->second, std::string("env ") + s.env};
  }
  const std::vector<std::string> argv = LlamaServerArgv(m, "llama-server", 0);
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "-no-kvu" || a == "--no-kv-unified") {
      out[Opt::kKvUnified] = {"off", a};
      continue;
    }
    for (const OptSpec& s : kOpts) {
      if (a != s.flags[0] && a != s.flags[1]) continue;
      if (s.opt == Opt::kKvUnified) {
        out[s.opt] = {"on", a};
      } else if (i + 1 >= argv.size()) {
        return Invalid(a + " has no value");
      } else {
        out[s.opt] = {argv[++i], a};
      }
      break;
    }
  }
  return out;
}

Result<int64_t> ToInt(const Setting& s, int64_t min) {
  int64_t v = 0;
  const char* end = s.value.data() + s.value.size();
  auto [p, ec] = std::from_chars(s.value.data(), end, v);
  if (ec != std::errc() || p != end) return Invalid(s.origin + " '" + s.value + "' is not a number");
  if (v < min) return Invalid(s.origin + " " + s.value + " is below " + std::to_string(min));
  return v;
}

Result<bool> ToSwitch(const Setting& s) {
  for (const char* on : {"on", "1", "true", "enabled"})
    if (s.value == on) return true;
  for (const char* off : {"off", "0", "false", "disabled"})
    if (s.value == off) return false;
  return Invalid(s.origin + " '" + s.value + "' is not on or off");
}

Result<uint32_t> ToCacheType(const Setting& s) {
  // --help of b11434: "allowed values: f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1".
  static constexpr std::array<const char*, 9> kAllowed = {"f32",  "f16",  "bf16",   "q8_0", "q4_0",
                                                          "q4_1", "q5_0", "iq4_nl", "q5_1"};
  if (std::find(kAllowed.begin(), kAllowed.end(), s.value) != kAllowed.end())
    if (auto t = GgmlTypeFromName(s.value)) return *t;
  return Invalid(s.origin + " '" + s.value +
                 "' is not a KV cache type (f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1)");
}

std::string TypeName(uint32_t t) {
  std::string n(GgmlTypeName(t));
  for (char& c : n) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return n;
}

// The feed-forward width a token's activations take: a dense model's n_ff, or the experts a
// token is routed to (mul_mat_id gives each token n_expert_used rows of the expert width).
// Without either, 4 * n_embd, the classic transformer ratio (SwiGLU models have 2.7-5.3).
uint64_t FfnWidth(const GgufInfo& g, uint64_t n_embd) {
  uint64_t dense = g.feed_forward_length.value_or(0);
  uint64_t moe = 0;
  if (g.expert_used_count.value_or(0) > 0)
    moe = *g.expert_used_count * g.expert_feed_forward_length.value_or(dense);
  const uint64_t w = std::max(dense, moe);
  return w > 0 ? w : 4 * n_embd;
}

uint64_t WeightsOf(const GgufInfo& g) {
  if (g.tensor_data_bytes) return *g.tensor_data_bytes;
  // A tensor type this reader does not know: everything after the data offset is tensor data
  // (and padding), near enough.
  return g.file_size_bytes > g.data_offset ? g.file_size_bytes - g.data_offset : 0;
}

// The model's attention shape, as the KV cache uses it.
struct KvShape {
  uint64_t n_layer = 0;
  uint64_t n_head_kv = 0;
  uint64_t head_k = 0;  // values per head in a K row
  uint64_t head_v = 0;
};

std::string Explain(const Footprint& f, const LlamaServerSizing& z, const KvShape& kv, bool mmproj,
                    std::optional<int> ngl) {
  auto n = [](uint64_t v) { return std::to_string(v); };
  std::string cells = n(z.n_ctx) + " cells";
  if (z.n_seq > 1)
    cells += z.kv_unified ? " shared by " + n(z.n_seq) + " slots"
                          : " = " + n(z.n_seq) + " slots x " + n(z.n_ctx_seq);
  std::string e = "weights " + FormatBytes(f.weights_bytes) + (mmproj ? " (model + mmproj)" : "");
  e += " + KV cache " + FormatBytes(f.kv_cache_bytes) + " (" + cells + ", " + n(kv.n_layer) +
       " layers x " + n(kv.n_head_kv) + " KV heads x " + n(kv.head_k) + "+" + n(kv.head_v) +
       " dims, " + TypeName(z.type_k) + "/" + TypeName(z.type_v) + ")";
  e += " + compute " + FormatBytes(f.compute_bytes) + " (heuristic: ubatch " + n(z.n_ubatch) +
       (z.flash_attn ? ", flash attention)" : ", no flash attention)");
  e += " + runtime " + FormatBytes(f.runtime_bytes) + " (heuristic) = " + FormatBytes(f.total_bytes);
  if (!f.prompt_cache_limit_bytes)
    e += "; the prompt cache may grow without limit with traffic (--cache-ram -1)";
  else if (*f.prompt_cache_limit_bytes > 0)
    e += "; the prompt cache may add up to " + FormatBytes(*f.prompt_cache_limit_bytes) +
         " with traffic (--cache-ram)";
  if (ngl && *ngl != 0) e += "; ngl " + std::to_string(*ngl) + ": RAM and GPU memory counted together";
  return e;
}

}  // namespace

std::string_view FootprintBasisName(FootprintBasis b) {
  switch (b) {
    case FootprintBasis::kEstimate: return "estimate";
    case FootprintBasis::kConfig: return "config";
    case FootprintBasis::kUnknown: return "unknown";
  }
  return "unknown";
}

Result<LlamaServerSizing> ResolveLlamaServerSizing(const ModelConfig& m, const GgufInfo& model) {
  auto settings = CollectSettings(m);
  if (!settings.ok()) return settings.error();
  auto get = [&](Opt o) -> const Setting* {
    auto it = settings->find(o);
    return it == settings->end() ? nullptr : &it->second;
  };

  // An integer option into *out, when it is set.
  auto read_int = [&](Opt o, int64_t min, int64_t* out) -> Status {
    const Setting* s = get(o);
    if (s == nullptr) return Status::Ok();
    auto v = ToInt(*s, min);
    if (!v.ok()) return v.error();
    *out = *v;
    return Status::Ok();
  };

  LlamaServerSizing z;
  int64_t ctx = 0, parallel = -1, batch = kDefaultBatch, ubatch = kDefaultUbatch;
  z.cache_ram_mib = kDefaultCacheRamMib;
  for (Status st : {read_int(Opt::kCtx, 0, &ctx), read_int(Opt::kParallel, -1, &parallel),
                    read_int(Opt::kBatch, 1, &batch), read_int(Opt::kUbatch, 1, &ubatch),
                    read_int(Opt::kCacheRam, -1, &z.cache_ram_mib)}) {
    if (!st.ok()) return st.error();
  }
  if (parallel == 0)
    return Invalid(get(Opt::kParallel)->origin + " 0: use -1 (auto) or a number of slots");
  if (const Setting* s = get(Opt::kFlashAttn)) {
    // `auto` turns flash attention on where the device supports it: the CPU does (b11434 logs
    // "Flash Attention enabled"), and so do current GPUs. Counted as on.
    if (s->value != "auto") {
      auto v = ToSwitch(*s);
      if (!v.ok()) return v.error();
      z.flash_attn = *v;
    }
  }
  for (auto [opt, type] : {std::pair{Opt::kCacheK, &z.type_k}, std::pair{Opt::kCacheV, &z.type_v}}) {
    if (const Setting* s = get(opt)) {
      auto v = ToCacheType(*s);
      if (!v.ok()) return v.error();
      *type = *v;
    }
  }
  std::optional<bool> kv_unified;
  if (const Setting* s = get(Opt::kKvUnified)) {
    auto v = ToSwitch(*s);
    if (!v.ok()) return v.error();
    kv_unified = *v;
  }

  // [auto]: no --parallel means 4 slots on one unified cache.
  z.n_seq = parallel < 0 ? kAutoParallel : static_cast<uint64_t>(parallel);
  z.kv_unified = parallel < 0 ? true : kv_unified.value_or(false);

  // [ctx]
  uint64_t n_ctx = static_cast<uint64_t>(ctx);
  if (n_ctx == 0) {
    if (!model.context_length || *model.context_length == 0)
      return Invalid("no ctx is set and the GGUF has no context_length to default to");
    n_ctx = *model.context_length;
  }
  z.n_batch = std::min<uint64_t>(n_ctx, static_cast<uint64_t>(batch));
  z.n_ubatch = std::min<uint64_t>(z.n_batch, static_cast<uint64_t>(ubatch));
  n_ctx = PadUp(n_ctx, kCtxPad);
  if (z.kv_unified) {
    z.n_ctx_seq = n_ctx;
  } else {
    z.n_ctx_seq = PadUp(n_ctx / z.n_seq, kCtxPad);
    if (z.n_ctx_seq == 0)  // llama.cpp throws "n_ctx_seq == 0": llama-server would not start
      return Invalid("ctx " + std::to_string(n_ctx) + " is less than one cell per slot for " +
                     std::to_string(z.n_seq) + " slots");
    n_ctx = z.n_ctx_seq * z.n_seq;
  }
  z.n_ctx = n_ctx;
  return z;
}

Result<Footprint> EstimateFootprint(const ModelConfig& m, const GgufInfo& model, const GgufInfo* mmproj) {
  auto sizing = ResolveLlamaServerSizing(m, model);
  if (!sizing.ok()) return sizing.error();
  const LlamaServerSizing& z = *sizing;

  if (!model.block_count) return Invalid("the GGUF has no block_count");
  const uint64_t n_embd = model.embedding_length.value_or(0);
  const uint64_t n_head = model.head_count.value_or(0);
  if (n_embd == 0) return Invalid("the GGUF has no embedding_length");
  // llama.cpp's defaults: n_head_kv = n_head, n_embd_head = n_embd / n_head.
  KvShape kv;
  kv.n_layer = *model.block_count;
  kv.n_head_kv = model.head_count_kv.value_or(n_head);
  kv.head_k = model.key_length.value_or(n_head > 0 ? n_embd / n_head : 0);
  kv.head_v = model.value_length.value_or(kv.head_k);
  if (kv.n_head_kv > 0 && kv.head_k == 0)
    return Invalid("the GGUF gives neither attention.key_length nor attention.head_count");

  Footprint f;
  f.basis = FootprintBasis::kEstimate;
  f.weights_bytes = WeightsOf(model) + (mmproj ? WeightsOf(*mmproj) : 0);

  // [kv]: every cell of every layer holds one K row and one V row.
  // (Both types come from ToCacheType, which only returns types of the layout table.)
  const uint64_t row_k = GgmlRowBytes(*GgmlTypeLayoutOf(z.type_k), kv.n_head_kv * kv.head_k);
  const uint64_t row_v = GgmlRowBytes(*GgmlTypeLayoutOf(z.type_v), kv.n_head_kv * kv.head_v);
  f.kv_cache_bytes = z.n_ctx * kv.n_layer * (row_k + row_v);

  // Compute buffer: a HEURISTIC. llama.cpp sizes it by reserving the worst-case graph (one
  // ubatch attending over a full cache) and keeping the peak of the tensors alive at once; the
  // allocator reuses memory between layers, so the peak is one layer's, not the sum. We count:
  //   - the feed-forward step, f32 per ubatch token: gate, up and their product (3 * n_ff)
  //     plus 4 embedding-wide rows (token embeddings, residual stream, normed input, output);
  //   - the KQ mask, an input alive through the whole graph: n_kv * n_ubatch, f16 with flash
  //     attention, f32 without (n_kv = the cells one slot's stream holds);
  //   - without flash attention, the attention step can be the peak instead: the f32 scores of
  //     every head (n_kv * n_ubatch * n_head) plus 4 embedding-wide rows (Q, K, V, output).
  // No vocabulary-sized term: [outputs]. Checked against b11434's logged compute buffer for
  // SmolLM2-135M (ubatch 512): 14.5 MiB estimated vs 15.6 logged with flash attention at
  // -c 2048 -np 2, 84.5 vs 87.5 without it at -c 8192 -np 2.
  const uint64_t n_kv = z.n_ctx_seq;
  const uint64_t ffn = z.n_ubatch * kF32 * (3 * FfnWidth(model, n_embd) + 4 * n_embd);
  const uint64_t mask = n_kv * z.n_ubatch * (z.flash_attn ? kF16 : kF32);
  const uint64_t scores =
      z.flash_attn ? 0 : n_kv * z.n_ubatch * n_head * kF32 + z.n_ubatch * kF32 * 4 * n_embd;
  f.compute_bytes = mask + std::max(ffn, scores);

  f.runtime_bytes = kRuntimeAllowance;
  f.total_bytes = f.weights_bytes + f.kv_cache_bytes + f.compute_bytes + f.runtime_bytes;
  if (z.cache_ram_mib >= 0)
    f.prompt_cache_limit_bytes = static_cast<uint64_t>(z.cache_ram_mib) * kMiB;

  f.explanation = Explain(f, z, kv, mmproj != nullptr, m.ngl);
  return f;
}

Footprint InitialFootprint(const ModelConfig& m, std::optional<uint64_t> memory_bytes, const GgufInfo* model,
                           const GgufInfo* mmproj) {
  Footprint f;
  if (memory_bytes) {
    f.basis = FootprintBasis::kConfig;
    f.total_bytes = *memory_bytes;
    f.explanation = "memory: " + FormatBytes(*memory_bytes) + " (configured)";
    return f;
  }
  if (m.backend != Backend::kLlamaServer) {
    f.explanation = std::string("no memory: key for a ") + BackendName(m.backend) + " model";
    return f;
  }
  if (model == nullptr) {
    f.explanation = "the model file's GGUF header was not read";
    return f;
  }
  auto est = EstimateFootprint(m, *model, mmproj);
  if (!est.ok()) {
    f.explanation = "cannot estimate: " + est.error().message;
    return f;
  }
  return std::move(est).value();
}

}  // namespace kitty
