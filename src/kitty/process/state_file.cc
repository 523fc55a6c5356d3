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

}  // namespace

StateFile::StateFile(std::string path, std::string token, int daemon_pid, FileSystem& fs)
    : path_(std::move(path)), fs_(fs) {
  state_.token = std::move(token);
  state_.pid = daemon_pid > 0 ? daemon_pid : getpid();
  state_.pid_start_time = StartTimeOrZero(state_.pid);
}

Status StateFile::save() { return fs_.write_file_atomic(path_, ToJson(state_).dump(2) + "\n"); }

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

Status StateFile::remove() { return fs_.remove_file(path_); }

Result<DaemonState> ReadStateFile(const std::string& path, FileSystem& fs) {
  // A state file lists a few workers: anything near this size is not ours.
  auto text = fs.read_file(path, 1 << 20);
  if (!text.ok()) return text.error();
  nlohmann::json j = nlohmann::json::parse(text.value(), nullptr, /*allow_exceptions=*/false);
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
