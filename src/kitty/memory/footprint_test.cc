#include "kitty/memory/footprint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kitty {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kRuntime = 20 * kMiB;

// SmolLM2-135M's hyperparameters (the real file's, see gguf_test.cc), with round weights.
GgufInfo Smol() {
  GgufInfo g;
  g.architecture = "llama";
  g.context_length = 8192;
  g.block_count = 30;
  g.embedding_length = 576;
  g.head_count = 9;
  g.head_count_kv = 3;
  g.key_length = 64;
  g.feed_forward_length = 1536;
  g.tensor_data_bytes = 100'000'000;
  return g;
}

ModelConfig Llama(std::optional<int> ctx, std::optional<int> parallel,
                  std::vector<std::string> extra = {}) {
  ModelConfig m;
  m.id = "smol";
  m.model_path = "/m.gguf";
  m.ctx = ctx;
  m.parallel = parallel;
  m.extra_args = std::move(extra);
  return m;
}

LlamaServerSizing Sizing(const ModelConfig& m, const GgufInfo& g = Smol()) {
  auto r = ResolveLlamaServerSizing(m, g);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : LlamaServerSizing{};
}

Footprint Estimate(const ModelConfig& m, const GgufInfo& g = Smol()) {
  auto r = EstimateFootprint(m, g);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : Footprint{};
}

std::string EstimateError(const ModelConfig& m, const GgufInfo& g = Smol()) {
  auto r = EstimateFootprint(m, g);
  return r.ok() ? "(no error)" : r.error().message;
}

// kittyd's default config: ctx 2048, parallel 2. Every figure by hand:
//   cells:   -c is the total, 2 slots x 1024 (b11434: "n_ctx_seq = 1024")
//   KV:      2048 cells x 30 layers x (3 heads x 64 x 2 bytes) x 2 (K, V)     = 47,185,920
//   compute: mask 1024 x 512 x 2 bytes                                         =  1,048,576
//            + ffn 512 tokens x 4 bytes x (3 x 1536 + 4 x 576)                 = 14,155,776
//   runtime: 20 MiB                                                            = 20,971,520
TEST(FootprintEstimate, DefaultConfigByHand) {
  Footprint f = Estimate(Llama(2048, 2));
  EXPECT_EQ(f.basis, FootprintBasis::kEstimate);
  EXPECT_EQ(f.weights_bytes, 100'000'000u);
  EXPECT_EQ(f.kv_cache_bytes, 47'185'920u);
  EXPECT_EQ(f.kv_cache_bytes, 45 * kMiB);  // what b11434 logs for this config
  EXPECT_EQ(f.compute_bytes, 1'048'576u + 14'155'776u);
  EXPECT_EQ(f.runtime_bytes, kRuntime);
  EXPECT_EQ(f.total_bytes, 100'000'000u + 47'185'920u + 15'204'352u + kRuntime);
  EXPECT_EQ(f.prompt_cache_limit_bytes, 8192 * kMiB);
  EXPECT_THAT(f.explanation, HasSubstr("KV cache 45 MiB (2048 cells = 2 slots x 1024, 30 layers x "
                                       "3 KV heads x 64+64 dims, f16/f16)"));
  EXPECT_THAT(f.explanation, HasSubstr("compute 14.5 MiB (heuristic: ubatch 512, flash attention)"));
  EXPECT_THAT(f.explanation, HasSubstr("runtime 20 MiB (heuristic) = 174.9 MiB"));
  EXPECT_THAT(f.explanation, HasSubstr("prompt cache may add up to 8 GiB"));
}

TEST(FootprintSizing, CtxIsTheTotalSharedBySlots) {
  LlamaServerSizing z = Sizing(Llama(2048, 2));
  EXPECT_EQ(z.n_ctx, 2048u);
  EXPECT_EQ(z.n_ctx_seq, 1024u);
  EXPECT_EQ(z.n_seq, 2u);
  EXPECT_FALSE(z.kv_unified);
  EXPECT_EQ(z.n_batch, 2048u);
  EXPECT_EQ(z.n_ubatch, 512u);
  EXPECT_EQ(z.type_k, 1u);
  EXPECT_EQ(z.type_v, 1u);
  EXPECT_TRUE(z.flash_attn);
}

