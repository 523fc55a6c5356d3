#include "kitty/gguf/gguf.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kitty/gguf/gguf_test_writer.h"

namespace kitty {
namespace {

using ::testing::HasSubstr;
using testing::GgufTempDir;
using testing::GgufTestWriter;

constexpr uint32_t kGgmlF32 = 0;
constexpr uint32_t kGgmlQ4_1 = 3;

// A small model-like file: every value type, arrays of strings, two tensors.
GgufTestWriter SmallModel(uint32_t version = 3) {
  GgufTestWriter w(version);
  w.String("general.architecture", "llama")
      .String("general.name", "Tiny Test Model")
      .String("general.size_label", "135M")
      .U32("general.file_type", 3)
      .U32("llama.context_length", 8192)
      .U32("llama.block_count", 30)
      .U32("llama.embedding_length", 576)
      .U32("llama.attention.head_count", 9)
      .U32("llama.attention.head_count_kv", 3)
      .U64("llama.attention.key_length", 64)
      .F32("llama.rope.freq_base", 100000.0f)
      .F64("test.f64", 2.5)
      .U8("test.u8", 200)
      .I8("test.i8", -3)
      .U16("test.u16", 65535)
      .I16("test.i16", -300)
      .I32("test.i32", -7)
      .I64("test.i64", -1)
      .Bool("test.bool", true)
      .String("tokenizer.ggml.model", "gpt2")
      .Strings("tokenizer.ggml.tokens", {"<|endoftext|>", "a", "", "hello world"})
      .F32s("tokenizer.ggml.scores", {0.0f, -1.0f, -2.0f, -3.0f})
      .I32s("tokenizer.ggml.token_type", {3, 1, 1, 1})
      .NestedU16s("test.nested", 3, 2)
      .String("tokenizer.chat_template", "{% for m in messages %}{{ m.content }}{% endfor %}")
      .Tensor("token_embd.weight", {64}, kGgmlF32)
      .Tensor("blk.0.attn_q.weight", {64, 2}, kGgmlQ4_1);
  return w;
}

class GgufTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& bytes, const std::string& name = "m.gguf") {
    return dir_.Write(name, bytes);
  }
  // Reads `bytes` as a file and expects an error containing `what`.
  void ExpectInvalid(const std::string& bytes, const std::string& what) {
    std::string path = Write(bytes);
    Result<GgufInfo> r = ReadGgufInfo(path);
    ASSERT_FALSE(r.ok()) << "expected an error containing: " << what;
    EXPECT_THAT(r.error().message, HasSubstr(what));
    EXPECT_EQ(r.error().code, ErrorCode::kModelFileInvalid);
  }
  GgufTempDir dir_;
};

TEST_F(GgufTest, ReadsEveryField) {
  GgufTestWriter::Built built = SmallModel().Build();
  std::string path = Write(built.bytes);
  ASSERT_TRUE(CheckGgufFile(path).ok());
  Result<GgufInfo> r = ReadGgufInfo(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  const GgufInfo& info = *r;
  EXPECT_EQ(info.version, 3u);
  EXPECT_EQ(info.tensor_count, 2u);
  EXPECT_EQ(info.kv_count, 25u);
  EXPECT_EQ(info.file_size_bytes, built.bytes.size());
  EXPECT_EQ(info.architecture, "llama");
  EXPECT_EQ(info.name, "Tiny Test Model");
  EXPECT_EQ(info.size_label, "135M");
  EXPECT_EQ(info.file_type, 3u);
  EXPECT_EQ(info.file_type_name, "Q4_1");
  EXPECT_EQ(info.context_length, 8192u);
  EXPECT_EQ(info.block_count, 30u);
  EXPECT_EQ(info.embedding_length, 576u);
  EXPECT_EQ(info.head_count, 9u);
  EXPECT_EQ(info.head_count_kv, 3u);
  EXPECT_EQ(info.key_length, 64u);
  EXPECT_FALSE(info.value_length.has_value());
  EXPECT_TRUE(info.has_chat_template);
  // No general.parameter_count: the tensors' element counts, 64 + 64*2.
  EXPECT_EQ(info.parameter_count, 192u);
  EXPECT_EQ(info.alignment, 32u);
  EXPECT_EQ(info.data_offset, built.data_offset);
  // F32[64] = 256 bytes at 0; Q4_1[64x2] = 4 blocks of 20 bytes at 256.
  EXPECT_EQ(info.tensor_data_bytes, 256u + 80u);
  EXPECT_EQ(info.file_size_bytes, info.data_offset + 336);
}

// The feed-forward widths the memory estimate uses (memory/footprint.h): a dense model's
// feed_forward_length, a mixture of experts' expert width and experts per token.
TEST_F(GgufTest, ReadsFeedForwardFields) {
  GgufTestWriter w;
  w.String("general.architecture", "qwen3moe")
      .U32("qwen3moe.feed_forward_length", 6144)
      .U32("qwen3moe.expert_feed_forward_length", 768)
      .U32("qwen3moe.expert_used_count", 8)
      .U32("llama.feed_forward_length", 1)  // another architecture's key: ignored
      .Tensor("token_embd.weight", {64}, kGgmlF32);
  Result<GgufInfo> r = ReadGgufInfo(Write(w.Build().bytes));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->feed_forward_length, 6144u);
  EXPECT_EQ(r->expert_feed_forward_length, 768u);
  EXPECT_EQ(r->expert_used_count, 8u);
  nlohmann::json j = ToJson(*r);
  EXPECT_EQ(j["feed_forward_length"], 6144);
  EXPECT_EQ(j["expert_feed_forward_length"], 768);
  EXPECT_EQ(j["expert_used_count"], 8);
}

