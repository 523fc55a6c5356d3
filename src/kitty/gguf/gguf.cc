#include "kitty/gguf/gguf.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string_view>
#include <vector>

#include "kitty/gguf/file_reader.h"
#include "kitty/gguf/gguf_header.h"
#include "kitty/gguf/gguf_types.h"
#include "kitty/gguf/utf8.h"

namespace kitty {
namespace {

// GGUF value types (gguf.h in ggml).
enum : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12, kValueTypeCount = 13,
};

constexpr uint64_t kDefaultAlignment = 32;
/// Largest string value we keep (general.name and friends); longer ones are skipped unread.
constexpr uint64_t kMaxStoredString = 1 << 20;
/// Keys longer than this cannot be one we look for; they are skipped unread.
constexpr uint64_t kMaxKeyLength = 64 * 1024;
/// Arrays of arrays are legal in the format but unused; deeper nesting is refused.
constexpr int kMaxArrayDepth = 3;
constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS
/// <arch>.* values remembered before general.architecture is known (it usually comes first).
constexpr size_t kMaxArchCandidates = 256;
constexpr uint64_t kInt64Max = static_cast<uint64_t>(INT64_MAX);

// Bytes one scalar of `type` takes; 0 for strings, arrays and unknown types.
uint64_t FixedSize(uint32_t type) {
  switch (type) {
    case kU8: case kI8: case kBool: return 1;
    case kU16: case kI16: return 2;
    case kU32: case kI32: case kF32: return 4;
    case kU64: case kI64: case kF64: return 8;
    default: return 0;
  }
}

bool IsInteger(uint32_t type) {
  return type <= kI32 || type == kU64 || type == kI64;
}

bool IsSigned(uint32_t type) { return type == kI8 || type == kI16 || type == kI32 || type == kI64; }

// Which GgufInfo field an "<arch>.<suffix>" key fills.
enum class ArchField {
  kContextLength, kBlockCount, kEmbeddingLength, kHeadCount, kHeadCountKv, kKeyLength,
  kValueLength, kFeedForwardLength, kExpertFeedForwardLength, kExpertUsedCount,
};

struct ArchKey {
  std::string_view suffix;
  ArchField field;
};

constexpr std::array<ArchKey, 10> kArchKeys = {{
    {"context_length", ArchField::kContextLength},
    {"block_count", ArchField::kBlockCount},
    {"embedding_length", ArchField::kEmbeddingLength},
    {"attention.head_count", ArchField::kHeadCount},
    {"attention.head_count_kv", ArchField::kHeadCountKv},
    {"attention.key_length", ArchField::kKeyLength},
    {"attention.value_length", ArchField::kValueLength},
    {"feed_forward_length", ArchField::kFeedForwardLength},
    {"expert_feed_forward_length", ArchField::kExpertFeedForwardLength},
    {"expert_used_count", ArchField::kExpertUsedCount},
}};

struct ArchCandidate {
  std::string prefix;
  ArchField field;
  uint64_t value;
};

enum class Want { kNothing, kText, kInteger };

struct Value {
  // A non-negative integer scalar, or the largest element of an integer array (kInteger).
  std::optional<uint64_t> integer;
  // A string of at most kMaxStoredString bytes (kText).
  std::optional<std::string> text;
};

class Parser {
 public:
  Parser(FileReader& r, const std::string& path, uint32_t version)
      : r_(r), path_(path), len_width_(version == 1 ? 4 : 8) {}

  Status ParseKvs(uint64_t kv_count, GgufInfo* info);
  Status ParseTensorInfos(uint64_t tensor_count, GgufInfo* info);

 private:
  Status Fail(const std::string& what) const {
    return GgufInvalid(path_, context_ + ": " + what + " (offset " + std::to_string(r_.offset()) +
                              ")");
  }
  // Reader errors already say where they happened.
  Status Wrap(Status s) const {
    if (s.ok()) return s;
    return GgufInvalid(path_, context_ + ": " + s.error().message);
  }

  // A string/array length: u64, or u32 in GGUF v1.
  Status ReadLength(uint64_t* n);
  // Reads a string; keeps it in `*out` when it is at most `cap` bytes, else skips it unread.
  Status ReadString(std::string* out, uint64_t cap, bool* kept);
  Status ReadValue(uint32_t type, Want want, int depth, Value* out);
  Status ReadInteger(uint32_t type, Want want, Value* out);

