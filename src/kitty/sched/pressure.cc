#include "kitty/sched/pressure.h"

#include <algorithm>
#include <cstdio>

#include "kitty/base/bytes.h"

namespace kitty::sched {

namespace {

const char* const kKindNames[] = {"ram", "gpu", "cpu", "disk"};

// "93%": whole percents; the figures behind them follow in bytes.
std::string Percent(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f%%", p);
  return buf;
}

// A threshold as configured: "90%", "85.5%".
std::string Threshold(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", p);
  return buf;
}

double Share(uint64_t part, uint64_t whole) {
  return 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

// `percent` of `total`, in bytes.
uint64_t Limit(uint64_t total, double percent) {
  return static_cast<uint64_t>(static_cast<double>(total) * percent / 100.0);
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace

PressureMonitor::PressureMonitor(const PressureConfig& config) : config_(config) {}

size_t PressureMonitor::update(const PressureSample& s) {
  std::string ram = check_ram(s), gpu = check_gpus(s), cpu = check_cpu(s), disk = check_disks(s);
  last_sample_at_ = s.at;
  size_t added = 0;
  if (state_.ram) added += note(kRam, s, std::move(ram));
  if (state_.gpu) added += note(kGpu, s, std::move(gpu));
  if (state_.cpu) added += note(kCpu, s, std::move(cpu));
  if (state_.disk) added += note(kDisk, s, std::move(disk));
  return added;
}

// Over means strictly over: freeing exactly ram_to_free_bytes leaves use at the threshold, and
// that must read as relieved, or the next sample would evict one more model for one byte.
std::string PressureMonitor::check_ram(const PressureSample& s) {
  state_.ram = false;
  state_.ram_to_free_bytes = 0;
  if (!s.ram || s.ram->total_bytes == 0) return "";
  const RamUse& r = *s.ram;
  const uint64_t used = r.total_bytes - std::min(r.available_bytes, r.total_bytes);
  const uint64_t limit = Limit(r.total_bytes, config_.ram_percent);
  if (used <= limit) return "";
  state_.ram = true;
  state_.ram_to_free_bytes = used - limit;
  return "RAM " + Percent(Share(used, r.total_bytes)) + " in use (threshold " +
         Threshold(config_.ram_percent) + "): " + FormatBytes(used) + " of " +
         FormatBytes(r.total_bytes) + ", " + FormatBytes(state_.ram_to_free_bytes) + " to free";
}

// A budget below the threshold is the tighter bound; both are met by getting under the lower one.
std::string PressureMonitor::check_gpus(const PressureSample& s) {
  state_.gpu = false;
  state_.gpus.clear();
  std::vector<std::string> parts;
  for (const GpuUse& g : s.gpus) {
    GpuPressure p;
    p.index = g.index;
    if (g.total_bytes > 0) {
      uint64_t limit = Limit(g.total_bytes, config_.gpu_percent);
      if (g.budget_bytes) limit = std::min(limit, *g.budget_bytes);
      if (g.used_bytes > limit) {
        p.over = true;
        p.to_free_bytes = g.used_bytes - limit;
        std::string part = "GPU " + std::to_string(g.index);
        if (!g.name.empty()) part += " (" + g.name + ")";
        part += " " + Percent(Share(g.used_bytes, g.total_bytes)) + " in use (threshold " +
                Threshold(config_.gpu_percent);
        if (g.budget_bytes) part += ", budget " + FormatBytes(*g.budget_bytes);
        part += "): " + FormatBytes(g.used_bytes) + " of " + FormatBytes(g.total_bytes) + ", " +
                FormatBytes(p.to_free_bytes) + " to free";
        parts.push_back(std::move(part));
      }
    }
    state_.gpu = state_.gpu || p.over;
    state_.gpus.push_back(p);
  }
  return Join(parts);
}

// The busy share of a sample covers the time since the previous one, so a busy window opens at
// the previous sample. A dip, or a sample without a figure, closes it: sustained means shown
// busy in every sample.
std::string PressureMonitor::check_cpu(const PressureSample& s) {
  state_.cpu = false;
  state_.cpu_busy_seconds = 0;
  if (!s.cpu_busy_percent || *s.cpu_busy_percent < config_.cpu_percent) {
    cpu_busy_since_.reset();
    cpu_busy_integral_ = 0;
    return "";
  }
  const TimePoint from = last_sample_at_.value_or(s.at);
  if (!cpu_busy_since_) cpu_busy_since_ = from;
  cpu_busy_integral_ += *s.cpu_busy_percent * ToSeconds(s.at - from);
  const double seconds = ToSeconds(s.at - *cpu_busy_since_);
  state_.cpu_busy_seconds = seconds;
  if (seconds < config_.cpu_seconds) return "";
  state_.cpu = true;
  const double average = seconds > 0 ? cpu_busy_integral_ / seconds : *s.cpu_busy_percent;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0fs", seconds);
  return "CPU " + Percent(average) + " busy for " + buf + " (threshold " +
         Threshold(config_.cpu_percent) + ")";
}

std::string PressureMonitor::check_disks(const PressureSample& s) {
  state_.disk = false;
  state_.low_disks.clear();
  std::vector<std::string> parts;
  for (const DiskUse& d : s.disks) {
    if (d.free_bytes >= config_.disk_free_min_bytes) continue;
    state_.disk = true;
    state_.low_disks.push_back(d.path);
    parts.push_back("disk: " + d.path + " has " + FormatBytes(d.free_bytes) + " free (minimum " +
                    FormatBytes(config_.disk_free_min_bytes) + ")");
  }
  return Join(parts);
}

bool PressureMonitor::note(Kind kind, const PressureSample& s, std::string message) {
  std::optional<TimePoint>& last = last_event_at_[kind];
  if (last && s.at - *last < kEventDebounce) return false;
  last = s.at;
  events_.push_back({kKindNames[kind], s.wall, std::move(message)});
  if (events_.size() > kEventsKept) events_.erase(events_.begin());
  return true;
}

}  // namespace kitty::sched
