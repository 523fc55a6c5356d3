#include "kitty/gguf/gguf_header.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "kitty/gguf/gguf.h"
#include "kitty/gguf/utf8.h"

namespace kitty {
namespace {

constexpr std::string_view kMagic = "GGUF";

// Why the first bytes are not GGUF, with a hint for the usual culprits of a failed download.
Status NotGguf(FileReader& r, const std::string& path, const unsigned char magic[4]) {
  std::string head(reinterpret_cast<const char*>(magic), 4);
  char more[28];
  size_t extra = static_cast<size_t>(std::min<uint64_t>(r.remaining(), sizeof more));
  // Best effort: without these bytes there is just no hint.
  if (extra > 0 && r.Read(more, extra).ok()) head.append(more, extra);
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%02x%02x%02x%02x", magic[0], magic[1], magic[2], magic[3]);
  std::string hint;
  if (head.rfind("version https://git-lfs", 0) == 0) {
    hint = "; it is a Git LFS pointer, not the model: fetch it with `git lfs pull`";
  } else if (head[0] == '<' || head.rfind("\xef\xbb\xbf<", 0) == 0) {
    hint = "; it looks like an HTML page: the download probably failed";
  } else if (head[0] == '{') {
    hint = "; it looks like JSON: the download probably failed";
  }
  return MakeError("'" + path + "' is not a GGUF file (magic " + hex + " \"" +
                       EscapeForMessage(head.substr(0, 4)) + "\", expected \"GGUF\")" + hint,
                   ErrorCode::kModelFileInvalid);
}

}  // namespace

Status ReadGgufHeader(FileReader& r, const std::string& path, GgufHeader* h) {
  if (r.size() < kMagic.size()) {
    return MakeError("'" + path + "' is not a GGUF file (it is " + std::to_string(r.size()) +
                         " bytes long)",
                     ErrorCode::kModelFileInvalid);
  }
  unsigned char magic[4];
  if (Status s = r.Read(magic, 4); !s.ok()) return GgufInvalid(path, s.error().message);
  if (std::string_view(reinterpret_cast<const char*>(magic), 4) != kMagic) {
    return NotGguf(r, path, magic);
  }
  if (Status s = r.ReadU32(&h->version); !s.ok()) {
    return GgufInvalid(path, "truncated header: " + s.error().message);
  }
  uint32_t v = h->version;
  if (v < 1 || v > 3) {
    uint32_t swapped = (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
    if (swapped >= 1 && swapped <= 3) {
      return MakeError("'" + path + "' is a big-endian GGUF file (version " +
                           std::to_string(swapped) + "), which is not supported",
                       ErrorCode::kModelFileInvalid);
    }
    return MakeError("'" + path + "' has unsupported GGUF version " + std::to_string(v) +
                         " (supported: 1, 2, 3)",
                     ErrorCode::kModelFileInvalid);
  }
  Status s;
  if (v == 1) {
    uint32_t t = 0, k = 0;
    if (s = r.ReadU32(&t); s.ok()) s = r.ReadU32(&k);
    h->tensor_count = t;
    h->kv_count = k;
  } else {
    if (s = r.ReadU64(&h->tensor_count); s.ok()) s = r.ReadU64(&h->kv_count);
  }
  if (!s.ok()) return GgufInvalid(path, "truncated header: " + s.error().message);

  // The smallest key/value is an empty key, a type and a one-byte value; the smallest tensor
  // info an empty name, n_dims = 0, a type and an offset. Counts that cannot fit are lies, and
  // refusing them here keeps every later loop bounded by the file's size.
  uint64_t len_width = v == 1 ? 4 : 8;
  uint64_t min_kv = len_width + 4 + 1;
  uint64_t min_tensor = len_width + 4 + 4 + 8;
  uint64_t left = r.remaining();
  if (h->kv_count > left / min_kv) {
    return GgufInvalid(path, "header claims " + std::to_string(h->kv_count) +
                             " key/values, more than the " + std::to_string(left) +
                             " bytes after the header can hold");
  }
  left -= h->kv_count * min_kv;
  if (h->tensor_count > left / min_tensor) {
    return GgufInvalid(path, "header claims " + std::to_string(h->tensor_count) +
                             " tensors, more than the rest of the file can hold");
  }
  return Status::Ok();
}

Error GgufInvalid(const std::string& path, const std::string& what) {
  return MakeError("'" + path + "' is not a valid GGUF file: " + what, ErrorCode::kModelFileInvalid);
}

Status CheckGgufFile(const std::string& path) {
  FileReader r(/*buffer_size=*/64);  // the header and a magic hint fit; the rest stays unread
  if (Status s = r.Open(path); !s.ok()) return s;
  GgufHeader h;
  return ReadGgufHeader(r, path, &h);
}

}  // namespace kitty