  FileReader& r_;
  const std::string& path_;
  uint64_t len_width_;
  std::string context_ = "header";
};

Status Parser::ReadLength(uint64_t* n) {
  if (len_width_ == 4) {
    uint32_t v = 0;
    if (Status s = r_.ReadU32(&v); !s.ok()) return Wrap(s);
    *n = v;
    return Status::Ok();
  }
  return Wrap(r_.ReadU64(n));
}

Status Parser::ReadString(std::string* out, uint64_t cap, bool* kept) {
  uint64_t len = 0;
  if (Status s = ReadLength(&len); !s.ok()) return s;
  if (len > r_.remaining()) {
    return Fail("string of " + std::to_string(len) + " bytes runs past the end of the file (" +
                std::to_string(r_.remaining()) + " bytes left)");
  }
  *kept = len <= cap;
  if (!*kept) return Wrap(r_.Skip(len));
  out->resize(static_cast<size_t>(len));
  return Wrap(r_.Read(out->data(), out->size()));
}

Status Parser::ReadInteger(uint32_t type, Want want, Value* out) {
  uint64_t size = FixedSize(type);
  unsigned char b[8] = {};
  if (Status s = r_.Read(b, size); !s.ok()) return Wrap(s);
  if (want != Want::kInteger) return Status::Ok();
  uint64_t v = 0;
  for (uint64_t i = size; i-- > 0;) v = (v << 8) | b[i];
  if (IsSigned(type) && (b[size - 1] & 0x80) != 0) return Status::Ok();  // negative: ignored
  out->integer = out->integer ? std::max(*out->integer, v) : v;
  return Status::Ok();
}

Status Parser::ReadValue(uint32_t type, Want want, int depth, Value* out) {
  if (IsInteger(type)) return ReadInteger(type, want, out);
  if (uint64_t size = FixedSize(type); size != 0) return Wrap(r_.Skip(size));  // f32 f64 bool
  if (type == kString) {
    std::string text;
    bool kept = false;
    uint64_t cap = want == Want::kText && depth == 0 ? kMaxStoredString : 0;
    if (Status s = ReadString(&text, cap, &kept); !s.ok()) return s;
    if (cap != 0 && kept) out->text = SanitizeUtf8(text);
    return Status::Ok();
  }
  if (type != kArray) return Fail("unknown value type " + std::to_string(type));

  if (depth >= kMaxArrayDepth) {
    return Fail("arrays nested more than " + std::to_string(kMaxArrayDepth) + " deep");
  }
  uint32_t elem = 0;
  if (Status s = r_.ReadU32(&elem); !s.ok()) return Wrap(s);
  if (elem >= kValueTypeCount) return Fail("array of unknown value type " + std::to_string(elem));
  uint64_t count = 0;
  if (Status s = ReadLength(&count); !s.ok()) return s;
  // Each element takes at least this many bytes, so a count the rest of the file cannot hold is
  // refused before the loop; the loop below then runs at most remaining()/min times.
  uint64_t min = FixedSize(elem);
  if (elem == kString) min = len_width_;
  if (elem == kArray) min = 4 + len_width_;
  if (count > r_.remaining() / min) {
    return Fail("array of " + std::to_string(count) + " elements of type " +
                std::to_string(elem) + " cannot fit in the " + std::to_string(r_.remaining()) +
                " bytes left");
  }
  bool want_elements = want == Want::kInteger && depth == 0 && IsInteger(elem);
  if (FixedSize(elem) != 0 && !want_elements) return Wrap(r_.Skip(count * min));
  if (elem == kString) {
    // The tokenizer's vocabulary and merges: hundreds of thousands of strings, skipped unread.
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t len = 0;
      if (Status s = ReadLength(&len); !s.ok()) return s;
      if (len > r_.remaining()) {
        return Fail("string " + std::to_string(i) + " of the array, " + std::to_string(len) +
                    " bytes, runs past the end of the file");
      }
      if (Status s = r_.Skip(len); !s.ok()) return Wrap(std::move(s));
    }
    return Status::Ok();
  }
  Want elem_want = want_elements ? Want::kInteger : Want::kNothing;
  for (uint64_t i = 0; i < count; ++i) {
    if (Status s = ReadValue(elem, elem_want, depth + 1, out); !s.ok()) return s;
  }
  return Status::Ok();
}

