#include "kitty/manager/manager.h"

#include <spdlog/spdlog.h>

#include "kitty/process/port_allocator.h"

namespace kitty {

WorkerManager::WorkerManager(const std::vector<ModelConfig>& models, const Env& env,
                             PortRange auto_ports)
    : env_(env), auto_ports_(auto_ports) {
  for (const auto& m : models) {
    auto w = Worker::Create(m, env_, [this](const ModelConfig& c) { return pick_port(c); });
    workers_.push_back(w);
    by_name_[m.id] = w;
  }
  // Aliases never shadow an id (the config loader rejects clashes; this keeps ids first).
  for (const auto& w : workers_) {
    std::vector<std::string> names = w->config().aliases;
    if (!w->config().alias.empty()) names.push_back(w->config().alias);
    for (const auto& a : names) by_name_.emplace(a, w);
  }
}

WorkerManager::~WorkerManager() = default;

std::shared_ptr<Worker> WorkerManager::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<std::string> WorkerManager::model_ids() const {
  std::vector<std::string> ids;
  for (const auto& w : workers_) ids.push_back(w->id());
  return ids;
}

Error WorkerManager::not_found(const std::string& name) const {
  std::string list;
  for (const auto& id : model_ids()) list += (list.empty() ? "" : ", ") + id;
  return MakeError("model '" + name + "' not found; available models: " +
                       (list.empty() ? "(none configured)" : list),
                   ErrorCode::kModelNotFound);
}

void WorkerManager::preload() {
  owner_.check("WorkerManager::preload");
  for (const auto& w : workers_) {
    if (!w->config().preload) continue;
    spdlog::info("model '{}': preloading", w->id());
    w->ensure([id = w->id()](Result<Endpoint> r) {
      if (!r) spdlog::error("preload of '{}' failed: {}", id, r.error().message);
    });
  }
}

void WorkerManager::for_all(std::function<void(Worker&, Worker::DoneCallback)> op,
                            std::function<void()> done) {
  auto left = std::make_shared<size_t>(workers_.size());
  auto finish = std::make_shared<std::function<void()>>(std::move(done));
  if (workers_.empty()) {
    if (*finish) env_.clock->post(std::move(*finish));
    return;
  }
  // Every stop starts at once; `done` runs after the last one ends.
  for (const auto& w : workers_) {
    op(*w, [left, finish] {
      if (--*left == 0 && *finish) (*finish)();
    });
  }
}

void WorkerManager::release_all(bool force, std::function<void()> done, ErrorCode why) {
  owner_.check("WorkerManager::release_all");
  for_all([force, why](Worker& w, Worker::DoneCallback d) { w.release(force, std::move(d), why); },
          std::move(done));
}

void WorkerManager::kill_all(std::function<void()> done, ErrorCode why) {
  owner_.check("WorkerManager::kill_all");
  for_all([why](Worker& w, Worker::DoneCallback d) { w.kill(std::move(d), why); }, std::move(done));
}

std::shared_ptr<Worker> WorkerManager::find_hold(const std::string& hold_id) const {
  owner_.check("WorkerManager::find_hold");
  for (const auto& w : workers_)
    if (w->has_hold(hold_id)) return w;
  return nullptr;
}

Result<int> WorkerManager::pick_port(const ModelConfig& m) {
  if (m.port > 0) {
    // Another of our workers may still be on it only if it is the same model (config
    // validation rejects two models on one fixed port), so anything listening is foreign.
    Status st = env_.ports->check_free(m.host, m.port);
    if (!st) return MakeError(st.error().message, ErrorCode::kPortInUse);
    return m.port;
  }
  std::set<int> taken;
  for (const auto& w : workers_) {
    if (w->config().port > 0) taken.insert(w->config().port);
    const WorkerInfo i = w->info();
    if (i.port > 0) taken.insert(i.port);
  }
  return env_.ports->pick(m.host, auto_ports_, taken);
}

}  // namespace kitty