TEST_F(GgufTest, VersionsOneAndTwo) {
  for (uint32_t version : {1u, 2u}) {
    SCOPED_TRACE(version);
    Result<GgufInfo> r = ReadGgufInfo(Write(SmallModel(version).Build().bytes));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->version, version);
    EXPECT_EQ(r->architecture, "llama");
    EXPECT_EQ(r->block_count, 30u);
    EXPECT_EQ(r->parameter_count, 192u);
    EXPECT_EQ(r->tensor_data_bytes, 336u);
  }
}

TEST_F(GgufTest, ParameterCountKeyWinsOverTensorSum) {
  GgufTestWriter w;
  w.String("general.architecture", "qwen2")
      .U64("general.parameter_count", 494032768)
      .Tensor("t", {32}, kGgmlF32);
  Result<GgufInfo> r = ReadGgufInfo(Write(w.Build().bytes));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->parameter_count, 494032768u);
}

TEST_F(GgufTest, ArchKeysMayComeBeforeArchitectureAndOtherArchsAreIgnored) {
  GgufTestWriter w;
  w.U32("qwen2.context_length", 32768)
      .U32("llama.context_length", 4096)
      .String("general.architecture", "qwen2")
      .U32("qwen2.block_count", 24);
  Result<GgufInfo> r = ReadGgufInfo(Write(w.Build().bytes));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->context_length, 32768u);
  EXPECT_EQ(r->block_count, 24u);
  EXPECT_FALSE(r->parameter_count.has_value());  // no tensors, no key
  EXPECT_FALSE(r->name.has_value());
  EXPECT_FALSE(r->has_chat_template);
}

TEST_F(GgufTest, PerLayerHeadCountsGiveTheLargest) {
  GgufTestWriter w;
  w.String("general.architecture", "openelm")
      .I32s("openelm.attention.head_count", {12, 16, 20, 8})
      .I32s("openelm.attention.head_count_kv", {3, -1, 5});  // negatives are ignored
  Result<GgufInfo> r = ReadGgufInfo(Write(w.Build().bytes));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->head_count, 20u);
  EXPECT_EQ(r->head_count_kv, 5u);
}

TEST_F(GgufTest, WrongTypesAreAbsentNotErrors) {
  GgufTestWriter w;
  w.U32("general.architecture", 7)         // not a string
      .F32("general.file_type", 1.0f)      // not an integer
      .I32("general.parameter_count", -5)  // negative
      .U32("tokenizer.chat_template", 1);  // not a string
  Result<GgufInfo> r = ReadGgufInfo(Write(w.Build().bytes));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->architecture.has_value());
  EXPECT_FALSE(r->file_type.has_value());
  EXPECT_FALSE(r->parameter_count.has_value());
  EXPECT_FALSE(r->has_chat_template);
}

TEST_F(GgufTest, OverlongValuesAreSkippedNotStored) {
  GgufTestWriter w;
  w.String("general.name", std::string(2 << 20, 'n'))  // over the 1 MiB cap
      .String(std::string(100 * 1024, 'k'), "a key too long to be ours")
      .String("general.architecture", "llama");
  Result<GgufInfo> r = ReadGgufInfo(Write(w.Build().bytes));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->name.has_value());
  EXPECT_EQ(r->architecture, "llama");
}

