#include "kitty/base/file_system.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace kitty {
namespace {

std::string Errno(int err) { return strerror(err); }

class PosixFileSystem : public FileSystem {
 public:
  Result<std::string> read_file(const std::string& path, size_t max_bytes) override {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      return MakeError("cannot read " + path + ": " + Errno(err),
                       err == ENOENT ? ErrorCode::kFileNotFound : ErrorCode::kIoError);
    }
    std::string out;
    char buf[8192];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        close(fd);
        return MakeError("cannot read " + path + ": " + Errno(err), ErrorCode::kIoError);
      }
      if (n == 0) break;
      out.append(buf, static_cast<size_t>(n));
      if (out.size() > max_bytes) {
        close(fd);
        return MakeError(path + " is larger than " + std::to_string(max_bytes) + " bytes",
                         ErrorCode::kIoError);
      }
    }
    close(fd);
    return out;
  }

  Status write_file_atomic(const std::string& path, std::string_view text) override {
    std::filesystem::path p(path);
    std::error_code ec;
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
    if (ec)
      return MakeError("cannot create " + p.parent_path().string() + ": " + ec.message(),
                       ErrorCode::kIoError);
    const std::string tmp = path + ".tmp";
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return MakeError("cannot write " + tmp + ": " + Errno(errno), ErrorCode::kIoError);
    while (!text.empty()) {
      const ssize_t n = ::write(fd, text.data(), text.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        close(fd);
        return MakeError("cannot write " + tmp + ": " + Errno(err), ErrorCode::kIoError);
      }
      text.remove_prefix(static_cast<size_t>(n));
    }
    // fsync so that a crash after the rename never leaves an empty file behind.
    if (fsync(fd) != 0 || close(fd) != 0)
      return MakeError("cannot write " + tmp + ": " + Errno(errno), ErrorCode::kIoError);
    if (rename(tmp.c_str(), path.c_str()) != 0)
      return MakeError("cannot rename " + tmp + " to " + path + ": " + Errno(errno),
                       ErrorCode::kIoError);
    return Status::Ok();
  }

  Status remove_file(const std::string& path) override {
    if (unlink(path.c_str()) != 0 && errno != ENOENT)
      return MakeError("cannot remove " + path + ": " + Errno(errno), ErrorCode::kIoError);
    return Status::Ok();
  }
};

}  // namespace

FileSystem& RealFileSystem() {
  static PosixFileSystem fs;
  return fs;
}

}  // namespace kitty
