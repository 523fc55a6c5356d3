// ModelInfoCache: the GGUF summary of each model file for /v1/models and `kittyctl models`,
// read on the blocking pool (a model file may sit on a slow disk) and served from memory to
// any thread. A file that cannot be read is tried again after a while: it may appear later.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kitty/base/blocking_pool.h"
#include "kitty/config/config.h"

namespace kitty {

class ModelInfoCache {
 public:
  explicit ModelInfoCache(BlockingPool& pool) : pool_(pool) {}
  /// Queues a read of every model's file.
  void prefetch(const std::vector<ModelConfig>& models);
  /// The summary when known; {"error": ...} when the file could not be read; null while it is
  /// being read (or the model has no file). Any thread.
  nlohmann::json get(const ModelConfig& m);

 private:
  struct Entry {
    nlohmann::json info;  // null while reading
    std::chrono::steady_clock::time_point read_at{};
    bool reading = false;
    bool ok = false;
  };
  void read_later(const std::string& path);

  BlockingPool& pool_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace kitty
