#include "kitty/process/proc_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace kitty {

std::optional<std::string> ReadProcFile(const std::string& path, size_t max_bytes) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[8192];
  bool ok = true;
  while (out.size() < max_bytes) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ok = false;  // ESRCH: the process went away mid-read
      break;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (!ok) return std::nullopt;
  if (out.size() > max_bytes) out.resize(max_bytes);
  return out;
}

}  // namespace kitty