TEST(FootprintSizing, SlotsRoundUpTo256Cells) {
  // b11434: "n_ctx is not divisible by n_seq_max - rounding down to 2304", n_ctx_seq = 768.
  LlamaServerSizing z = Sizing(Llama(2048, 3));
  EXPECT_EQ(z.n_ctx_seq, 768u);
  EXPECT_EQ(z.n_ctx, 2304u);
  // A total that is not a multiple of 256 is padded first.
  z = Sizing(Llama(1000, 1));
  EXPECT_EQ(z.n_ctx, 1024u);
  EXPECT_EQ(z.n_batch, 1000u);  // n_batch is capped by the unpadded context
  EXPECT_EQ(z.n_ubatch, 512u);
}

TEST(FootprintSizing, NoCtxNoParallelIsTrainedContextOnFourUnifiedSlots) {
  // b11434 without -c/-np: n_ctx 8192 (trained), "n_parallel = 4 and kv_unified = true".
  LlamaServerSizing z = Sizing(Llama(std::nullopt, std::nullopt));
  EXPECT_EQ(z.n_ctx, 8192u);
  EXPECT_EQ(z.n_ctx_seq, 8192u);
  EXPECT_EQ(z.n_seq, 4u);
  EXPECT_TRUE(z.kv_unified);
  EXPECT_EQ(Estimate(Llama(std::nullopt, std::nullopt)).kv_cache_bytes, 180 * kMiB);  // as logged
  // ctx 0 means the same as no ctx.
  EXPECT_EQ(Sizing(Llama(0, 1)).n_ctx, 8192u);
}

TEST(FootprintSizing, SmallContextCapsTheBatches) {
  LlamaServerSizing z = Sizing(Llama(256, 1));
  EXPECT_EQ(z.n_batch, 256u);
  EXPECT_EQ(z.n_ubatch, 256u);
  ModelConfig m = Llama(4096, 1);
  m.batch = 1024;
  m.ubatch = 2048;  // larger than the batch: llama.cpp takes the batch
  z = Sizing(m);
  EXPECT_EQ(z.n_batch, 1024u);
  EXPECT_EQ(z.n_ubatch, 1024u);
}

TEST(FootprintSizing, ExtraArgsComeLastAndWin) {
  LlamaServerSizing z =
      Sizing(Llama(2048, 2, {"-c", "4096", "--parallel", "4", "-ub", "256", "-b", "1024"}));
  EXPECT_EQ(z.n_ctx, 4096u);
  EXPECT_EQ(z.n_seq, 4u);
  EXPECT_EQ(z.n_ctx_seq, 1024u);
  EXPECT_EQ(z.n_ubatch, 256u);
  EXPECT_EQ(z.n_batch, 1024u);
  // --kv-unified gives one stream: every slot may use all the cells.
  z = Sizing(Llama(4096, 4, {"-kvu"}));
  EXPECT_TRUE(z.kv_unified);
  EXPECT_EQ(z.n_ctx_seq, 4096u);
  EXPECT_FALSE(Sizing(Llama(4096, 4, {"-kvu", "--no-kv-unified"})).kv_unified);
}

TEST(FootprintSizing, EngineVariablesAreDefaultsUnderTheFlags) {
  ModelConfig m = Llama(std::nullopt, 1);
  m.env = {{"LLAMA_ARG_CTX_SIZE", "1024"}, {"LLAMA_ARG_CACHE_TYPE_K", "q8_0"}};
  LlamaServerSizing z = Sizing(m);
  EXPECT_EQ(z.n_ctx, 1024u);
  EXPECT_EQ(z.type_k, 8u);
  m.ctx = 2048;
  EXPECT_EQ(Sizing(m).n_ctx, 2048u);
}

TEST(FootprintEstimate, QuantizedCacheUsesBlockSizes) {
  // q8_0: 32 values in 34 bytes; a 192-value row takes 6 blocks = 204 bytes.
  // 2048 cells x 30 x (204 + 204) = 25,067,520 (b11434: "K (q8_0): 11.95 MiB", 23.91 MiB in all).
  Footprint f = Estimate(Llama(2048, std::nullopt, {"-ctk", "q8_0", "-ctv", "q8_0"}));
  EXPECT_EQ(f.kv_cache_bytes, 25'067'520u);
  EXPECT_THAT(f.explanation, HasSubstr("q8_0/q8_0"));
  // Mixed: K q4_0 (192/32 x 18 = 108), V f16 (384).
  f = Estimate(Llama(2048, 1, {"--cache-type-k", "q4_0"}));
  EXPECT_EQ(f.kv_cache_bytes, 2048u * 30 * (108 + 384));
}

