#include "kitty/config/config_file.h"

#include "kitty/base/bytes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace kitty {
namespace {

std::string NotRegular(const struct stat& st) {
  const char* what = S_ISDIR(st.st_mode)    ? "a directory"
                     : S_ISFIFO(st.st_mode) ? "a named pipe"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "not a plain file";
  return std::string("not a regular file (") + what + "); the config must be a YAML file";
}

std::string TooLarge(uint64_t size, uint64_t max_bytes) {
  std::string exact = size >= (1ull << 20) ? " (" + std::to_string(size) + " bytes)" : "";
  return "too large for a config file: " + FormatBytes(size) + exact + "; the limit is " +
         FormatBytes(max_bytes);
}

class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

}  // namespace

Result<std::string> ReadConfigFile(const std::string& path, uint64_t max_bytes) {
  auto fail = [&](const std::string& message) { return MakeError(path + ": " + message, ErrorCode::kConfigInvalid); };
  auto fail_errno = [&](int err) {
    return MakeError(path + ": cannot read the config file: " + std::strerror(err),
                     err == ENOENT ? ErrorCode::kFileNotFound : ErrorCode::kConfigInvalid);
  };

  // stat before open: opening a FIFO waits for a writer, and opening a device can have side
  // effects (a tape rewinds); neither should happen because of a wrong path.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fail_errno(errno);
  if (!S_ISREG(st.st_mode)) return fail(NotRegular(st));
  if (static_cast<uint64_t>(st.st_size) > max_bytes) return fail(TooLarge(st.st_size, max_bytes));

  // O_NONBLOCK: should the path have been swapped for a FIFO since the stat, open must still
  // not block. It changes nothing for a regular file.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return fail_errno(errno);
  FdCloser closer(fd);
  // What was opened is what counts (the path may have changed since the stat).
  if (::fstat(fd, &st) != 0) return fail_errno(errno);
  if (!S_ISREG(st.st_mode)) return fail(NotRegular(st));
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size > max_bytes) return fail(TooLarge(size, max_bytes));

  // Never trust the size for the bound: /proc and /sys files say 0 and then produce data.
  // One byte past the cap tells "too large" from "exactly at the cap".
  std::string text;
  text.reserve(size);
  int read_errno = 0;
  char buf[64 * 1024];
  while (text.size() <= max_bytes) {
    size_t want = std::min<uint64_t>(sizeof buf, max_bytes + 1 - text.size());
    ssize_t n = ::read(fd, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      read_errno = errno;
      break;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }

  // A pseudo-file: /proc/self/mem fails its first read (EIO), /proc/self/status reads fine;
  // both report size 0. Neither is a config someone wrote.
  if (size == 0 && (read_errno != 0 || !text.empty()))
    return fail("not a regular file on disk: it reports a size of 0 bytes, but reading it " +
                (read_errno != 0 ? "fails (" + std::string(std::strerror(read_errno)) + ")"
                                 : "gives data") +
                "; a /proc or /sys file?");
  if (read_errno != 0) return fail_errno(read_errno);
  if (text.size() > max_bytes)
    return fail("too large for a config file: it grew past the limit of " + FormatBytes(max_bytes) +
                " while being read");
  if (text.size() != size)
    return fail("the file changed while it was read (" + std::to_string(size) + " bytes announced, " +
                std::to_string(text.size()) + " read); try again");
  return text;
}

}  // namespace kitty
