#include "kitty/daemon/model_info_cache.h"

#include "kitty/gguf/gguf.h"

namespace kitty {
namespace {
constexpr auto kRetryFailedAfter = std::chrono::seconds(10);
}  // namespace

void ModelInfoCache::prefetch(const std::vector<ModelConfig>& models) {
  for (const auto& m : models)
    if (!m.model_path.empty()) get(m);
}

nlohmann::json ModelInfoCache::get(const ModelConfig& m) {
  if (m.model_path.empty()) return nullptr;
  std::lock_guard lock(mu_);
  Entry& e = entries_[m.model_path];
  const auto now = std::chrono::steady_clock::now();
  if (!e.reading && !e.ok && (e.info.is_null() || now - e.read_at > kRetryFailedAfter)) {
    e.reading = true;
    read_later(m.model_path);
  }
  return e.info;
}

void ModelInfoCache::read_later(const std::string& path) {
  pool_.post([this, path] {
    auto info = ReadGgufInfo(path);
    nlohmann::json j = info ? ToJson(*info) : nlohmann::json{{"error", info.error().message}};
    std::lock_guard lock(mu_);
    Entry& e = entries_[path];
    e.info = std::move(j);
    e.ok = info.ok();
    e.reading = false;
    e.read_at = std::chrono::steady_clock::now();
  });
}

}  // namespace kitty