TEST_F(GgufTest, StringsAreMadeValidUtf8) {
  GgufTestWriter w;
  w.String("general.name", "caf\xc3\xa9 \xe6\xa8\xa1\xe5\x9e\x8b")  // valid: kept
      .String("general.architecture", "ll\xff\xc0\xafma\xed\xa0\x80");  // invalid bytes
  Result<GgufInfo> r = ReadGgufInfo(Write(w.Build().bytes));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->name, "caf\xc3\xa9 \xe6\xa8\xa1\xe5\x9e\x8b");
  // 0xff, an overlong '/', and a UTF-16 surrogate each become U+FFFD per byte.
  const std::string bad = "\xef\xbf\xbd";
  EXPECT_EQ(r->architecture, "ll" + bad + bad + bad + "ma" + bad + bad + bad);
  EXPECT_NO_THROW(ToJson(*r).dump());
}

TEST_F(GgufTest, UnknownFileTypeHasNoName) {
  GgufTestWriter w;
  w.U32("general.file_type", 4000);
  Result<GgufInfo> r = ReadGgufInfo(Write(w.Build().bytes));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->file_type, 4000u);
  EXPECT_EQ(r->file_type_name, "");
}

TEST_F(GgufTest, CustomAlignment) {
  GgufTestWriter w;
  w.Alignment(64).Tensor("a", {3}, kGgmlF32).Tensor("b", {5}, kGgmlF32);
  GgufTestWriter::Built built = w.Build();
  Result<GgufInfo> r = ReadGgufInfo(Write(built.bytes));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->alignment, 64u);
  EXPECT_EQ(r->data_offset % 64, 0u);
  EXPECT_EQ(r->data_offset, built.data_offset);
}

TEST_F(GgufTest, ToJson) {
  Result<GgufInfo> r = ReadGgufInfo(Write(SmallModel().Build().bytes));
  ASSERT_TRUE(r.ok()) << r.error().message;
  nlohmann::json j = ToJson(*r);
  EXPECT_EQ(j["version"], 3);
  EXPECT_EQ(j["architecture"], "llama");
  EXPECT_EQ(j["name"], "Tiny Test Model");
  EXPECT_EQ(j["size_label"], "135M");
  EXPECT_EQ(j["parameter_count"], 192);
  EXPECT_EQ(j["file_type"], 3);
  EXPECT_EQ(j["file_type_name"], "Q4_1");
  EXPECT_EQ(j["context_length"], 8192);
  EXPECT_EQ(j["block_count"], 30);
  EXPECT_EQ(j["embedding_length"], 576);
  EXPECT_EQ(j["head_count"], 9);
  EXPECT_EQ(j["head_count_kv"], 3);
  EXPECT_TRUE(j["value_length"].is_null());
  EXPECT_TRUE(j["feed_forward_length"].is_null());
  EXPECT_EQ(j["has_chat_template"], true);
  EXPECT_EQ(j["file_size_bytes"], r->file_size_bytes);

  nlohmann::json empty = ToJson(GgufInfo{});
  EXPECT_TRUE(empty["architecture"].is_null());
  EXPECT_TRUE(empty["file_type_name"].is_null());
  EXPECT_TRUE(empty["context_length"].is_null());
  EXPECT_EQ(empty["has_chat_template"], false);
}

// --- files that are not there or not GGUF ---

TEST_F(GgufTest, MissingFile) {
  std::string path = dir_.path() + "/x.gguf";
  Status s = CheckGgufFile(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "model file '" + path + "' does not exist");
  EXPECT_EQ(s.error().code, ErrorCode::kModelFileInvalid);
  Result<GgufInfo> r = ReadGgufInfo(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, s.error().message);
}

TEST_F(GgufTest, Directory) {
  Status s = CheckGgufFile(dir_.path());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("is a directory"));
  EXPECT_EQ(s.error().code, ErrorCode::kModelFileInvalid);
}

TEST_F(GgufTest, Unreadable) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files whatever their permissions";
  std::string path = Write(SmallModel().Build().bytes);
  ASSERT_EQ(::chmod(path.c_str(), 0), 0);
  Status s = CheckGgufFile(path);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("is not readable"));
}

TEST_F(GgufTest, FifoIsRefusedWithoutBlocking) {
  std::string path = dir_.path() + "/fifo.gguf";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  Status s = CheckGgufFile(path);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("is not a regular file"));
}

TEST_F(GgufTest, EmptyAndTinyFiles) {
  EXPECT_THAT(CheckGgufFile(Write("")).error().message, HasSubstr("is 0 bytes long"));
  EXPECT_THAT(CheckGgufFile(Write("GG")).error().message, HasSubstr("is 2 bytes long"));
  EXPECT_THAT(CheckGgufFile(Write("GGUF\x03")).error().message, HasSubstr("truncated header"));
}

