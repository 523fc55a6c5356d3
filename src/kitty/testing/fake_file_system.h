// FakeFileSystem: files in memory, and writes that fail on demand.
#pragma once

#include <map>
#include <mutex>

#include "kitty/base/file_system.h"

namespace kitty {

class FakeFileSystem : public FileSystem {
 public:
  Result<std::string> read_file(const std::string& path, size_t max_bytes) override {
    std::lock_guard lock(mu_);
    auto it = files.find(path);
    if (it == files.end()) return MakeError("no file " + path, ErrorCode::kFileNotFound);
    if (it->second.size() > max_bytes) return MakeError(path + " is too large", ErrorCode::kIoError);
    return it->second;
  }
  Status write_file_atomic(const std::string& path, std::string_view data) override {
    std::lock_guard lock(mu_);
    ++writes;
    if (fail_writes) return MakeError("cannot write " + path + ": disk full", ErrorCode::kIoError);
    files[path] = std::string(data);
    return Status::Ok();
  }
  Status remove_file(const std::string& path) override {
    std::lock_guard lock(mu_);
    files.erase(path);
    return Status::Ok();
  }

  std::map<std::string, std::string> files;
  bool fail_writes = false;
  int writes = 0;

 private:
  std::mutex mu_;
};

}  // namespace kitty
