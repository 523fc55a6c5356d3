#include "kitty/manager/manager.h"

#include <spdlog/spdlog.h>

#include "kitty/process/port_allocator.h"

namespace kitty {

WorkerManager::WorkerManager(const std::vector<ModelConfig>& models, const Env& env,
                             PortRange auto_ports)
    : env_(env), auto_ports_(auto_ports) {
  std::vector<std::shared_ptr<Worker>> workers;
  for (const auto& m : models) workers.push_back(make_worker(m));
  publish(std::move(workers), models);
}

WorkerManager::~WorkerManager() = default;

std::shared_ptr<Worker> WorkerManager::make_worker(const ModelConfig& m) {
  return Worker::Create(m, env_, [this](const ModelConfig& c) { return pick_port(c); });
}

void WorkerManager::publish(std::vector<std::shared_ptr<Worker>> workers, const std::vector<ModelConfig>& models) {
  auto r = std::make_shared<Registry>();
  r->workers = std::move(workers);
  for (const auto& w : r->workers) r->by_name[w->id()] = w;
  // Names from the config just read: a worker that restarts for it later still runs the old
  // one, but its new aliases route now. Aliases never shadow an id (the config loader rejects
  // clashes; this keeps ids first).
  for (size_t i = 0; i < r->workers.size() && i < models.size(); ++i) {
    const ModelConfig& c = models[i];
    std::vector<std::string> names = c.aliases;
    if (!c.alias.empty()) names.push_back(c.alias);
    for (const auto& a : names) r->by_name.emplace(a, r->workers[i]);
  }
  std::lock_guard lock(mu_);
  registry_ = std::move(r);
}

std::shared_ptr<const WorkerManager::Registry> WorkerManager::registry() const {
  std::lock_guard lock(mu_);
  return registry_;
}

std::shared_ptr<Worker> WorkerManager::find(const std::string& name) const {
  auto r = registry();
  auto it = r->by_name.find(name);
  // Ollama's clients name a model with its tag, "latest" when none was given ("smol:latest").
  static constexpr std::string_view kLatest = ":latest";
  if (it == r->by_name.end() && name.size() > kLatest.size() && name.ends_with(kLatest))
    it = r->by_name.find(name.substr(0, name.size() - kLatest.size()));
  return it == r->by_name.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Worker>> WorkerManager::workers() const { return registry()->workers; }

std::vector<std::shared_ptr<Worker>> WorkerManager::all_workers() const {
  owner_.check("WorkerManager::all_workers");
  std::vector<std::shared_ptr<Worker>> all = registry()->workers;
  all.insert(all.end(), retiring_.begin(), retiring_.end());
  return all;
}

std::vector<std::string> WorkerManager::model_ids() const {
  std::vector<std::string> ids;
  for (const auto& w : registry()->workers) ids.push_back(w->id());
  return ids;
}

Error WorkerManager::not_found(const std::string& name) const {
  std::string list;
  for (const auto& id : model_ids()) list += (list.empty() ? "" : ", ") + id;
  return MakeError("model '" + name + "' not found; available models: " +
                       (list.empty() ? "(none configured)" : list),
                   ErrorCode::kModelNotFound);
}

std::map<std::string, std::string> WorkerManager::reload(const std::vector<ModelConfig>& models, bool force) {
  owner_.check("WorkerManager::reload");
  std::map<std::string, std::string> outcome;
  const auto old = registry();
  std::map<std::string, std::shared_ptr<Worker>> by_id;
  for (const auto& w : old->workers) by_id[w->id()] = w;
  std::vector<std::shared_ptr<Worker>> next;
  for (const auto& m : models) {
    auto it = by_id.find(m.id);
    if (it == by_id.end()) {
      next.push_back(make_worker(m));
      outcome[m.id] = "added";
      continue;
    }
    outcome[m.id] = it->second->reconfigure(m, force);
    next.push_back(it->second);
    by_id.erase(it);
  }
  // Names (aliases included) follow the new config from here on.
  publish(std::move(next), models);
  for (auto& [id, w] : by_id) {
    // Removed: gone from the registry now (new requests get model_not_found); requests in
    // flight finish, then it stops.
    outcome[id] = w->state() == WorkerState::kStopped || w->state() == WorkerState::kFailed ? "removed"
                                                                                          : "removed_stopping";
    retiring_.push_back(w);
    std::weak_ptr<Worker> weak = w;
    w->release(force, [this, weak] {
      auto gone = weak.lock();
      std::erase_if(retiring_, [&](const std::shared_ptr<Worker>& r) { return r == gone; });
    });
  }
  for (const auto& [id, what] : outcome) spdlog::info("reload: model '{}': {}", id, what);
  return outcome;
}

void WorkerManager::preload() {
  owner_.check("WorkerManager::preload");
  for (const auto& w : workers()) {
    if (!w->config().preload) continue;
    spdlog::info("model '{}': preloading", w->id());
    w->ensure([id = w->id()](Result<Endpoint> r) {
      if (!r) spdlog::error("preload of '{}' failed: {}", id, r.error().message);
    });
  }
}

void WorkerManager::for_all(std::function<void(Worker&, Worker::DoneCallback)> op,
                            std::function<void()> done) {
  const auto workers = all_workers();
  auto left = std::make_shared<size_t>(workers.size());
  auto finish = std::make_shared<std::function<void()>>(std::move(done));
  if (workers.empty()) {
    if (*finish) env_.clock->post(std::move(*finish));
    return;
  }
  // Every stop starts at once; `done` runs after the last one ends.
  for (const auto& w : workers) {
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
  for (const auto& w : workers())
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
  for (const auto& w : all_workers()) {
    if (w->config().port > 0) taken.insert(w->config().port);
    const WorkerInfo i = w->info();
    if (i.port > 0) taken.insert(i.port);
  }
  return env_.ports->pick(m.host, auto_ports_, taken);
}

}  // namespace kitty