TEST_F(GgufTest, BadMagic) {
  std::string path = Write(std::string("\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0", 16));
  Status s = CheckGgufFile(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "'" + path + "' is not a GGUF file (magic 0x7f454c46 \"\\x7fELF\", expected \"GGUF\")");
  EXPECT_EQ(s.error().code, ErrorCode::kModelFileInvalid);
}

TEST_F(GgufTest, BadMagicHints) {
  EXPECT_THAT(CheckGgufFile(Write("version https://git-lfs.github.com/spec/v1\noid sha256:ab\n"))
                  .error()
                  .message,
              HasSubstr("Git LFS pointer"));
  EXPECT_THAT(CheckGgufFile(Write("<!DOCTYPE html><html>401</html>")).error().message,
              HasSubstr("HTML page"));
}

TEST_F(GgufTest, UnsupportedVersion) {
  std::string bytes = SmallModel().Build().bytes;
  bytes[4] = 99;
  std::string path = Write(bytes);
  Status s = CheckGgufFile(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message,
            "'" + path + "' has unsupported GGUF version 99 (supported: 1, 2, 3)");
  EXPECT_FALSE(ReadGgufInfo(path).ok());
}

TEST_F(GgufTest, BigEndianFile) {
  std::string bytes = SmallModel().Build().bytes;
  bytes.replace(4, 4, std::string("\0\0\0\3", 4));
  EXPECT_THAT(CheckGgufFile(Write(bytes)).error().message, HasSubstr("big-endian"));
}

// --- hostile lengths and counts ---

// The bytes of a GGUF v3 header with the given counts.
std::string Header(uint64_t tensors, uint64_t kvs) {
  std::string h = "GGUF";
  auto put = [&h](uint64_t v, int width) {
    for (int i = 0; i < width; ++i) h += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  put(3, 4);
  put(tensors, 8);
  put(kvs, 8);
  return h;
}

std::string Le(uint64_t v, int width) {
  std::string s;
  for (int i = 0; i < width; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::string Key(const std::string& k) { return Le(k.size(), 8) + k; }

TEST_F(GgufTest, HugeKvCount) {
  std::string bytes = Header(0, uint64_t{1} << 63) + std::string(100, '\0');
  EXPECT_THAT(CheckGgufFile(Write(bytes)).error().message,
              HasSubstr("header claims 9223372036854775808 key/values"));
  ExpectInvalid(bytes, "header claims 9223372036854775808 key/values");
}

TEST_F(GgufTest, HugeTensorCount) {
  ExpectInvalid(Header(~uint64_t{0}, 0) + std::string(100, '\0'), "tensors, more than");
}

TEST_F(GgufTest, HugeStringLength) {
  // The value of general.name claims 2^62 bytes.
  std::string bytes = Header(0, 1) + Key("general.name") + Le(8, 4) + Le(uint64_t{1} << 62, 8) +
                      "short";
  ExpectInvalid(bytes, "string of 4611686018427387904 bytes runs past the end of the file");
}

TEST_F(GgufTest, HugeKeyLength) {
  ExpectInvalid(Header(0, 1) + Le(~uint64_t{0}, 8) + std::string(20, 'k'),
                "runs past the end of the file");
}

TEST_F(GgufTest, HugeArrayCount) {
  // tokenizer.ggml.tokens: an array of strings claiming 2^40 elements.
  std::string bytes = Header(0, 1) + Key("tokenizer.ggml.tokens") + Le(9, 4) + Le(8, 4) +
                      Le(uint64_t{1} << 40, 8) + Key("a") + Key("b");
  ExpectInvalid(bytes, "array of 1099511627776 elements");
  // The same for fixed-size elements (u64): count * 8 must not overflow into a small skip.
  bytes = Header(0, 1) + Key("x") + Le(9, 4) + Le(10, 4) + Le(uint64_t{1} << 61, 8) +
          std::string(16, '\0');
  ExpectInvalid(bytes, "array of 2305843009213693952 elements");
}

TEST_F(GgufTest, UnknownValueType) {
  ExpectInvalid(Header(0, 1) + Key("x") + Le(13, 4) + Le(0, 8), "unknown value type 13");
  ExpectInvalid(Header(0, 1) + Key("x") + Le(9, 4) + Le(0xffffffff, 4) + Le(0, 8),
                "array of unknown value type 4294967295");
}

TEST_F(GgufTest, DeeplyNestedArrays) {
  // Arrays of arrays of ... 10 deep, each with one element.
  std::string value;
  for (int i = 0; i < 10; ++i) value += Le(9, 4) + Le(1, 8);
  value += Le(0, 4) + Le(1, 8) + "x";
  ExpectInvalid(Header(0, 1) + Key("x") + Le(9, 4) + value, "arrays nested more than 3 deep");
  // Two levels are fine.
  GgufTestWriter w;
  w.NestedU16s("ok", 2, 2);
  EXPECT_TRUE(ReadGgufInfo(Write(w.Build().bytes)).ok());
}

TEST_F(GgufTest, BadAlignment) {
  GgufTestWriter w;
  w.U32("general.alignment", 48);
  ExpectInvalid(w.Build().bytes, "general.alignment must be a power of two");
}

TEST_F(GgufTest, TooManyDimensions) {
  GgufTestWriter w;
  w.Tensor("t", {1, 1, 1, 1, 1}, kGgmlF32);
  ExpectInvalid(w.Build().bytes, "5 dimensions (at most 4)");
}

TEST_F(GgufTest, ElementCountOverflow) {
  GgufTestWriter w;
  w.Tensor("t", {uint64_t{1} << 32, uint64_t{1} << 32}, kGgmlF32);
  ExpectInvalid(w.Build().bytes.substr(0, 200), "element count overflows");
}

TEST_F(GgufTest, TensorDataPastTheEndIsATruncatedDownload) {
  std::string bytes = SmallModel().Build().bytes;
  ExpectInvalid(bytes.substr(0, bytes.size() - 1), "is truncated: its tensor data ends at byte");
}

TEST_F(GgufTest, TruncatedAtEveryOffsetFailsCleanly) {
  std::string bytes = SmallModel().Build().bytes;
  std::string path = dir_.path() + "/cut.gguf";
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), n);
    Result<GgufInfo> r = ReadGgufInfo(path);
    ASSERT_FALSE(r.ok()) << "a file cut at " << n << " of " << bytes.size() << " bytes was read";
    ASSERT_EQ(r.error().code, ErrorCode::kModelFileInvalid);
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
  EXPECT_TRUE(ReadGgufInfo(path).ok());
}

TEST_F(GgufTest, TensorDataIsNeverRead) {
  // A 256 MiB tensor in a sparse file: only the metadata is read.
  GgufTestWriter w;
  w.String("general.architecture", "llama").Tensor("big", {64 << 20}, kGgmlF32);
  GgufTestWriter::Built built = w.Build(/*with_data=*/false);
  std::string path = Write(built.bytes);
  std::filesystem::resize_file(path, built.file_size);
  Result<GgufInfo> r = ReadGgufInfo(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->tensor_data_bytes, uint64_t{256} << 20);
  EXPECT_EQ(r->parameter_count, uint64_t{64} << 20);
}

TEST_F(GgufTest, LargeVocabularyIsSkipped) {
  std::vector<std::string> tokens;
  for (int i = 0; i < 100000; ++i) tokens.push_back("tok" + std::to_string(i));
  GgufTestWriter w;
  w.String("general.architecture", "llama")
      .Strings("tokenizer.ggml.tokens", tokens)
      .U32("llama.block_count", 2);
  Result<GgufInfo> r = ReadGgufInfo(Write(w.Build().bytes));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->block_count, 2u);
}

