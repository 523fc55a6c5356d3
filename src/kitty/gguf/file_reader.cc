#include "kitty/gguf/file_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace kitty {
namespace {

Error FileError(const std::string& path, const std::string& what) {
  return MakeError("model file '" + path + "' " + what, ErrorCode::kModelFileInvalid);
}

Status StatError(const std::string& path, int err) {
  if (err == ENOENT || err == ENOTDIR) return FileError(path, "does not exist");
  if (err == EACCES) {
    return FileError(path, "is not accessible: " + std::string(std::strerror(err)));
  }
  return FileError(path, "cannot be inspected: " + std::string(std::strerror(err)));
}

Status TypeError(const std::string& path, mode_t mode) {
  if (S_ISDIR(mode)) return FileError(path, "is a directory, not a file");
  return FileError(path, "is not a regular file");
}

}  // namespace

Status FileReader::Open(const std::string& path) {
  file_.reset();
  size_ = offset_ = file_pos_ = 0;
  buf_pos_ = buf_len_ = 0;

  // stat() first so a FIFO or device is refused before open() could block on it.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return StatError(path, errno);
  if (!S_ISREG(st.st_mode)) return TypeError(path, st.st_mode);

  // O_NONBLOCK: if the path is swapped for a FIFO between stat and open, open must not hang.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return FileError(path, "does not exist");
    return FileError(path, "is not readable: " + std::string(std::strerror(err)));
  }
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    mode_t mode = st.st_mode;
    ::close(fd);
    return TypeError(path, mode);
  }
  std::FILE* f = ::fdopen(fd, "rb");
  if (f == nullptr) {
    int err = errno;
    ::close(fd);
    return FileError(path, "cannot be opened: " + std::string(std::strerror(err)));
  }
  file_.reset(f);
  size_ = static_cast<uint64_t>(st.st_size);
  buf_.resize(buffer_size_);
  return Status::Ok();
}

Status FileReader::Truncated(uint64_t need) const {
  return MakeError("unexpected end of file: need " + std::to_string(need) + " bytes at offset " +
                       std::to_string(offset_) + " but the file ends at " + std::to_string(size_),
                   ErrorCode::kModelFileInvalid);
}

Status FileReader::Fill() {
  // Invariant: buffer is empty here (buf_pos_ == buf_len_) and offset_ < size_.
  if (file_pos_ != offset_) {
    if (::fseeko(file_.get(), static_cast<off_t>(offset_), SEEK_SET) != 0) {
      return MakeError("seek to offset " + std::to_string(offset_) +
                           " failed: " + std::strerror(errno),
                       ErrorCode::kModelFileInvalid);
    }
    file_pos_ = offset_;
  }
  size_t want = static_cast<size_t>(std::min<uint64_t>(buf_.size(), size_ - offset_));
  size_t got = std::fread(buf_.data(), 1, want, file_.get());
  if (got == 0) {
    bool error = std::ferror(file_.get()) != 0;
    std::clearerr(file_.get());
    return MakeError(error ? "read error at offset " + std::to_string(offset_)
                           : "file shrank while reading (offset " + std::to_string(offset_) + ")",
                     ErrorCode::kModelFileInvalid);
  }
  buf_pos_ = 0;
  buf_len_ = got;
  file_pos_ += got;
  return Status::Ok();
}

Status FileReader::ReadSlow(void* dst, size_t n) {
  if (!file_) return MakeError("read from a closed file", ErrorCode::kModelFileInvalid);
  if (n > remaining()) return Truncated(n);
  auto* out = static_cast<unsigned char*>(dst);
  // Restore the position on failure so error messages report where the value started.
  uint64_t start = offset_;
  while (n > 0) {
    if (buf_pos_ == buf_len_) {
      if (Status s = Fill(); !s.ok()) {
        // The bytes already consumed came from the buffer; forget it so a retry re-reads.
        buf_pos_ = buf_len_ = 0;
        offset_ = start;
        return s;
      }
    }
    size_t take = std::min(n, buf_len_ - buf_pos_);
    std::memcpy(out, buf_.data() + buf_pos_, take);
    out += take;
    n -= take;
    buf_pos_ += take;
    offset_ += take;
  }
  return Status::Ok();
}

Status FileReader::SkipSlow(uint64_t n) {
  if (!file_) return MakeError("skip in a closed file", ErrorCode::kModelFileInvalid);
  if (n > remaining()) return Truncated(n);
  // Beyond the buffer (Skip() handled the rest): drop it; the next Fill() seeks.
  buf_pos_ = buf_len_ = 0;
  offset_ += n;
  return Status::Ok();
}

}  // namespace kitty
