// Test helper: builds small GGUF files in memory (valid v1-v3 headers, key/values of every type,
// tensor infos, alignment padding and zeroed tensor data), and remembers where the length and
// count fields are so the fuzz test can overwrite them. Tests only; not part of the library.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "kitty/gguf/gguf_types.h"

namespace kitty::testing {

class GgufTestWriter {
 public:
  // GGUF value types.
  enum Type : uint32_t {
    kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
    kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
  };

  struct Built {
    std::string bytes;
    /// Offsets of every string length, array count and header count field.
    std::vector<size_t> length_fields;
    size_t data_offset = 0;
    /// The file's full size (bytes.size() unless built without data).
    uint64_t file_size = 0;
  };

  explicit GgufTestWriter(uint32_t version = 3) : version_(version) {}

  GgufTestWriter& U8(const std::string& key, uint8_t v) { return Scalar(key, kU8, v, 1); }
  GgufTestWriter& I8(const std::string& key, int8_t v) { return Scalar(key, kI8, uint8_t(v), 1); }
  GgufTestWriter& U16(const std::string& key, uint16_t v) { return Scalar(key, kU16, v, 2); }
  GgufTestWriter& I16(const std::string& key, int16_t v) {
    return Scalar(key, kI16, uint16_t(v), 2);
  }
  GgufTestWriter& U32(const std::string& key, uint32_t v) { return Scalar(key, kU32, v, 4); }
  GgufTestWriter& I32(const std::string& key, int32_t v) {
    return Scalar(key, kI32, uint32_t(v), 4);
  }
  GgufTestWriter& U64(const std::string& key, uint64_t v) { return Scalar(key, kU64, v, 8); }
  GgufTestWriter& I64(const std::string& key, int64_t v) {
    return Scalar(key, kI64, uint64_t(v), 8);
  }
  GgufTestWriter& F32(const std::string& key, float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    return Scalar(key, kF32, bits, 4);
  }
  GgufTestWriter& F64(const std::string& key, double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    return Scalar(key, kF64, bits, 8);
  }
  GgufTestWriter& Bool(const std::string& key, bool v) { return Scalar(key, kBool, v ? 1 : 0, 1); }
  GgufTestWriter& String(const std::string& key, const std::string& v) {
    Key(key, kString);
    Str(kvs_, v);
    ++kv_count_;
    return *this;
  }
  GgufTestWriter& Strings(const std::string& key, const std::vector<std::string>& v) {
    Key(key, kArray);
    Put(kvs_, kString, 4);
    Len(kvs_, v.size());
    for (const std::string& s : v) Str(kvs_, s);
    ++kv_count_;
    return *this;
  }
  GgufTestWriter& I32s(const std::string& key, const std::vector<int32_t>& v) {
    Key(key, kArray);
    Put(kvs_, kI32, 4);
    Len(kvs_, v.size());
    for (int32_t x : v) Put(kvs_, uint32_t(x), 4);
    ++kv_count_;
    return *this;
  }
  GgufTestWriter& F32s(const std::string& key, const std::vector<float>& v) {
    Key(key, kArray);
    Put(kvs_, kF32, 4);
    Len(kvs_, v.size());
    for (float x : v) {
      uint32_t bits;
      std::memcpy(&bits, &x, 4);
      Put(kvs_, bits, 4);
    }
    ++kv_count_;
    return *this;
  }
  /// An array of `outer` arrays, each of `inner` u16 values.
  GgufTestWriter& NestedU16s(const std::string& key, size_t outer, size_t inner) {
    Key(key, kArray);
    Put(kvs_, kArray, 4);
    Len(kvs_, outer);
    for (size_t i = 0; i < outer; ++i) {
      Put(kvs_, kU16, 4);
      Len(kvs_, inner);
      for (size_t j = 0; j < inner; ++j) Put(kvs_, j, 2);
    }
    ++kv_count_;
    return *this;
  }
  /// Sets the data alignment and writes general.alignment.
  GgufTestWriter& Alignment(uint32_t a) {
    alignment_ = a;
    return U32("general.alignment", a);
  }
  /// Adds a tensor; its data is zeros placed after the previous tensor's, aligned.
  GgufTestWriter& Tensor(const std::string& name, const std::vector<uint64_t>& dims,
                         uint32_t ggml_type) {
    Str(tensors_, name);
    Put(tensors_, dims.size(), 4);
    uint64_t elements = 1;
    for (uint64_t d : dims) {
      Len(tensors_, d);
      elements *= d;
    }
    Put(tensors_, ggml_type, 4);
    uint64_t offset = (data_size_ + alignment_ - 1) / alignment_ * alignment_;
    Put(tensors_, offset, 8);
    auto layout = GgmlTypeLayoutOf(ggml_type);
    uint64_t bytes = layout ? elements / layout->block_elements * layout->block_bytes : 16;
    data_size_ = offset + bytes;
    ++tensor_count_;
    return *this;
  }
  /// Raw bytes appended to the key/value section (for hand-made malformed values); counts as
  /// one key/value.
  GgufTestWriter& RawKv(const std::string& bytes) {
    kvs_.bytes += bytes;
    ++kv_count_;
    return *this;
  }