// --- a real model, when one is installed ---

std::string RealModelPath() {
  if (const char* p = std::getenv("KITTY_TEST_MODEL"); p != nullptr && *p != '\0') return p;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/kitty/models/SmolLM2-135M-Instruct.Q4_1.gguf";
}

TEST(GgufRealModel, SmolLM2) {
  std::string path = RealModelPath();
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no real model at " << path;
  ASSERT_TRUE(CheckGgufFile(path).ok());
  Result<GgufInfo> r = ReadGgufInfo(path);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->architecture, "llama");
  EXPECT_GT(r->context_length.value_or(0), 0u);
  EXPECT_GT(r->tensor_count, 0u);
  EXPECT_GT(r->parameter_count.value_or(0), 0u);
  ASSERT_TRUE(r->tensor_data_bytes.has_value());
  EXPECT_LE(r->data_offset + *r->tensor_data_bytes, r->file_size_bytes);
  if (path.find("SmolLM2-135M") != std::string::npos) {
    EXPECT_EQ(r->block_count, 30u);
    EXPECT_EQ(r->embedding_length, 576u);
    EXPECT_EQ(r->head_count, 9u);
    EXPECT_EQ(r->head_count_kv, 3u);
    EXPECT_EQ(r->context_length, 8192u);
    EXPECT_EQ(r->feed_forward_length, 1536u);
    EXPECT_FALSE(r->expert_used_count.has_value());
    EXPECT_TRUE(r->has_chat_template);
  }
}

}  // namespace
}  // namespace kitty
