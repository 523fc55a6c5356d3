// FileReader: a bounded, buffered, forward-only reader over one regular file, for parsers of
// untrusted binary headers (the GGUF reader). It knows the file's size up front, so every
// Read/Skip either fits in what is left of the file or fails without touching the file; callers
// check a claimed length against remaining() before trusting it. Not thread-safe: one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
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
  Status Read(void* dst, size_t n);
  /// Advances `n` bytes without reading them when they are beyond the buffer (a seek), failing
  /// like Read() when fewer than `n` remain.
  Status Skip(uint64_t n);

  /// Little-endian fixed-width reads.
  Status ReadU8(uint8_t* v);
  Status ReadU16(uint16_t* v);
  Status ReadU32(uint32_t* v);
  Status ReadU64(uint64_t* v);

 private:
  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
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
