#include "kitty/memory/footprint_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace kitty {
namespace {

using nlohmann::json;

constexpr int kVersion = 1;

int64_t ToUnixMs(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

int64_t StaleCutoffMs(WallTime now) {
  using std::chrono::milliseconds;
  return ToUnixMs(now) - std::chrono::duration_cast<milliseconds>(FootprintStore::kStaleAfter).count();
}

json StampJson(const FileStamp& s) {
  if (s.path.empty()) return nullptr;
  return json{{"path", s.path}, {"size_bytes", s.size_bytes}, {"mtime_ns", s.mtime_ns}};
}

FileStamp StampFrom(const json& j) {
  if (j.is_null()) return {};
  return {j.at("path").get<std::string>(), j.at("size_bytes").get<uint64_t>(),
          j.at("mtime_ns").get<int64_t>()};
}

template <class T>
json Opt(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

template <class T>
std::optional<T> OptFrom(const json& j, const char* name) {
  const json& v = j.at(name);
  if (v.is_null()) return std::nullopt;
  return v.get<T>();
}

json KeyJson(const FootprintKey& k) {
  return json{{"backend", k.backend},
              {"model", StampJson(k.model)},
              {"mmproj", StampJson(k.mmproj)},
              {"engine", StampJson(k.engine)},
              {"ctx", Opt(k.ctx)},
              {"parallel", Opt(k.parallel)},
              {"batch", Opt(k.batch)},
              {"ubatch", Opt(k.ubatch)},
              {"ngl", Opt(k.ngl)},
              {"flash_attn", Opt(k.flash_attn)},
              {"extra_args", k.extra_args},
              {"command", k.command},
              {"engine_env", k.engine_env}};
}

// Throws nlohmann::json::exception on a wrong shape; the caller turns it into an error.
FootprintKey KeyFrom(const json& j) {
  FootprintKey k;
  k.backend = j.at("backend").get<std::string>();
  k.model = StampFrom(j.at("model"));
  k.mmproj = StampFrom(j.at("mmproj"));
  k.engine = StampFrom(j.at("engine"));
  k.ctx = OptFrom<int>(j, "ctx");
  k.parallel = OptFrom<int>(j, "parallel");
  k.batch = OptFrom<int>(j, "batch");
  k.ubatch = OptFrom<int>(j, "ubatch");
  k.ngl = OptFrom<int>(j, "ngl");
  k.flash_attn = OptFrom<bool>(j, "flash_attn");
  k.extra_args = j.at("extra_args").get<std::vector<std::string>>();
  k.command = j.at("command").get<std::vector<std::string>>();
  k.engine_env = j.at("engine_env").get<std::map<std::string, std::string>>();
  return k;
}

bool IsEngineVariable(const std::string& name) {
  return name.rfind("LLAMA_", 0) == 0 || name.rfind("GGML_", 0) == 0;
}

}  // namespace

Result<FileStamp> StampFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    return MakeError("cannot stat " + path + ": " + strerror(err),
                     err == ENOENT ? ErrorCode::kFileNotFound : ErrorCode::kIoError);
  }
#if defined(__APPLE__)
  const int64_t mtime_ns = int64_t{st.st_mtimespec.tv_sec} * 1000000000 + st.st_mtimespec.tv_nsec;
#else
  const int64_t mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
#endif
  return FileStamp{path, static_cast<uint64_t>(st.st_size), mtime_ns};
}

std::string FootprintKey::canonical() const { return KeyJson(*this).dump(); }

FootprintKey MakeFootprintKey(const ModelConfig& m, const FileStamp& model, const FileStamp& mmproj,
                              const FileStamp& engine) {
  FootprintKey k;
  k.backend = BackendName(m.backend);
  k.model = model;
  k.mmproj = mmproj;
  k.engine = engine;
  k.ctx = m.ctx;
  k.parallel = m.parallel;
  k.batch = m.batch;
  k.ubatch = m.ubatch;
  k.ngl = m.ngl;
  k.flash_attn = m.flash_attn;
  k.extra_args = m.extra_args;
  k.command = m.command;
  for (const auto& [name, value] : m.env)
    if (IsEngineVariable(name)) k.engine_env[name] = value;
  return k;
}

FootprintStore::FootprintStore(std::string path, FileSystem& fs) : path_(std::move(path)), fs_(fs) {}

