// The daemon's lock on its state directory: <state_dir>/kittyd.lock, flock()ed for the
// daemon's lifetime, so two kittyd instances never manage (or clean up) the same workers.
// The kernel drops the lock when the process dies, however it dies.
#pragma once

#include <string>

#include "kitty/base/result.h"

namespace kitty {

class LockFile {
 public:
  LockFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  LockFile(LockFile&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
  LockFile& operator=(LockFile&& o) noexcept;
  LockFile(const LockFile&) = delete;
  LockFile& operator=(const LockFile&) = delete;
  /// Releases the lock.
  ~LockFile();
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

/// Creates `state_dir` if needed and locks <state_dir>/kittyd.lock, writing our pid into it.
/// Error code "already_running" with "another kittyd (pid N) is using state dir X" when held.
Result<LockFile> AcquireDaemonLock(const std::string& state_dir);

}  // namespace kitty