  /// The file; without_data stops after the alignment padding (for huge sparse tensors).
  Built Build(bool with_data = true) const {
    Built out;
    Section head;
    head.bytes = "GGUF";
    Put(head, version_, 4);
    Len(head, tensor_count_);
    Len(head, kv_count_);
    Append(out, head);
    Append(out, kvs_);
    Append(out, tensors_);
    out.data_offset = (out.bytes.size() + alignment_ - 1) / alignment_ * alignment_;
    out.file_size = out.data_offset + data_size_;
    out.bytes.resize(with_data ? out.file_size : out.data_offset, '\0');
    return out;
  }

  /// A length field: u32 in GGUF v1, u64 after.
  size_t length_width() const { return version_ == 1 ? 4 : 8; }

 private:
  struct Section {
    std::string bytes;
    std::vector<size_t> length_fields;
  };

  static void Put(Section& s, uint64_t v, int width) {
    for (int i = 0; i < width; ++i) s.bytes += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  void Len(Section& s, uint64_t n) const {
    s.length_fields.push_back(s.bytes.size());
    Put(s, n, static_cast<int>(length_width()));
  }
  void Str(Section& s, const std::string& v) const {
    Len(s, v.size());
    s.bytes += v;
  }
  void Key(const std::string& key, uint32_t type) {
    Str(kvs_, key);
    Put(kvs_, type, 4);
  }
  GgufTestWriter& Scalar(const std::string& key, uint32_t type, uint64_t v, int width) {
    Key(key, type);
    Put(kvs_, v, width);
    ++kv_count_;
    return *this;
  }
  static void Append(Built& out, const Section& s) {
    for (size_t f : s.length_fields) out.length_fields.push_back(out.bytes.size() + f);
    out.bytes += s.bytes;
  }

  uint32_t version_;
  uint32_t alignment_ = 32;
  uint64_t kv_count_ = 0;
  uint64_t tensor_count_ = 0;
  uint64_t data_size_ = 0;
  Section kvs_;
  Section tensors_;
};

/// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class GgufTempDir {
 public:
  GgufTempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/kitty_gguf_XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~GgufTempDir() {
    std::error_code ec;  // best effort: a leftover temp dir must not fail a test
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  GgufTempDir(const GgufTempDir&) = delete;
  GgufTempDir& operator=(const GgufTempDir&) = delete;

  const std::string& path() const { return path_; }
  /// Writes `bytes` to `name` in the directory and returns the file's path.
  std::string Write(const std::string& name, const std::string& bytes) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
    return p;
  }

 private:
  std::string path_;
};

}  // namespace kitty::testing