Status FootprintStore::load(WallTime now) {
  entries_.clear();
  auto text = fs_.read_file(path_, kMaxFileBytes);
  if (!text.ok()) {
    if (text.error().code == ErrorCode::kFileNotFound) return Status::Ok();
    spdlog::warn("footprints: cannot read {}: {}; starting without learned footprints", path_,
                 text.error().message);
    return text.error();
  }
  auto fail = [&](const std::string& what) -> Status {
    entries_.clear();
    spdlog::warn("footprints: ignoring {}: {}; starting without learned footprints", path_, what);
    return MakeError("footprints file " + path_ + ": " + what, ErrorCode::kIoError);
  };
  const json j = json::parse(text.value(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return fail("not a JSON object");
  const int64_t cutoff = StaleCutoffMs(now);
  try {
    if (j.at("version").get<int>() != kVersion) return fail("unknown version " + j.at("version").dump());
    for (const json& e : j.at("entries")) {
      Entry entry{KeyFrom(e.at("key")), {}};
      for (const json& r : e.at("runs")) {
        Run run{r.at("peak_bytes").get<uint64_t>(), r.at("recorded_at_ms").get<int64_t>()};
        if (run.recorded_at_ms >= cutoff && run.peak_bytes > 0) entry.runs.push_back(run);
      }
      if (entry.runs.empty()) continue;
      std::sort(entry.runs.begin(), entry.runs.end(),
                [](const Run& a, const Run& b) { return a.recorded_at_ms < b.recorded_at_ms; });
      if (entry.runs.size() > kRunsPerKey)
        entry.runs.erase(entry.runs.begin(), entry.runs.end() - kRunsPerKey);
      std::string id = entry.key.canonical();
      entries_[std::move(id)] = std::move(entry);
    }
  } catch (const json::exception& e) {
    return fail(std::string("malformed: ") + e.what());
  }
  return Status::Ok();
}

void FootprintStore::Record(const FootprintKey& key, uint64_t peak_bytes, WallTime now) {
  if (peak_bytes == 0) return;
  std::string id = key.canonical();
  auto it = entries_.find(id);
  if (it == entries_.end()) {
    if (entries_.size() >= kMaxKeys) {
      // Full: forget the key whose newest run is the oldest.
      auto newest_run = [](const auto& e) { return e.second.runs.back().recorded_at_ms; };
      auto oldest = std::min_element(entries_.begin(), entries_.end(), [&](const auto& a, const auto& b) {
        return newest_run(a) < newest_run(b);
      });
      entries_.erase(oldest);
    }
    it = entries_.emplace(std::move(id), Entry{key, {}}).first;
  }
  std::vector<Run>& runs = it->second.runs;
  runs.push_back({peak_bytes, ToUnixMs(now)});
  if (runs.size() > kRunsPerKey) runs.erase(runs.begin());
}

std::optional<uint64_t> FootprintStore::Lookup(const FootprintKey& key, WallTime now) const {
  auto it = entries_.find(key.canonical());
  if (it == entries_.end()) return std::nullopt;
  const int64_t cutoff = StaleCutoffMs(now);
  std::optional<uint64_t> best;
  for (const Run& r : it->second.runs)
    if (r.recorded_at_ms >= cutoff) best = std::max(best.value_or(0), r.peak_bytes);
  return best;
}

void FootprintStore::Forget(const FootprintKey& key) { entries_.erase(key.canonical()); }

std::string FootprintStore::snapshot() const {
  json entries = json::array();
  for (const auto& [id, e] : entries_) {
    json runs = json::array();
    for (const Run& r : e.runs)
      runs.push_back({{"peak_bytes", r.peak_bytes}, {"recorded_at_ms", r.recorded_at_ms}});
    entries.push_back({{"key", KeyJson(e.key)}, {"runs", std::move(runs)}});
  }
  return json{{"version", kVersion}, {"entries", std::move(entries)}}.dump(1) + "\n";
}

Status FootprintStore::WriteSnapshot(FileSystem& fs, const std::string& path,
                                     const std::string& text) {
  return fs.write_file_atomic(path, text);
}

Status FootprintStore::save() const { return WriteSnapshot(fs_, path_, snapshot()); }

}  // namespace kitty
