// Deterministic mutation fuzzing of the GGUF reader: a valid generated file is mutated a few
// hundred ways (bit flips, special bytes, hostile length fields, truncations, insertions) and
// every result must come back as a value, ok or error, without a crash or a memory blow-up.
#include <sys/resource.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "kitty/gguf/gguf.h"
#include "kitty/gguf/gguf_test_writer.h"

namespace kitty {
namespace {

using testing::GgufTempDir;
using testing::GgufTestWriter;

#if defined(__SANITIZE_ADDRESS__)
#define KITTY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KITTY_ASAN 1
#endif
#endif

// Peak resident set size of this process, in bytes.
uint64_t PeakRssBytes() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
#ifdef __APPLE__
  return static_cast<uint64_t>(ru.ru_maxrss);  // bytes on macOS
#else
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;  // KiB on Linux
#endif
}

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 0) : fallback;
}

GgufTestWriter::Built Seed() {
  GgufTestWriter w;
  w.String("general.architecture", "llama")
      .String("general.name", "fuzz seed")
      .U32("general.file_type", 15)
      .U32("llama.context_length", 2048)
      .U32("llama.block_count", 4)
      .U32("llama.attention.head_count", 4)
      .I32s("llama.attention.head_count_kv", {1, 2, 2, 1})
      .U64("general.parameter_count", 1000)
      .Bool("general.flag", false)
      .F64("general.f", 0.5)
      .Strings("tokenizer.ggml.tokens", {"<s>", "</s>", "a", "b", "cd", ""})
      .F32s("tokenizer.ggml.scores", {0, 0, 0, 0, 0, 0})
      .NestedU16s("test.nested", 2, 3)
      .String("tokenizer.chat_template", "{{ messages }}")
      .Tensor("token_embd.weight", {32, 6}, 8 /* Q8_0 */)
      .Tensor("output_norm.weight", {32}, 0 /* F32 */)
      .Tensor("blk.0.ffn_up.weight", {256, 2}, 12 /* Q4_K */);
  return w.Build();
}

// Values that break careless length arithmetic.
constexpr uint64_t kHostileLengths[] = {
    0,          1,          2,          7,          0x7f,       0xff,
    0x7fff,     0xffff,     0x7fffffff, 0xffffffff, 0x100000000, uint64_t{1} << 40,
    uint64_t{1} << 62, uint64_t{1} << 63, ~uint64_t{0} - 7, ~uint64_t{0},
};

std::string Mutate(const GgufTestWriter::Built& seed, std::mt19937_64& rng) {
  std::string b = seed.bytes;
  auto pick = [&rng](uint64_t n) { return n == 0 ? 0 : rng() % n; };
  int mutations = 1 + static_cast<int>(pick(4));
  for (int m = 0; m < mutations && !b.empty(); ++m) {
    switch (pick(7)) {
      case 0: {  // flip one bit
        size_t at = pick(b.size());
        b[at] = static_cast<char>(b[at] ^ (1 << pick(8)));
        break;
      }
      case 1: {  // a special byte
        static constexpr unsigned char kBytes[] = {0x00, 0xff, 0x7f, 0x80, 0x01};
        b[pick(b.size())] = static_cast<char>(kBytes[pick(sizeof kBytes)]);
        break;
      }
      case 2:
      case 3: {  // overwrite a length or count field with a hostile value
        size_t at = seed.length_fields[pick(seed.length_fields.size())];
        uint64_t v = pick(4) == 0 ? rng() : kHostileLengths[pick(std::size(kHostileLengths))];
        for (int i = 0; i < 8 && at + i < b.size(); ++i) {
          b[at + i] = static_cast<char>((v >> (8 * i)) & 0xff);
        }
        break;
      }
      case 4:  // truncate
        b.resize(pick(b.size()));
        break;
      case 5: {  // insert random bytes
        std::string ins(1 + pick(16), '\0');
        for (char& c : ins) c = static_cast<char>(rng());
        b.insert(pick(b.size() + 1), ins);
        break;
      }
      case 6: {  // delete a run of bytes
        size_t at = pick(b.size());
        b.erase(at, 1 + pick(16));
        break;
      }
    }
  }
  return b;
}

TEST(GgufFuzz, MutatedHeaders) {
  GgufTempDir dir;
  GgufTestWriter::Built seed = Seed();
  std::string seed_path = dir.Write("seed.gguf", seed.bytes);
  Result<GgufInfo> base = ReadGgufInfo(seed_path);
  ASSERT_TRUE(base.ok()) << base.error().message;
  EXPECT_EQ(base->head_count_kv, 2u);
  EXPECT_EQ(base->file_type_name, "Q4_K_M");

  // The seed read above warmed up the allocator and stdio, so one-time costs are not growth.
  uint64_t rss_before = PeakRssBytes();
  // Fixed seed and count so failures reproduce; KITTY_FUZZ_SEED / KITTY_FUZZ_ITERATIONS run
  // longer campaigns by hand (e.g. under -fsanitize=address,undefined).
  std::mt19937_64 rng(EnvOr("KITTY_FUZZ_SEED", 0x6b697474795f6767));
  const uint64_t iterations = EnvOr("KITTY_FUZZ_ITERATIONS", 600);
  int ok = 0, errors = 0;
  for (uint64_t i = 0; i < iterations; ++i) {
    std::string bytes = Mutate(seed, rng);
    std::string path = dir.Write("mut.gguf", bytes);
    Result<GgufInfo> r = ReadGgufInfo(path);
    Status c = CheckGgufFile(path);
    if (r.ok()) {
      ++ok;
      // Whatever was accepted must be self-consistent and serialisable.
      EXPECT_LE(r->data_offset, r->file_size_bytes + r->alignment) << "mutation " << i;
      EXPECT_TRUE(c.ok()) << "mutation " << i << ": " << c.error().message;
      EXPECT_FALSE(ToJson(*r).dump().empty());
    } else {
      ++errors;
      EXPECT_EQ(r.error().code, ErrorCode::kModelFileInvalid) << "mutation " << i;
      EXPECT_FALSE(r.error().message.empty());
    }
  }
  uint64_t growth = PeakRssBytes() - rss_before;
#ifndef KITTY_ASAN  // ASan's quarantine keeps freed blocks resident, so RSS says nothing there
  EXPECT_LT(growth, uint64_t{64} << 20) << "peak RSS grew by " << growth << " bytes";
#endif
  // Both outcomes occur, so the mutations exercise the parser rather than only the magic check.
  EXPECT_GT(ok, 0);
  EXPECT_GT(errors, 100);
  std::printf("[ fuzz    ] %d accepted, %d rejected\n", ok, errors);
}

}  // namespace
}  // namespace kitty