TEST(FootprintEstimate, WithoutFlashAttentionTheScoresCanBeThePeak) {
  // -c 8192 -np 2 -fa off: n_kv 4096.
  //   mask   4096 x 512 x 4                          =  8,388,608
  //   scores 4096 x 512 x 9 heads x 4 + 512 x 4 x 4 x 576 = 75,497,472 + 4,718,592
  //   ffn    14,155,776 (smaller)
  ModelConfig m = Llama(8192, 2);
  m.flash_attn = false;
  Footprint f = Estimate(m);
  EXPECT_EQ(f.compute_bytes, 8'388'608u + 75'497'472u + 4'718'592u);
  EXPECT_THAT(f.explanation, HasSubstr("no flash attention"));
  // `auto` counts as on.
  m.flash_attn.reset();
  m.extra_args = {"-fa", "auto"};
  EXPECT_EQ(Estimate(m).compute_bytes, 4096u * 512 * 2 + 14'155'776u);
}

TEST(FootprintEstimate, HyperparameterDefaultsAsInLlamaCpp) {
  // No head_count_kv: as many KV heads as heads; no key_length: n_embd / n_head.
  GgufInfo g = Smol();
  g.head_count_kv.reset();
  g.key_length.reset();
  EXPECT_EQ(Estimate(Llama(2048, 1), g).kv_cache_bytes, 2048u * 30 * (9 * 64 * 2) * 2);
  // value_length differs from key_length (DeepSeek-like): each side its own.
  g = Smol();
  g.key_length = 192;
  g.value_length = 128;
  EXPECT_EQ(Estimate(Llama(2048, 1), g).kv_cache_bytes, 2048u * 30 * 3 * (192 + 128) * 2);
}

TEST(FootprintEstimate, FeedForwardWidthOfDenseAndExpertModels) {
  auto ffn_part = [](const GgufInfo& g) {
    // ubatch 512, 1 slot of 512 cells with flash attention: compute = mask + ffn.
    auto f = EstimateFootprint(Llama(512, 1), g);
    return f.ok() ? f->compute_bytes - 512u * 512 * 2 : 0;
  };
  GgufInfo g = Smol();
  g.feed_forward_length.reset();  // unknown: 4 x n_embd
  EXPECT_EQ(ffn_part(g), 512u * 4 * (3 * 4 * 576 + 4 * 576));
  g.expert_used_count = 2;  // Mixtral-like: the experts' width is feed_forward_length
  g.feed_forward_length = 1000;
  EXPECT_EQ(ffn_part(g), 512u * 4 * (3 * 2000 + 4 * 576));
  g.expert_feed_forward_length = 300;  // Qwen-MoE-like: 2 x 300 < the dense 1000
  EXPECT_EQ(ffn_part(g), 512u * 4 * (3 * 1000 + 4 * 576));
}

TEST(FootprintEstimate, WeightsFallBackToTheFileAndAddTheMmproj) {
  GgufInfo g = Smol();
  g.tensor_data_bytes.reset();  // a tensor type the reader does not know
  g.file_size_bytes = 5'000'000;
  g.data_offset = 1'000'000;
  EXPECT_EQ(Estimate(Llama(2048, 1), g).weights_bytes, 4'000'000u);
  GgufInfo proj;
  proj.tensor_data_bytes = 600'000;
  auto f = EstimateFootprint(Llama(2048, 1), Smol(), &proj);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->weights_bytes, 100'600'000u);
  EXPECT_THAT(f->explanation, HasSubstr("(model + mmproj)"));
}

TEST(FootprintEstimate, PromptCacheLimit) {
  EXPECT_EQ(Estimate(Llama(2048, 1, {"--cache-ram", "0"})).prompt_cache_limit_bytes, 0u);
  Footprint f = Estimate(Llama(2048, 1, {"-cram", "-1"}));
  EXPECT_FALSE(f.prompt_cache_limit_bytes.has_value());
  EXPECT_THAT(f.explanation, HasSubstr("without limit"));
}

TEST(FootprintEstimate, GpuLayersAreNotedNotSplit) {
  ModelConfig m = Llama(2048, 1);
  m.ngl = 99;
  EXPECT_THAT(Estimate(m).explanation, HasSubstr("ngl 99: RAM and GPU memory counted together"));
}

