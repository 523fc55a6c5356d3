#include "kitty/memory/disk_free.h"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

namespace kitty {

Result<uint64_t> FreeBytes(const std::string& path) {
  struct statvfs st;
  if (statvfs(path.c_str(), &st) != 0) {
    const int err = errno;
    return MakeError("cannot read the free space of " + path + ": " + strerror(err),
                     err == ENOENT || err == ENOTDIR ? ErrorCode::kFileNotFound : ErrorCode::kIoError);
  }
  // f_bavail counts in fragments of f_frsize (not f_bsize, which is only the preferred I/O size;
  // the two differ on some filesystems).
  return static_cast<uint64_t>(st.f_bavail) * static_cast<uint64_t>(st.f_frsize);
}

}  // namespace kitty