Status Parser::ParseKvs(uint64_t kv_count, GgufInfo* info) {
  std::vector<ArchCandidate> candidates;
  std::optional<uint64_t> parameter_count;
  for (uint64_t i = 0; i < kv_count; ++i) {
    context_ = "kv " + std::to_string(i);
    std::string key;
    bool kept = false;
    if (Status s = ReadString(&key, kMaxKeyLength, &kept); !s.ok()) return s;
    if (!kept) key.clear();  // too long to be a key we look for
    context_ += " ('" + EscapeForMessage(key) + "')";
    uint32_t type = 0;
    if (Status s = r_.ReadU32(&type); !s.ok()) return Wrap(s);
    if (type >= kValueTypeCount) return Fail("unknown value type " + std::to_string(type));

    std::string_view prefix, suffix;
    const ArchKey* arch_key = nullptr;
    if (size_t dot = key.find('.'); dot != std::string::npos) {
      prefix = std::string_view(key).substr(0, dot);
      suffix = std::string_view(key).substr(dot + 1);
      for (const ArchKey& k : kArchKeys) {
        if (k.suffix == suffix) arch_key = &k;
      }
    }
    Want want = Want::kNothing;
    if (key == "general.architecture" || key == "general.name" || key == "general.size_label") {
      want = Want::kText;
    } else if (key == "general.parameter_count" || key == "general.file_type" ||
               key == "general.alignment" || arch_key != nullptr) {
      want = Want::kInteger;
    }
    Value v;
    if (Status s = ReadValue(type, want, 0, &v); !s.ok()) return s;

    bool scalar = type != kArray;
    if (key == "general.architecture") {
      info->architecture = std::move(v.text);
    } else if (key == "general.name") {
      info->name = std::move(v.text);
    } else if (key == "general.size_label") {
      info->size_label = std::move(v.text);
    } else if (key == "tokenizer.chat_template") {
      info->has_chat_template = type == kString;
    } else if (key == "general.parameter_count") {
      if (scalar) parameter_count = v.integer;
    } else if (key == "general.file_type") {
      if (scalar && v.integer && *v.integer <= UINT32_MAX) {
        info->file_type = static_cast<uint32_t>(*v.integer);
      }
    } else if (key == "general.alignment") {
      // llama.cpp refuses a file whose alignment is not a power of two; so do we, since the
      // data offset (and the truncation check) depend on it.
      uint64_t a = scalar && v.integer ? *v.integer : 0;
      if (a == 0 || a > UINT32_MAX || (a & (a - 1)) != 0) {
        return Fail("general.alignment must be a power of two (an unsigned integer)");
      }
      info->alignment = a;
    } else if (arch_key != nullptr && v.integer && candidates.size() < kMaxArchCandidates) {
      candidates.push_back({std::string(prefix), arch_key->field, *v.integer});
    }
  }

  if (info->architecture) {
    for (const ArchCandidate& c : candidates) {
      if (c.prefix != *info->architecture) continue;
      switch (c.field) {
        case ArchField::kContextLength: info->context_length = c.value; break;
        case ArchField::kBlockCount: info->block_count = c.value; break;
        case ArchField::kEmbeddingLength: info->embedding_length = c.value; break;
        case ArchField::kHeadCount: info->head_count = c.value; break;
        case ArchField::kHeadCountKv: info->head_count_kv = c.value; break;
        case ArchField::kKeyLength: info->key_length = c.value; break;
        case ArchField::kValueLength: info->value_length = c.value; break;
        case ArchField::kFeedForwardLength: info->feed_forward_length = c.value; break;
        case ArchField::kExpertFeedForwardLength: info->expert_feed_forward_length = c.value; break;
        case ArchField::kExpertUsedCount: info->expert_used_count = c.value; break;
      }
    }
  }
  if (parameter_count) info->parameter_count = parameter_count;
  if (info->file_type) info->file_type_name = std::string(FileTypeName(*info->file_type));
  return Status::Ok();
}

