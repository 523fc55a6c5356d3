#include "kitty/process/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "kitty/process/platform.h"

namespace kitty {

namespace {

uint64_t StartTimeOrZero(int pid) {
  auto t = platform::ProcessStartTime(pid);
  return t.ok() ? t.value() : 0;  // 0 = unknown: cleanup then relies on the token alone
}

nlohmann::json ToJson(const DaemonState& s) {
  nlohmann::json workers = nlohmann::json::array();
  for (const auto& w : s.workers)
    workers.push_back({{"model_id", w.model_id}, {"pid", w.pid}, {"start_time", w.start_time}});
  return {{"version", 1},
          {"token", s.token},
          {"pid", s.pid},
          {"pid_start_time", s.pid_start_time},
          {"workers", workers}};
}

Status WriteAtomically(const std::string& path, const std::string& text) {
  std::filesystem::path p(path);
  std::error_code ec;
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  if (ec) return MakeError("cannot create " + p.parent_path().string() + ": " + ec.message());
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return MakeError("cannot write " + tmp + ": " + strerror(errno));
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return MakeError("cannot write " + tmp + ": " + strerror(err));
    }
    off += static_cast<size_t>(n);
  }
  // fsync so that a crash after rename never leaves an empty state file behind.
  if (fsync(fd) != 0 || close(fd) != 0)
    return MakeError("cannot write " + tmp + ": " + strerror(errno));
  if (rename(tmp.c_str(), path.c_str()) != 0)
    return MakeError("cannot rename " + tmp + " to " + path + ": " + strerror(errno));
  return Status::Ok();
}

}  // namespace

StateFile::StateFile(std::string path, std::string token, int daemon_pid) : path_(std::move(path)) {
  state_.token = std::move(token);
  state_.pid = daemon_pid > 0 ? daemon_pid : getpid();
  state_.pid_start_time = StartTimeOrZero(state_.pid);
}

Status StateFile::save() { return WriteAtomically(path_, ToJson(state_).dump(2) + "\n"); }

Status StateFile::record_worker(const std::string& model_id, int pid) {
  state_.workers.erase(std::remove_if(state_.workers.begin(), state_.workers.end(),
                                      [pid](const RecordedWorker& w) { return w.pid == pid; }),
                       state_.workers.end());
  state_.workers.push_back({model_id, pid, StartTimeOrZero(pid)});
  return save();
}

Status StateFile::forget_worker(int pid) {
  state_.workers.erase(std::remove_if(state_.workers.begin(), state_.workers.end(),
                                      [pid](const RecordedWorker& w) { return w.pid == pid; }),
                       state_.workers.end());
  return save();
}

Status StateFile::remove() {
  if (unlink(path_.c_str()) != 0 && errno != ENOENT)
    return MakeError("cannot remove " + path_ + ": " + strerror(errno));
  return Status::Ok();
}

Result<DaemonState> ReadStateFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec)
    return MakeError("no state file " + path, ErrorCode::kFileNotFound);
  std::ifstream in(path);
  if (!in) return MakeError("cannot read " + path + ": " + strerror(errno));
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return MakeError("state file " + path + " is not valid JSON");
  DaemonState s;
  try {
    s.token = j.at("token").get<std::string>();
    s.pid = j.at("pid").get<int>();
    s.pid_start_time = j.value("pid_start_time", uint64_t{0});
    for (const auto& w : j.value("workers", nlohmann::json::array()))
      s.workers.push_back({w.at("model_id").get<std::string>(), w.at("pid").get<int>(),
                           w.value("start_time", uint64_t{0})});
  } catch (const nlohmann::json::exception& e) {
    return MakeError("state file " + path + " is malformed: " + e.what());
  }
  return s;
}

}  // namespace kitty
