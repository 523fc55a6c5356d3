#include "kitty/process/daemon_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace kitty {

LockFile& LockFile::operator=(LockFile&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

LockFile::~LockFile() {
  if (fd_ >= 0) close(fd_);  // closing the last descriptor releases the flock
}

Result<LockFile> AcquireDaemonLock(const std::string& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return MakeError("cannot create state dir " + state_dir + ": " + ec.message());
  std::string path = (std::filesystem::path(state_dir) / "kittyd.lock").string();
  // CLOEXEC: a worker must never inherit (and so prolong) the daemon's lock.
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return MakeError("cannot open " + path + ": " + strerror(errno));
  int rc;
  do rc = flock(fd, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    std::string holder = "?";
    char buf[32] = {};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n > 0) holder = std::to_string(atoi(buf));
    close(fd);
    if (err == EWOULDBLOCK)
      return MakeError("another kittyd (pid " + holder + ") is using state dir " + state_dir,
                       ErrorCode::kAlreadyRunning);
    return MakeError("cannot lock " + path + ": " + strerror(err));
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    int err = errno;
    close(fd);
    return MakeError("cannot write " + path + ": " + strerror(err));
  }
  return LockFile(fd, path);
}

}  // namespace kitty