TEST(FootprintEstimate, ErrorsNameTheProblem) {
  EXPECT_EQ(EstimateError(Llama(2048, 1, {"-ctk", "q9_0"})),
            "-ctk 'q9_0' is not a KV cache type (f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1)");
  EXPECT_EQ(EstimateError(Llama(2048, 1, {"-ctv", "q4_K"})).substr(0, 35),
            "-ctv 'q4_K' is not a KV cache type ");
  EXPECT_EQ(EstimateError(Llama(2048, 1, {"-c", "lots"})), "-c 'lots' is not a number");
  EXPECT_EQ(EstimateError(Llama(2048, 1, {"-c", "-5"})), "-c -5 is below 0");
  EXPECT_EQ(EstimateError(Llama(2048, 1, {"--ubatch-size"})), "--ubatch-size has no value");
  EXPECT_EQ(EstimateError(Llama(2048, 1, {"-fa", "maybe"})), "-fa 'maybe' is not on or off");
  EXPECT_EQ(EstimateError(Llama(2048, 1, {"-np", "0"})), "-np 0: use -1 (auto) or a number of slots");
  EXPECT_EQ(EstimateError(Llama(256, 512)), "ctx 256 is less than one cell per slot for 512 slots");
  ModelConfig m = Llama(std::nullopt, 1);
  m.env = {{"LLAMA_ARG_BATCH", "x"}};
  EXPECT_EQ(EstimateError(m), "env LLAMA_ARG_BATCH 'x' is not a number");
  auto r = EstimateFootprint(Llama(2048, 1, {"-c", "x"}), Smol());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kConfigInvalid);

  GgufInfo g = Smol();
  g.context_length.reset();
  EXPECT_EQ(EstimateError(Llama(std::nullopt, 1), g),
            "no ctx is set and the GGUF has no context_length to default to");
  EXPECT_TRUE(EstimateFootprint(Llama(2048, 1), g).ok());  // an explicit ctx does not need it
  g = Smol();
  g.block_count.reset();
  EXPECT_EQ(EstimateError(Llama(2048, 1), g), "the GGUF has no block_count");
  g = Smol();
  g.embedding_length.reset();
  EXPECT_EQ(EstimateError(Llama(2048, 1), g), "the GGUF has no embedding_length");
  g = Smol();
  g.key_length.reset();
  g.head_count.reset();
  EXPECT_EQ(EstimateError(Llama(2048, 1), g),
            "the GGUF gives neither attention.key_length nor attention.head_count");
}

TEST(FootprintInitial, ConfigThenEstimateThenUnknown) {
  GgufInfo g = Smol();
  ModelConfig llama = Llama(2048, 2);
  Footprint f = InitialFootprint(llama, 3'000'000'000u, &g);
  EXPECT_EQ(f.basis, FootprintBasis::kConfig);
  EXPECT_EQ(f.total_bytes, 3'000'000'000u);
  EXPECT_EQ(f.explanation, "memory: 2.8 GiB (configured)");

  f = InitialFootprint(llama, std::nullopt, &g);
  EXPECT_EQ(f.basis, FootprintBasis::kEstimate);
  EXPECT_EQ(f.total_bytes, Estimate(llama).total_bytes);

  f = InitialFootprint(llama, std::nullopt, nullptr);
  EXPECT_EQ(f.basis, FootprintBasis::kUnknown);
  EXPECT_EQ(f.total_bytes, 0u);

  llama.extra_args = {"-ctk", "nope"};
  f = InitialFootprint(llama, std::nullopt, &g);
  EXPECT_EQ(f.basis, FootprintBasis::kUnknown);
  EXPECT_THAT(f.explanation, HasSubstr("cannot estimate: -ctk 'nope'"));

  ModelConfig command;
  command.backend = Backend::kCommand;
  command.command = {"server", "--port", "${PORT}"};
  f = InitialFootprint(command, std::nullopt, nullptr);
  EXPECT_EQ(f.basis, FootprintBasis::kUnknown);
  EXPECT_EQ(f.explanation, "no memory: key for a command model");
  EXPECT_EQ(InitialFootprint(command, 512 * kMiB, nullptr).total_bytes, 512 * kMiB);
}

TEST(FootprintFormat, BasisNames) {
  EXPECT_EQ(FootprintBasisName(FootprintBasis::kEstimate), "estimate");
  EXPECT_EQ(FootprintBasisName(FootprintBasis::kConfig), "config");
  EXPECT_EQ(FootprintBasisName(FootprintBasis::kUnknown), "unknown");
}

}  // namespace
}  // namespace kitty
