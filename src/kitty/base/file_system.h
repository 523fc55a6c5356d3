// FileSystem: the few file operations the daemon's own state needs (the state file), behind an
// interface so that tests can use memory instead of a disk and make writes fail on purpose.
// Blocking calls: the daemon makes them from the blocking pool. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "kitty/base/result.h"

namespace kitty {

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  /// The file's bytes (at most `max_bytes`); code kFileNotFound when it does not exist.
  virtual Result<std::string> read_file(const std::string& path, size_t max_bytes) = 0;
  /// Replaces the file atomically: a temporary beside it, fsync, rename (parents created),
  /// so a crash never leaves a half-written or empty file.
  virtual Status write_file_atomic(const std::string& path, std::string_view data) = 0;
  /// Deletes the file; fine if it is already gone.
  virtual Status remove_file(const std::string& path) = 0;
};

/// The real disk (POSIX).
FileSystem& RealFileSystem();

}  // namespace kitty