Status Parser::ParseTensorInfos(uint64_t tensor_count, GgufInfo* info) {
  uint64_t elements_total = 0;
  bool elements_overflow = false;
  uint64_t data_bytes = 0;
  uint64_t data_end = 0;  // relative to the data section
  bool all_types_known = true;
  for (uint64_t i = 0; i < tensor_count; ++i) {
    context_ = "tensor " + std::to_string(i);
    std::string name;
    bool kept = false;
    if (Status s = ReadString(&name, 256, &kept); !s.ok()) return s;
    if (kept) context_ += " ('" + EscapeForMessage(name) + "')";
    uint32_t n_dims = 0;
    if (Status s = r_.ReadU32(&n_dims); !s.ok()) return Wrap(s);
    if (n_dims > kMaxDims) {
      return Fail(std::to_string(n_dims) + " dimensions (at most " + std::to_string(kMaxDims) +
                  ")");
    }
    uint64_t dims[kMaxDims] = {1, 1, 1, 1};
    uint64_t elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      if (Status s = ReadLength(&dims[d]); !s.ok()) return s;
      if (dims[d] > kInt64Max) return Fail("dimension " + std::to_string(d) + " is negative");
      if (dims[d] != 0 && elements > kInt64Max / dims[d]) {
        return Fail("element count overflows 63 bits");
      }
      elements *= dims[d];
    }
    uint32_t type = 0;
    uint64_t offset = 0;
    if (Status s = r_.ReadU32(&type); !s.ok()) return Wrap(s);
    if (Status s = r_.ReadU64(&offset); !s.ok()) return Wrap(s);
    if (offset % info->alignment != 0) {
      return Fail("data offset " + std::to_string(offset) + " is not a multiple of the alignment " +
                  std::to_string(info->alignment));
    }
    if (__builtin_add_overflow(elements_total, elements, &elements_total)) {
      elements_overflow = true;
    }

    std::optional<GgmlTypeLayout> layout = GgmlTypeLayoutOf(type);
    if (!layout) {
      // A type newer than our table: llama.cpp may know it, so this is not an error; we only
      // lose the data-size check.
      all_types_known = false;
      continue;
    }
    if (dims[0] % layout->block_elements != 0) {
      return Fail("first dimension " + std::to_string(dims[0]) + " is not a multiple of the " +
                  std::string(GgmlTypeName(type)) + " block size " +
                  std::to_string(layout->block_elements));
    }
    uint64_t bytes = 0, end = 0;
    if (__builtin_mul_overflow(elements / layout->block_elements, uint64_t{layout->block_bytes},
                               &bytes) ||
        __builtin_add_overflow(offset, bytes, &end) ||
        __builtin_add_overflow(data_bytes, bytes, &data_bytes)) {
      return Fail("tensor data size overflows 64 bits");
    }
    data_end = std::max(data_end, end);
  }

  context_ = "tensor data";
  uint64_t a = info->alignment;
  uint64_t infos_end = r_.offset();
  info->data_offset = (infos_end + a - 1) / a * a;  // no overflow: offset < 2^63, a < 2^32
  // general.parameter_count, when present, wins over the tensors' sum.
  if (!info->parameter_count && !elements_overflow && tensor_count > 0) {
    info->parameter_count = elements_total;
  }
  if (all_types_known) {
    info->tensor_data_bytes = data_bytes;
    uint64_t needed = infos_end;
    if (tensor_count > 0 && __builtin_add_overflow(info->data_offset, data_end, &needed)) {
      return Fail("tensor data end overflows 64 bits");
    }
    if (needed > info->file_size_bytes) {
      return MakeError("'" + path_ + "' is truncated: its tensor data ends at byte " +
                           std::to_string(needed) + " but the file has only " +
                           std::to_string(info->file_size_bytes) +
                           " bytes (an incomplete download?)",
                       ErrorCode::kModelFileInvalid);
    }
  }
  return Status::Ok();
}

}  // namespace

Result<GgufInfo> ReadGgufInfo(const std::string& path) {
  FileReader r;
  if (Status s = r.Open(path); !s.ok()) return s.error();
  GgufHeader h;
  if (Status s = ReadGgufHeader(r, path, &h); !s.ok()) return s.error();
  GgufInfo info;
  info.version = h.version;
  info.tensor_count = h.tensor_count;
  info.kv_count = h.kv_count;
  info.file_size_bytes = r.size();
  info.alignment = kDefaultAlignment;
  Parser p(r, path, h.version);
  if (Status s = p.ParseKvs(h.kv_count, &info); !s.ok()) return s.error();
  if (Status s = p.ParseTensorInfos(h.tensor_count, &info); !s.ok()) return s.error();
  return info;
}

nlohmann::json ToJson(const GgufInfo& info) {
  auto opt = [](const auto& v) -> nlohmann::json {
    if (v) return nlohmann::json(*v);
    return nullptr;
  };
  return nlohmann::json{
      {"version", info.version},
      {"tensor_count", info.tensor_count},
      {"kv_count", info.kv_count},
      {"file_size_bytes", info.file_size_bytes},
      {"architecture", opt(info.architecture)},
      {"name", opt(info.name)},
      {"size_label", opt(info.size_label)},
      {"parameter_count", opt(info.parameter_count)},
      {"file_type", opt(info.file_type)},
      {"file_type_name",
       info.file_type_name.empty() ? nlohmann::json(nullptr) : nlohmann::json(info.file_type_name)},
      {"context_length", opt(info.context_length)},
      {"block_count", opt(info.block_count)},
      {"embedding_length", opt(info.embedding_length)},
      {"head_count", opt(info.head_count)},
      {"head_count_kv", opt(info.head_count_kv)},
      {"key_length", opt(info.key_length)},
      {"value_length", opt(info.value_length)},
      {"feed_forward_length", opt(info.feed_forward_length)},
      {"expert_feed_forward_length", opt(info.expert_feed_forward_length)},
      {"expert_used_count", opt(info.expert_used_count)},
      {"has_chat_template", info.has_chat_template},
      {"alignment", info.alignment},
      {"data_offset", info.data_offset},
      {"tensor_data_bytes", opt(info.tensor_data_bytes)},
  };
}

}  // namespace kitty
