// FileReader: a bounded, buffered, forward-only reader over one regular file, for parsers of
// untrusted binary headers (the GGUF reader). It knows the file's size up front, so every
// Read/Skip either fits in what is left of the file or fails without touching the file; callers
// check a claimed length against remaining() before trusting it. Not thread-safe: one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "kitty/base/result.h"

namespace kitty {

class FileReader {
 public:
  /// Buffer size: large enough that a 100 MB model's metadata streams in a few hundred reads.
  static constexpr size_t kBufferSize = 64 * 1024;

  /// `buffer_size` bounds each read from the file (a header check needs only a few bytes).
  explicit FileReader(size_t buffer_size = kBufferSize)
      : buffer_size_(buffer_size != 0 ? buffer_size : 1) {}

  /// Opens `path` read-only. Refuses anything but a regular file (a FIFO would block reads, a
  /// directory cannot be read). Messages name the path: "model file 'p' does not exist", "... is
  /// a directory", "... is not readable: Permission denied". Code "model_file_invalid".
  Status Open(const std::string& path);

  bool is_open() const { return file_ != nullptr; }
  /// File size at Open() time; reads never go past it.
  uint64_t size() const { return size_; }
  /// Offset of the next byte Read() returns.
  uint64_t offset() const { return offset_; }
  uint64_t remaining() const { return size_ - offset_; }

  /// Reads exactly `n` bytes. Fails (message without the path: "unexpected end of file ...",
  /// "read error ...") when fewer than `n` bytes remain or the file changed under us; on failure
  /// the reader stays at its offset.
  Status Read(void* dst, size_t n) {
    // Fast path, inline: a metadata scan is mostly 8-byte lengths already in the buffer.
    if (n <= buf_len_ - buf_pos_) {
      std::memcpy(dst, buf_.data() + buf_pos_, n);
      buf_pos_ += n;
      offset_ += n;
      return Status::Ok();
    }
    return ReadSlow(dst, n);
  }
  /// Advances `n` bytes without reading them when they are beyond the buffer (a seek), failing
  /// like Read() when fewer than `n` remain.
  Status Skip(uint64_t n) {
    if (n <= buf_len_ - buf_pos_) {
      buf_pos_ += static_cast<size_t>(n);
      offset_ += n;
      return Status::Ok();
    }
    return SkipSlow(n);
  }

  /// Little-endian fixed-width reads.
  Status ReadU8(uint8_t* v) { return Read(v, 1); }
  Status ReadU16(uint16_t* v) { return ReadLe(v); }
  Status ReadU32(uint32_t* v) { return ReadLe(v); }
  Status ReadU64(uint64_t* v) { return ReadLe(v); }

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  template <class T>
  Status ReadLe(T* v) {
    unsigned char b[sizeof(T)];
    if (Status s = Read(b, sizeof b); !s.ok()) return s;
    T x = 0;
    for (size_t i = sizeof(T); i-- > 0;) x = static_cast<T>((x << 8) | b[i]);
    *v = x;
    return Status::Ok();
  }
  Status ReadSlow(void* dst, size_t n);
  Status SkipSlow(uint64_t n);
  Status Fill();
  Status Truncated(uint64_t need) const;

  std::unique_ptr<std::FILE, Closer> file_;
  uint64_t size_ = 0;
  uint64_t offset_ = 0;     // logical position
  size_t buffer_size_;
  std::vector<unsigned char> buf_;
  size_t buf_pos_ = 0;      // next unread byte in buf_
  size_t buf_len_ = 0;      // valid bytes in buf_
  uint64_t file_pos_ = 0;   // where the FILE* is positioned (offset of buf_[buf_len_])
};

}  // namespace kitty
